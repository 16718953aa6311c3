from celery import shared_task
from django.core.cache import cache

from channels.models import ChannelAccount
from intake.polling import due_accounts, poll_account
from intake.webhooks.deliveries import claim_deliveries, ingest_claimed

# Set while a drain task is queued and not yet started: deliveries arriving meanwhile are
# left to it instead of each queueing a task of its own.
DRAIN_QUEUED = "intake:drain-queued"
DRAIN_QUEUED_SECONDS = 60


@shared_task
def poll_account_task(account_id: int) -> None:
    poll_account(account=ChannelAccount.objects.get(pk=account_id))


@shared_task
def poll_due_accounts_task() -> None:
    """Beat runs this every few seconds; each due account is polled by a worker."""
    for account in due_accounts():
        poll_account_task.delay(account.pk)


def drain_soon() -> None:
    """Have a worker ingest the waiting webhook deliveries, unless one is already queued to."""
    if cache.add(DRAIN_QUEUED, True, DRAIN_QUEUED_SECONDS):
        drain_webhook_deliveries_task.delay()


@shared_task
def drain_webhook_deliveries_task() -> None:
    """Ingest one claim of waiting webhook deliveries. Queued after a delivery arrives, and
    by beat as a safety net (a lost task, an expired claim). When more wait than one claim
    takes, the next drain is queued before this one ingests, so another worker shares it."""
    cache.delete(DRAIN_QUEUED)
    claim = claim_deliveries()
    if claim.more_waiting:
        drain_soon()
    if claim.deliveries:
        ingest_claimed(claim.deliveries)
