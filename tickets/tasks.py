from celery import shared_task
from django.utils import timezone

from tickets import sla


@shared_task
def check_sla_breaches_task() -> None:
    """Beat runs this every ``CAREINBOX_SLA_CHECK_SECONDS``; idempotent, and safe in two
    workers at once."""
    sla.record_breaches(now=timezone.now())
