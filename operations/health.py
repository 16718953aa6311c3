"""Whether this install can do its work: the database, Redis, each channel account's polling
and the reply queue. ``/readyz`` answers load balancers from these, and the System health
page shows them to admins."""

from dataclasses import dataclass
from datetime import datetime, timedelta

import redis
from django.conf import settings
from django.db import DatabaseError, connection
from django.db.models import Min
from django.utils import timezone

from cases.models import Message
from channels.models import ChannelAccount


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def readiness(*, now: datetime | None = None) -> list[Check]:
    """Every check, in the order the System health page lists them."""
    now = now or timezone.now()
    database = _database()
    if not database.ok:  # the rest read the database
        return [database, _redis()]
    return [database, _redis(), *_polls(now), _reply_queue(now)]


def _database() -> Check:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        return Check("database", False, f"The database does not answer: {exc}")
    return Check("database", True, f"{connection.vendor} answers.")


def _redis() -> Check:
    if not settings.REDIS_URL:
        return Check("redis", True, "No Redis configured: tasks run in the web process.")
    try:
        redis.Redis.from_url(settings.REDIS_URL, **settings.REDIS_CACHE_OPTIONS).ping()
    except redis.RedisError as exc:
        return Check("redis", False, f"Redis does not answer: {exc}")
    return Check("redis", True, "Redis answers.")


def _age(seconds: float) -> str:
    minutes = int(seconds // 60)
    return f"{minutes} min" if minutes < 120 else f"{minutes // 60} h"


def _polls(now: datetime) -> list[Check]:
    """Each enabled account's last successful poll, within ``CAREINBOX_READY_POLL_AGE``."""
    limit = timedelta(seconds=settings.CAREINBOX_READY_POLL_AGE_SECONDS)
    checks = []
    for account in ChannelAccount.objects.filter(enabled=True).order_by("platform", "name"):
        name = f"poll {account.platform} {account.name}"
        error = f" Last error: {account.last_error}" if account.last_error else ""
        if account.last_success_at is None:
            checks.append(Check(name, False, f"Never polled successfully.{error}"))
            continue
        age = now - account.last_success_at
        ok = age <= limit
        checks.append(
            Check(
                name,
                ok,
                f"Last successful poll {_age(age.total_seconds())} ago.{'' if ok else error}",
            )
        )
    return checks


def _reply_queue(now: datetime) -> Check:
    """The oldest reply not yet sent, within ``CAREINBOX_READY_REPLY_AGE``."""
    oldest = Message.objects.filter(
        direction=Message.Direction.OUTBOUND,
        delivery_status__in=[Message.Delivery.QUEUED, Message.Delivery.SENDING],
    ).aggregate(at=Min("sent_at"))["at"]
    if oldest is None:
        return Check("reply queue", True, "No reply waiting to be sent.")
    age = (now - oldest).total_seconds()
    ok = age <= settings.CAREINBOX_READY_REPLY_AGE_SECONDS
    return Check(
        "reply queue", ok, f"The oldest reply waiting to be sent was queued {_age(age)} ago."
    )
