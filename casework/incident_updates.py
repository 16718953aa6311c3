"""Going proactive on an incident: one public update posted on the brand's accounts, and one
reply template sent to every linked case on its own channel; closing the incident the same
way, then resolving its cases.

Public posts leave through ``casework.incident_posts`` after the commit. Replies go through
the ordinary outbound queue (``casework.replies.queue_reply``: signed, checked against what
the platform accepts, sent after the commit with its retries). ``IncidentReply`` holds one
row per (update, case), so a second click or a retried request answers no one twice.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from cases import history
from cases.models import Case, CaseEvent, Message
from cases.services import change_status
from casework.actions import fill_placeholders, offer_survey_later
from casework.exceptions import ActionNotAllowed, ReplyNotPossible
from casework.replies import queue_reply, sign_reply
from casework.tasks import post_incident_update_task
from channels.errors import PermanentSendError
from channels.models import ChannelAccount
from channels.registry import PLATFORMS, platform_channel
from incidents.models import Incident, IncidentPost, IncidentReply, IncidentUpdate
from staff.names import display_name
from staff.roles import MANAGE_INCIDENTS

CLOSED_REASON = "incident closed"


@dataclass
class UpdateResult:
    """What an update did: the cases answered now, those answered before (by this update),
    and those that could not be answered, with the reason."""

    update: IncidentUpdate
    replied: list[int] = field(default_factory=list)
    already: list[int] = field(default_factory=list)
    refused: dict[int, str] = field(default_factory=dict)
    resolved: list[int] = field(default_factory=list)
    kept_open: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class PostPreview:
    account: ChannelAccount
    text: str
    problem: str  # why the platform would refuse it; empty when it would not


@dataclass(frozen=True)
class ReplyPreview:
    case: Case
    channel: str
    text: str


@dataclass(frozen=True)
class Preview:
    """What posting would do: the public post on each account, a few of the personalised
    replies, and how many cases on which channels get one."""

    posts: list[PostPreview]
    replies: list[ReplyPreview]
    cases: int
    channels: dict[str, int]


@dataclass(frozen=True)
class IncidentActions:
    """What the incident page shows of going proactive: the latest update, its public posts
    (status per account), how many cases it answered and how many joined since."""

    incident: Incident
    update: IncidentUpdate | None
    posts: list[IncidentPost]
    answered: int
    late: int


def incident_actions(incident: Incident) -> IncidentActions:
    update = latest_update(incident)
    posts = (
        list(update.posts.select_related("account").order_by("account__name")) if update else []
    )
    resolved = incident.status == Incident.Status.RESOLVED
    return IncidentActions(
        incident=incident,
        update=update,
        posts=posts,
        answered=update.replies.count() if update else 0,
        late=0 if resolved else len(late_cases(incident)),
    )


def posting_accounts() -> list[ChannelAccount]:
    """The brand's enabled accounts whose platform has a public feed to post on."""
    platforms = [name for name, plug in PLATFORMS.items() if plug.post_public is not None]
    return list(
        ChannelAccount.objects.filter(platform__in=platforms, enabled=True).order_by("name")
    )


def latest_update(incident: Incident) -> IncidentUpdate | None:
    return incident.updates.order_by("-created_at", "-pk").first()


def late_cases(incident: Incident) -> list[Case]:
    """Linked cases that have not had the latest update's reply: those whose messages joined
    the incident after it went out, or whose channel refused it. Empty before the first
    update."""
    update = latest_update(incident)
    if update is None:
        return []
    answered = IncidentReply.objects.filter(update=update).values_list("case_id", flat=True)
    ids = set(_answering(incident.pk)) - set(answered)
    return list(Case.objects.filter(pk__in=ids).select_related("customer").order_by("pk"))


def preview_update(
    *, incident_id: int, by: User, public_text: str, reply_template: str, account_ids: list[int]
) -> Preview:
    """What ``post_update`` would post and send, for the supervisor to check first."""
    _require(by)
    accounts = _accounts(account_ids)
    answering = _answering(incident_id)
    replies = [
        ReplyPreview(case=m.case, channel=m.channel, text=_reply_text(reply_template, m, by))
        for m in list(answering.values())[:3]
    ]
    text = public_text.strip()
    return Preview(
        posts=[PostPreview(a, text, _post_problem(a, text)) for a in accounts],
        replies=replies,
        cases=len(answering),
        channels=dict(Counter(m.channel for m in answering.values())),
    )


