"""Spam hidden on the platform too, where the account says so: a bot's comment under the
brand's Facebook post is hidden on the page (Facebook keeps it, seen only by its author), so
the people reading the thread are not confused by it. CareInbox keeps it as it keeps all
spam: stored, with its reason, in the Spam queue.

Off by default: an account hides spam only with ``"hide_spam_comments": true`` in its
settings. Runs after the ingest that found the spam commits, as a Celery task, so the
platform's answer never holds up ingest.
"""

import logging
from collections.abc import Iterable

from cases import history
from cases.models import CaseEvent, Message
from channels.errors import PermanentSendError
from channels.models import ChannelAccount
from channels.registry import platform_channel

logger = logging.getLogger(__name__)

SETTING = "hide_spam_comments"
# The kinds of message a page can hide.
HIDEABLE = {"facebook.comment"}


def hides_spam(account: ChannelAccount | None) -> bool:
    return account is not None and bool((account.settings or {}).get(SETTING))


def to_hide(messages: Iterable[Message], accounts: dict[int, ChannelAccount]) -> list[int]:
    """The ids of the spam ``messages`` their account (of ``accounts``, by id) hides."""
    return [
        m.pk
        for m in messages
        if m.spam_reason
        and m.channel in HIDEABLE
        and m.channel_account_id is not None
        and hides_spam(accounts.get(m.channel_account_id))
    ]


def hide_spam(*, message_ids: list[int]) -> list[int]:
    """Hide these spam messages on their platforms; returns the ids of those hidden. One
    that cannot be hidden is logged and left as it is: it stays spam here either way.
    Raises ``TransientSendError`` when a platform may take it later (the task retries)."""
    hidden = []
    # Hidden by an earlier run of the task that a platform's failure cut short.
    done = CaseEvent.objects.filter(kind=CaseEvent.Kind.HIDDEN, message__in=message_ids)
    messages = (
        Message.objects.filter(pk__in=message_ids)
        .exclude(pk__in=done.values("message_id"))
        .select_related("channel_account", "case")
    )
    for message in messages:
        account = message.channel_account
        hide = platform_channel(account.platform).hide if account else None
        if not message.spam_reason or not hides_spam(account) or hide is None:
            continue  # "Not spam" since, or the setting turned off
        assert account is not None and message.external_id
        try:
            hide(account, message.external_id)
        except PermanentSendError:
            logger.warning("Spam message %s could not be hidden", message.pk, exc_info=True)
            continue
        history.record(
            case=message.case,
            kind=CaseEvent.Kind.HIDDEN,
            message=message,
            data={"platform": account.platform, "reason": message.spam_reason},
        )
        hidden.append(message.pk)
    return hidden
