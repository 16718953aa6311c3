"""An incident update's public posts (a tweet, a post on the page), each posted once.

Each post is a row (``incidents.IncidentPost``) holding its status and, once posted, the
platform's id: the task claims the row before it calls the platform, so a redelivered task or
a second worker never posts it again.
"""

import logging

from django.conf import settings

from channels.errors import PermanentSendError, TransientSendError
from channels.locks import exclusive
from channels.registry import platform_channel
from incidents.models import IncidentPost

logger = logging.getLogger(__name__)

MAX_POST_ATTEMPTS = 6
_OPEN = (IncidentPost.Status.QUEUED, IncidentPost.Status.SENDING)


def publish_post(*, post_id: int) -> None:
    """Post an update's public text on its account. Safe to repeat: a post already made or
    given up is left alone, and any attempt after the first looks for the post first.
    Raises ``TransientSendError`` when the platform may take it later (the row stays queued
    for the retry), until the last attempt marks it failed."""
    with exclusive(f"incident-post:{post_id}", seconds=settings.CAREINBOX_SEND_LOCK_SECONDS) as ok:
        if not ok:
            return  # another worker is posting it right now
        post = IncidentPost.objects.select_related("account", "update").get(pk=post_id)
        attempts = post.attempts + 1
        claimed = IncidentPost.objects.filter(pk=post.pk, status__in=_OPEN).update(
            status=IncidentPost.Status.SENDING, attempts=attempts
        )
        if not claimed:
            return
        plug = platform_channel(post.account.platform)
        if plug.post_public is None:
            _finish(post, status=IncidentPost.Status.FAILED, error="This platform has no feed.")
            return
        text = post.update.public_text
        try:
            # An earlier attempt may have reached the platform however it ended here (a lost
            # answer, a killed worker): look for it before posting again.
            find = plug.find_public if post.attempts else None
            external_id = find(post.account, text) if find else None
            if external_id is None:
                external_id = plug.post_public(post.account, text)
        except PermanentSendError as exc:
            _finish(post, status=IncidentPost.Status.FAILED, error=str(exc))
            return
        except TransientSendError as exc:
            if attempts >= MAX_POST_ATTEMPTS:
                error = f"Gave up after {attempts} tries: {exc}"
                _finish(post, status=IncidentPost.Status.FAILED, error=error)
                return
            _finish(post, status=IncidentPost.Status.QUEUED, error=str(exc))
            raise
        _finish(post, status=IncidentPost.Status.POSTED, external_id=external_id)


def _finish(post: IncidentPost, *, status: str, error: str = "", external_id: str = "") -> None:
    if status == IncidentPost.Status.FAILED:
        logger.warning("Incident post %s failed: %s", post.pk, error)
    IncidentPost.objects.filter(pk=post.pk, status=IncidentPost.Status.SENDING).update(
        status=status, error=error, external_id=external_id
    )
