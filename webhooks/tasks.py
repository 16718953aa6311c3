from celery import shared_task

from webhooks.delivery import deliver, due_deliveries


@shared_task(acks_late=True)
def deliver_task(delivery_id: str) -> None:
    deliver(delivery_id)


@shared_task
def deliver_due_webhooks_task() -> None:
    """Beat runs this every few seconds (without a broker, the demo's poll loop does): retries
    whose time has come, replays, and deliveries no worker was handed."""
    for delivery_id in due_deliveries():
        deliver_task.delay(str(delivery_id))