def post_update(
    *,
    incident_id: int,
    by: User,
    public_text: str,
    reply_template: str,
    account_ids: list[int],
    kind: str = IncidentUpdate.Kind.UPDATE,
) -> UpdateResult:
    """Store an update, post its public text on the accounts given (after the commit) and
    queue its reply on every linked case. Posting the same texts again is the same update:
    nothing is posted twice, a post still waiting or failed is tried again, and cases already
    answered are skipped.

    Raises ``ActionNotAllowed`` for someone who may not, a resolved incident or an account
    that cannot post, and ``ReplyNotPossible`` for an empty reply template.
    """
    _require(by)
    if not reply_template.strip():
        raise ReplyNotPossible("The reply to the linked cases is empty; write one to send.")
    accounts = _accounts(account_ids)
    if accounts and not public_text.strip():
        raise ActionNotAllowed("The public post is empty; write one, or choose no accounts.")
    for account in accounts:
        if problem := _post_problem(account, public_text):
            raise ActionNotAllowed(f"{account.name}: {problem}")
    with transaction.atomic():
        incident = Incident.objects.select_for_update().get(pk=incident_id)
        if incident.status == Incident.Status.RESOLVED:
            raise ActionNotAllowed(f"Incident {incident_id} is resolved; it takes no updates.")
        update = latest_update(incident)
        same = update is not None and (update.kind, update.public_text, update.reply_template) == (
            kind,
            public_text.strip(),
            reply_template.strip(),
        )
        if not same:
            update = IncidentUpdate.objects.create(
                incident=incident,
                kind=kind,
                public_text=public_text.strip(),
                reply_template=reply_template.strip(),
                author=by,
                created_at=timezone.now(),
            )
        assert update is not None
        # A repeated update posts on accounts it was not posted on yet, and tries again the
        # posts still waiting (a retry the broker lost) or given up; those made stay made.
        have = set(update.posts.values_list("account_id", flat=True)) if same else set()
        new_posts = IncidentPost.objects.bulk_create(
            [IncidentPost(update=update, account=a) for a in accounts if a.pk not in have]
        )
        again = update.posts.filter(
            account__in=[a.pk for a in accounts if a.pk in have],
            status__in=[IncidentPost.Status.QUEUED, IncidentPost.Status.FAILED],
        )
        again_ids = list(again.values_list("pk", flat=True))
        again.update(status=IncidentPost.Status.QUEUED)
        for post_id in [p.pk for p in new_posts] + again_ids:
            transaction.on_commit(partial(post_incident_update_task.delay, post_id), robust=True)
        if incident.status == Incident.Status.PROPOSED:
            incident.status = Incident.Status.OPEN  # telling customers confirms it
            incident.save(update_fields=["status"])
    return _reply_to(update, _answering(incident_id), by=by)


def send_latest_to_late(*, incident_id: int, by: User) -> UpdateResult:
    """The supervisor approves sending the latest update to the cases that joined since.
    Raises ``ActionNotAllowed`` when there is no update yet or the incident is resolved."""
    _require(by)
    incident = Incident.objects.get(pk=incident_id)
    update = latest_update(incident)
    if incident.status == Incident.Status.RESOLVED:
        raise ActionNotAllowed(f"Incident {incident_id} is resolved; it takes no updates.")
    if update is None:
        raise ActionNotAllowed(f"Incident {incident_id} has no update to send yet.")
    late = {c.pk for c in late_cases(incident)}
    answering = {pk: m for pk, m in _answering(incident_id).items() if pk in late}
    return _reply_to(update, answering, by=by)


def close_incident(
    *,
    incident_id: int,
    by: User,
    public_text: str,
    reply_template: str,
    account_ids: list[int],
    surveys: bool = False,
) -> UpdateResult:
    """Post the closing update publicly and to every linked case, resolve those cases, and
    mark the incident resolved. A case stays open when its customer wrote after the last
    update reached them (they asked something since), or when it could not be answered.
    The resolved cases' customers get a satisfaction survey only when ``surveys`` is set."""
    previous = latest_update(Incident.objects.get(pk=incident_id))
    result = post_update(
        incident_id=incident_id,
        by=by,
        public_text=public_text,
        reply_template=reply_template,
        account_ids=account_ids,
        kind=IncidentUpdate.Kind.CLOSING,
    )
    answered = set(result.replied) | set(result.already)
    last_reached = _last_reply_at(previous, answered)
    with transaction.atomic():
        cases = Case.objects.select_for_update().filter(pk__in=sorted(answered)).order_by("pk")
        for case in cases:
            reached = last_reached.get(case.pk)
            wrote_since = reached is not None and (
                Message.objects.filter(
                    case=case, direction=Message.Direction.INBOUND, sent_at__gt=reached
                ).exists()
            )
            if wrote_since:
                result.kept_open.append(case.pk)
            elif case.status not in (Case.Status.RESOLVED, Case.Status.CLOSED):
                change_status(case, Case.Status.RESOLVED, reason=CLOSED_REASON, actor=by)
                result.resolved.append(case.pk)
                if surveys:
                    offer_survey_later(case_id=case.pk)
        Incident.objects.filter(pk=incident_id).update(status=Incident.Status.RESOLVED)
    return result


