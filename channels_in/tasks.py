import random

from celery import shared_task

from channels_in.errors import TransientSendError
from channels_in.models import ChannelAccount
from channels_in.outbound import fail_reply, send_reply
from channels_in.polling import due_accounts, poll_account


@shared_task
def poll_account_task(account_id: int) -> None:
    poll_account(account=ChannelAccount.objects.get(pk=account_id))


@shared_task
def poll_due_accounts_task() -> None:
    """Beat runs this every few seconds; each due account is polled by a worker."""
    for account in due_accounts():
        poll_account_task.delay(account.pk)


SEND_RETRIES = 8


@shared_task(bind=True, acks_late=True, max_retries=SEND_RETRIES)
def send_reply_task(self, message_id: int) -> None:
    try:
        send_reply(message_id=message_id)
    except TransientSendError as exc:
        if self.request.retries >= SEND_RETRIES:
            fail_reply(message_id=message_id, error=f"Gave up after {SEND_RETRIES} tries: {exc}")
            return
        # 5 s, 10 s, 20 s ... at most 10 minutes, with jitter.
        delay = min(600, 5 * 2**self.request.retries) * random.uniform(0.5, 1.0)
        raise self.retry(exc=exc, countdown=delay) from exc
