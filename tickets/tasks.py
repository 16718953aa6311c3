from celery import shared_task
from django.utils import timezone

from tickets import assignment, sla


@shared_task
def check_sla_breaches_task() -> None:
    """Beat runs this every ``CAREINBOX_SLA_CHECK_SECONDS``; idempotent, and safe in two
    workers at once."""
    sla.record_breaches(now=timezone.now())


@shared_task
def assign_waiting_cases_task() -> None:
    """Beat runs this every ``CAREINBOX_AUTO_ASSIGN_TICK_SECONDS``: cases no one could take
    at ingest go out as agents come online or finish work."""
    assignment.assign_waiting()