def _require(user: User) -> None:
    if not user.has_perm(MANAGE_INCIDENTS):
        raise ActionNotAllowed(f"{display_name(user)} may not post incident updates.")


def _accounts(account_ids: list[int]) -> list[ChannelAccount]:
    chosen = {a.pk: a for a in posting_accounts() if a.pk in set(account_ids)}
    if missing := set(account_ids) - set(chosen):
        raise ActionNotAllowed(
            f"Account {min(missing)} cannot post publicly (disabled, or not X or Facebook)."
        )
    return [chosen[pk] for pk in sorted(chosen)]


def _post_problem(account: ChannelAccount, text: str) -> str:
    """Why the account's platform would refuse ``text``, checked before anything is posted."""
    check = platform_channel(account.platform).sender.check
    if check is None:
        return ""
    try:
        check(f"{account.platform}.post", text.strip(), timezone.now())
    except PermanentSendError as exc:
        return str(exc)
    return ""


def _answering(incident_id: int) -> dict[int, Message]:
    """Each linked case, by id, with its latest customer message linked to the incident: the
    reply goes on that message's channel. Closed and merged-away cases are left out."""
    messages = (
        Message.objects.filter(
            incident_link__incident_id=incident_id, direction=Message.Direction.INBOUND
        )
        .exclude(case__status=Case.Status.CLOSED)
        .select_related("case__customer", "channel_account", "author_identity")
        .order_by("case_id", "-sent_at", "-pk")
    )
    latest: dict[int, Message] = {}
    for message in messages:
        latest.setdefault(message.case_id, message)
    return latest


def _reply_text(template: str, answering: Message, by: User) -> str:
    text = fill_placeholders(text=template, case=answering.case, agent=by)
    return sign_reply(text=text, channel=answering.channel, agent=by)


def _reply_to(update: IncidentUpdate, answering: dict[int, Message], *, by: User) -> UpdateResult:
    """Queue the update's reply on each case not yet answered by it, one case at a time (a
    case the platform refuses is listed and the rest go on)."""
    result = UpdateResult(update=update)
    done = set(
        IncidentReply.objects.filter(update=update, case_id__in=answering).values_list(
            "case_id", flat=True
        )
    )
    incident = update.incident
    for case_id, message in sorted(answering.items()):
        if case_id in done:
            result.already.append(case_id)
            continue
        text = fill_placeholders(text=update.reply_template, case=message.case, agent=by)
        try:
            with transaction.atomic():
                case = Case.objects.select_for_update().get(pk=case_id)
                if IncidentReply.objects.filter(update=update, case=case).exists():
                    result.already.append(case_id)  # a concurrent request answered it
                    continue
                reply = queue_reply(case=case, agent=by, text=text, answering=message)
                IncidentReply.objects.create(update=update, case=case, message=reply)
                history.record(
                    case=case,
                    kind=CaseEvent.Kind.INCIDENT_UPDATE,
                    actor=by,
                    message=reply,
                    data={
                        "incident": incident.pk,
                        "title": incident.title,
                        "update": update.pk,
                        "kind": update.kind,
                        "channel": reply.channel,
                    },
                )
        except ReplyNotPossible as exc:
            result.refused[case_id] = str(exc)
            continue
        except IntegrityError:
            result.already.append(case_id)
            continue
        result.replied.append(case_id)
    return result


def _last_reply_at(update: IncidentUpdate | None, case_ids: set[int]) -> dict[int, datetime]:
    """When each case got the incident's last update before closing, by case id."""
    if update is None:
        return {}
    return dict(
        IncidentReply.objects.filter(update__incident=update.incident, case_id__in=case_ids)
        .exclude(update__kind=IncidentUpdate.Kind.CLOSING)
        .order_by("case_id", "message__sent_at")
        .values_list("case_id", "message__sent_at")
    )
