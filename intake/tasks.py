from celery import shared_task

from channels.models import ChannelAccount
from intake.polling import due_accounts, poll_account


@shared_task
def poll_account_task(account_id: int) -> None:
    poll_account(account=ChannelAccount.objects.get(pk=account_id))


@shared_task
def poll_due_accounts_task() -> None:
    """Beat runs this every few seconds; each due account is polled by a worker."""
    for account in due_accounts():
        poll_account_task.delay(account.pk)
