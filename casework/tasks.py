from celery import shared_task
from django.utils import timezone

from cases.services import compact_case_counts
from casework import assignment, breaches, hiding, linking, praise, surveys
from casework.delivery import due_replies, send_reply
from casework.incident_posts import publish_post
from channels.errors import TransientSendError


@shared_task
def check_sla_breaches_task() -> None:
    """Beat runs this every ``CAREINBOX_SLA_CHECK_SECONDS``; idempotent, and safe in two
    workers at once."""
    breaches.record_breaches(now=timezone.now())


@shared_task
def assign_waiting_cases_task() -> None:
    """Beat runs this every ``CAREINBOX_AUTO_ASSIGN_TICK_SECONDS``: cases no one could take
    at ingest go out as agents come online or finish work."""
    assignment.assign_waiting()


@shared_task(acks_late=True)
def send_reply_task(message_id: int) -> None:
    send_reply(message_id=message_id)


@shared_task
def retry_due_replies_task() -> None:
    """Beat runs this every few seconds: replies due a retry, or whose worker died."""
    for message_id in due_replies():
        send_reply_task.delay(message_id)


@shared_task
def link_customers_task(message_ids: list[int]) -> None:
    """Ingest queues this after each batch commits: merging locks customers, and ingest
    holds them until then."""
    linking.link_customers_of(message_ids=message_ids)


@shared_task
def compact_case_counts_task() -> None:
    """Beat runs this every minute: the queue counts stay a read of a few rows."""
    compact_case_counts()


@shared_task
def send_praise_task(mails: list[list]) -> None:
    """Ingest queues this after a batch with praise commits: (subject, body, recipients)."""
    praise.send_praise_mails(mails)


@shared_task(bind=True, acks_late=True, max_retries=5)
def hide_spam_task(self, message_ids: list[int]) -> None:
    """Ingest queues this after a batch with spam its accounts hide commits."""
    try:
        hiding.hide_spam(message_ids=message_ids)
    except TransientSendError as exc:
        raise self.retry(exc=exc, countdown=60 * 2**self.request.retries) from exc


@shared_task(acks_late=True)
def offer_survey_task(case_id: int) -> None:
    """Queued on the commit of a resolution, after ``CAREINBOX_SURVEY_DELAY_MINUTES``: a case
    reopened meanwhile gets no survey. The survey message is sent like any reply (if this
    worker dies first, beat's retry_due_replies sends it)."""
    survey = surveys.offer_survey(case_id=case_id)
    if survey is not None:
        send_reply_task.delay(survey.message_id)


@shared_task(bind=True, acks_late=True, max_retries=8)
def post_incident_update_task(self, post_id: int) -> None:
    """Posting an incident update queues this, one per account, after its commit."""
    try:
        publish_post(post_id=post_id)
    except TransientSendError as exc:
        raise self.retry(exc=exc, countdown=min(600, 5 * 2**self.request.retries)) from exc
