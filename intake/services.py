"""From platform payloads to cases: normalise, ingest, and quarantine what fails."""

import hashlib
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from django.conf import settings
from django.db import DataError, transaction
from django.db.models import F
from django.utils import timezone

from casework.ingest import ingest_batch
from channels.errors import MalformedPayload, UnsupportedEvent
from channels.inbound import InboundMessage
from channels.models import ChannelAccount
from channels.plug import Source
from channels.registry import platform_channel
from intake.models import QuarantinedPayload

logger = logging.getLogger(__name__)


# Sources of payloads that are not a platform's, by name: the demo's sample loader registers
# "sample" when it is installed.
EXTRA_SOURCES: dict[str, Source] = {}


def register_source(name: str, source: Source) -> None:
    EXTRA_SOURCES[name] = source


def payload_source(name: str) -> Source:
    """The payload source a quarantined payload or a batch names: a platform, or a registered
    source such as "sample". Raises ``LookupError`` for one that is neither."""
    if name in EXTRA_SOURCES:
        return EXTRA_SOURCES[name]
    return Source(normalise=platform_channel(name).normalise)


# Failures that belong to one payload. Anything else (the database is down) stops the batch,
# so the caller's cursor does not move past payloads that were never tried.
PAYLOAD_ERRORS = (MalformedPayload, UnsupportedEvent, DataError)


@dataclass
class BatchResult:
    stored: int = 0
    duplicates: int = 0
    quarantined: list[QuarantinedPayload] = field(default_factory=list)


def ingest_payloads(
    *,
    source: str,
    payloads: Iterable[bytes],
    accounts: Mapping[str, ChannelAccount],
) -> BatchResult:
    """Normalise and ingest a batch of raw payloads; each failure goes to quarantine and the
    rest of the batch goes on.

    ``accounts`` maps a platform to the channel account its messages arrived on. Messages
    are ingested in platform-time order, so a batch gives the same cases in any order.
    """
    normalise = payload_source(source).normalise
    result = BatchResult()
    ready: list[tuple[InboundMessage, bytes]] = []
    for raw in payloads:
        try:
            ready.append((normalise(raw), raw))
        except Exception as exc:
            # Normalising reads only the payload: whatever fails there is this payload's
            # problem, a normaliser's bug included, and must not stop the ones after it.
            if not isinstance(exc, PAYLOAD_ERRORS):
                logger.exception("Normalising a %s payload failed unexpectedly", source)
            error = str(exc) if isinstance(exc, PAYLOAD_ERRORS) else _unexpected(exc)
            # A platform's payload came from its account, so a retry knows where it belongs.
            account = accounts.get(source)
            result.quarantined.append(
                quarantine_payload(source=source, raw=raw, error=error, account=account)
            )
    ready.sort(key=lambda item: (item[0].sent_at, item[0].channel, item[0].external_id))
    arrivals: list[Arrival] = []
    for inbound, raw in ready:
        account = accounts.get(inbound.platform)
        if account is None:
            error = f"No {inbound.platform} channel account is connected for this message."
            result.quarantined.append(quarantine_payload(source=source, raw=raw, error=error))
        else:
            arrivals.append(Arrival(account, inbound, raw))
    size = settings.CAREINBOX_INGEST_CHUNK
    for start in range(0, len(arrivals), size):
        _ingest_chunk(arrivals[start : start + size], source=source, result=result)
    return result


def _unexpected(exc: Exception) -> str:
    return f"Could not be read ({type(exc).__name__}: {exc}); retry it once that is fixed."


@dataclass(frozen=True)
class Arrival:
    account: ChannelAccount
    inbound: InboundMessage
    raw: bytes


def _ingest_chunk(chunk: list[Arrival], *, source: str, result: BatchResult) -> None:
    """Ingest ``chunk`` in one transaction. A chunk that fails on a payload's data is split in
    halves until the payload is found; it goes to quarantine and the rest lands."""
    try:
        ingested = ingest_batch(arrivals=[(a.account, a.inbound) for a in chunk])
    except PAYLOAD_ERRORS as exc:
        if len(chunk) > 1:
            half = len(chunk) // 2
            _ingest_chunk(chunk[:half], source=source, result=result)
            _ingest_chunk(chunk[half:], source=source, result=result)
            return
        (arrival,) = chunk
        logger.warning("Quarantined %s payload: %s", source, exc, exc_info=True)
        result.quarantined.append(
            quarantine_payload(
                source=source, raw=arrival.raw, error=str(exc), account=arrival.account
            )
        )
        return
    duplicates = sum(r.duplicate for r in ingested)
    result.duplicates += duplicates
    result.stored += len(ingested) - duplicates


def quarantine_payload(
    *, source: str, raw: bytes, error: str, account: ChannelAccount | None = None
) -> QuarantinedPayload:
    """Keep a payload that could not be ingested. The same payload again counts an attempt."""
    digest = hashlib.sha256(raw).hexdigest()
    with transaction.atomic():
        item, created = QuarantinedPayload.objects.select_for_update().get_or_create(
            source=source,
            sha256=digest,
            defaults={"raw_payload": raw, "error": error, "channel_account": account},
        )
        if not created:
            QuarantinedPayload.objects.filter(pk=item.pk).update(
                attempts=F("attempts") + 1,
                error=error,
                last_seen_at=timezone.now(),
                status=QuarantinedPayload.Status.PENDING,
            )
            item.refresh_from_db()
    return item


def retry_quarantined(*, item: QuarantinedPayload) -> bool:
    """Run a quarantined payload through its normaliser and ingest again.

    Returns whether it is now stored; on failure the row records the new error.
    """
    account = item.channel_account
    accounts: Mapping[str, ChannelAccount]
    if account is not None:
        accounts = {account.platform: account}
    else:
        default_accounts = payload_source(item.source).accounts
        if default_accounts is None:
            QuarantinedPayload.objects.filter(pk=item.pk).update(
                error=f"{item.error} (Not retried: no channel account is named for it.)"
            )
            return False
        accounts = default_accounts()
    result = ingest_payloads(
        source=item.source, payloads=[bytes(item.raw_payload)], accounts=accounts
    )
    if result.quarantined:
        return False
    QuarantinedPayload.objects.filter(pk=item.pk).update(status=QuarantinedPayload.Status.INGESTED)
    return True


def discard_quarantined(*, item: QuarantinedPayload) -> None:
    """Mark a quarantined payload as not to be ingested. The payload itself is kept."""
    QuarantinedPayload.objects.filter(pk=item.pk).update(
        status=QuarantinedPayload.Status.DISCARDED
    )
