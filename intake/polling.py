"""Polling a channel account: fetch pages from its platform, ingest them, advance its cursors."""

import logging
import random
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from channels.errors import FetchError, RateLimited
from channels.locks import exclusive
from channels.models import ChannelAccount
from channels.registry import platform_channel
from intake.services import ingest_payloads

logger = logging.getLogger(__name__)

BACKOFF_BASE_SECONDS = 30
BACKOFF_MAX_SECONDS = 30 * 60


@dataclass
class PollResult:
    account: ChannelAccount
    fetched: int = 0
    stored: int = 0
    duplicates: int = 0
    quarantined: int = 0
    # Why nothing was fetched: another poll holds the lock, or the account is backing off.
    skipped: str = ""
    error: str = ""
    quarantine_errors: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return bool(self.error)


def poll_account(*, account: ChannelAccount, force: bool = False) -> PollResult:
    """Fetch what is new on the account's platform and ingest it, page by page.

    Each page's messages and the cursors that cover them are stored in one transaction, so a
    crash re-reads a page instead of skipping it. Platform failures are recorded on the
    account, which then backs off (until the platform's reset time when it says one);
    ``force`` polls even while backing off. Only one poll per account runs at a time.
    """
    result = PollResult(account=account)
    lock_seconds = settings.CAREINBOX_POLL_LOCK_SECONDS
    with exclusive(f"poll:{account.pk}", seconds=lock_seconds) as acquired:
        if not acquired:
            result.skipped = "another poll of this account is running"
            return result
        account.refresh_from_db()
        now = timezone.now()
        if not force and account.backoff_until and account.backoff_until > now:
            result.skipped = f"backing off until {account.backoff_until:%Y-%m-%d %H:%M:%S %Z}"
            return result
        ChannelAccount.objects.filter(pk=account.pk).update(last_polled_at=now)
        channel = platform_channel(account.platform)
        try:
            for page in channel.poll(account):
                _store_page(account, channel.source, page.payloads, page.cursors, result)
        except Exception as exc:
            # The pages stored so far stay stored, with their cursors; the account backs off,
            # and the next poll starts where this one stopped.
            if not isinstance(exc, FetchError):
                logger.exception("Polling %s failed unexpectedly", account)
            _record_failure(account, exc)
            result.error = str(exc) or type(exc).__name__
            return result
        _record_success(account)
    return result


def _store_page(
    account: ChannelAccount,
    source: str,
    payloads: list[bytes],
    cursors: dict[str, str],
    result: PollResult,
) -> None:
    with transaction.atomic():
        batch = ingest_payloads(
            source=source, payloads=payloads, accounts={account.platform: account}
        )
        if cursors:
            account.poll_cursors = {**account.poll_cursors, **cursors}
            ChannelAccount.objects.filter(pk=account.pk).update(poll_cursors=account.poll_cursors)
    result.fetched += len(payloads)
    result.stored += batch.stored
    result.duplicates += batch.duplicates
    result.quarantined += len(batch.quarantined)
    result.quarantine_errors += [item.error for item in batch.quarantined]


def _record_success(account: ChannelAccount) -> None:
    ChannelAccount.objects.filter(pk=account.pk).update(
        last_success_at=timezone.now(), last_error="", poll_failures=0, backoff_until=None
    )


def _record_failure(account: ChannelAccount, exc: Exception) -> None:
    failures = account.poll_failures + 1
    if isinstance(exc, RateLimited):
        until = exc.retry_at
    else:
        # Exponential, with jitter so that accounts that failed together do not retry together.
        delay = min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2 ** (failures - 1))
        until = timezone.now() + timedelta(seconds=delay * random.uniform(0.5, 1.0))
    logger.warning("Polling %s failed (%d in a row): %s", account, failures, exc)
    ChannelAccount.objects.filter(pk=account.pk).update(
        last_error=str(exc), poll_failures=failures, backoff_until=until
    )


def due_accounts() -> list[ChannelAccount]:
    """Enabled accounts whose poll interval has passed and that are not backing off."""
    now = timezone.now()
    candidates = ChannelAccount.objects.filter(enabled=True).filter(
        Q(backoff_until__isnull=True) | Q(backoff_until__lte=now)
    )
    return [
        account
        for account in candidates
        if account.last_polled_at is None
        or account.last_polled_at + timedelta(seconds=account.poll_interval_seconds) <= now
    ]
