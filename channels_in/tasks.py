from celery import shared_task

from channels_in.models import ChannelAccount
from channels_in.outbound import due_replies, send_reply
from channels_in.polling import due_accounts, poll_account


@shared_task
def poll_account_task(account_id: int) -> None:
    poll_account(account=ChannelAccount.objects.get(pk=account_id))


@shared_task
def poll_due_accounts_task() -> None:
    """Beat runs this every few seconds; each due account is polled by a worker."""
    for account in due_accounts():
        poll_account_task.delay(account.pk)


@shared_task(acks_late=True)
def send_reply_task(message_id: int) -> None:
    send_reply(message_id=message_id)


@shared_task
def retry_due_replies_task() -> None:
    """Beat runs this every few seconds: replies due a retry, or whose worker died."""
    for message_id in due_replies():
        send_reply_task.delay(message_id)
