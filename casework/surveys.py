"""Satisfaction surveys: offered once a case is resolved, only on the customer's own private
channel (an X direct message, Messenger inside its 24-hour window, or an email with a link to
the survey page), never as a public reply, never on spam, and at most once per customer in
``CAREINBOX_SURVEY_THROTTLE_DAYS``.

A survey is an outbound message on the case, sent through the ordinary reply queue
(``casework.delivery``: retries, sent once), marked ``automated="survey"`` with no author: it
is not an agent's reply, so it stops no clock, counts in no response time and records no
"reply sent". The customer answers by a short reply (read at ingest, ``casework.ingest``
``find_survey_answers``) or on the survey page (``answer_survey``); neither reopens the case.
"""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from cases.models import Case, Message, Survey
from customers.models import Customer

SURVEY = "survey"  # Message.automated of the outbound survey message
# The private channels a survey may go on, and where a customer who wrote on each is asked.
ASKED_ON = {
    "x.dm": "x.dm",
    "x.mention": "x.dm",
    "facebook.message": "facebook.message",
    "email": "email",
}
# Messenger lets a page write to someone only within 24 hours of their last message, and a
# survey is not what the HUMAN_AGENT tag allows beyond it.
# https://developers.facebook.com/docs/messenger-platform/policy/policy-overview/
MESSENGER_WINDOW = timedelta(hours=24)


class SurveyNotFound(Exception):
    """No survey has this token."""

    def __init__(self) -> None:
        super().__init__("There is no survey at this address; the link may be mistyped.")


@dataclass(frozen=True)
class PageAnswer:
    survey: Survey
    recorded: bool  # False when the survey had been answered already: nothing changed


def offer_survey(*, case_id: int, now: datetime | None = None) -> Survey | None:
    """Queue a survey for the case's customer when one is due: the case is still resolved, not
    spam, not merged; the customer had no survey in the throttle's days; and they wrote on
    this case on a channel with a private answer. Returns the survey, or None when none is
    due. Safe to repeat: a case gets one survey per resolution."""
    if not settings.CAREINBOX_SURVEYS:
        return None
    now = now or timezone.now()
    customer_id = Case.objects.filter(pk=case_id).values_list("customer_id", flat=True).first()
    if customer_id is None:
        return None
    with transaction.atomic():
        # Customers, then cases, as every service locks them.
        Customer.objects.select_for_update().filter(pk=customer_id).first()
        case = Case.objects.select_for_update().get(pk=case_id)
        if (
            case.status != Case.Status.RESOLVED
            or case.spam
            or case.merged_into_id is not None
            or case.customer_id != customer_id
        ):
            return None
        throttle = timedelta(days=settings.CAREINBOX_SURVEY_THROTTLE_DAYS)
        recent = Survey.objects.filter(customer_id=customer_id, sent_at__gt=now - throttle)
        if recent.exists() or case.surveys.filter(sent_at__gte=case.resolved_at or now).exists():
            return None
        answering = _private_answering(case, now)
        if answering is None:
            return None
        account = answering.channel_account
        assert account is not None  # _private_answering reads only messages with one
        channel = ASKED_ON[answering.channel]
        token = secrets.token_urlsafe(32)
        message = Message.objects.create(
            case=case,
            direction=Message.Direction.OUTBOUND,
            channel_account=account,
            channel=channel,
            in_reply_to_external_id=answering.external_id or "",
            parent=answering,
            automated=SURVEY,
            text=survey_text(channel=channel, token=token),
            subject=f"How did we do? [#{case.pk}]" if channel == "email" else "",
            sent_at=now,
            delivery_status=Message.Delivery.QUEUED,
            delivery_next_attempt_at=now,
        )
        return Survey.objects.create(
            case=case,
            customer_id=customer_id,
            channel_account=account,
            channel=channel,
            message=message,
            agent_id=case.assignee_id,
            team_id=case.team_id,
            sent_at=now,
            token=token,
        )


def _private_answering(case: Case, now: datetime) -> Message | None:
    """The customer's latest message on the case that a private survey can answer: any on X
    (a direct message reaches an X user who wrote publicly too), an email, or a Messenger
    message inside Messenger's window. A public post or comment on Facebook has none."""
    written = (
        case.messages.filter(
            direction=Message.Direction.INBOUND,
            author_identity__customer_id=case.customer_id,
            channel__in=list(ASKED_ON),
            automated="",
            spam_reason="",
            channel_account__isnull=False,
        )
        .select_related("channel_account")
        .order_by("-sent_at", "-pk")
    )
    for message in written:
        if message.channel != "facebook.message" or now - message.sent_at < MESSENGER_WINDOW:
            return message
    return None


def survey_link(token: str) -> str:
    return settings.CAREINBOX_SITE_URL.rstrip("/") + reverse("workspace:survey", args=[token])


def survey_text(*, channel: str, token: str) -> str:
    """What the customer reads: the question, how to answer, and the survey page's link (on a
    direct message only where the site's address is set, since a bare path is no link)."""
    question = (
        "Your case is resolved. How did we do? Reply with a number from 1 (poor) to 5 (excellent)."
    )
    if channel == "email":
        return (
            f"Hello,\n\n{question}\n\nOr answer with one click here:\n{survey_link(token)}"
            "\n\nThank you for telling us."
        )
    if settings.CAREINBOX_SITE_URL:
        return f"{question} Or answer here: {survey_link(token)}"
    return question


def survey_for(*, token: str) -> Survey:
    """The survey at this link. Raises ``SurveyNotFound``."""
    survey = Survey.objects.select_related("case").filter(token=token).first()
    if survey is None:
        raise SurveyNotFound()
    return survey


def answer_survey(
    *, token: str, score: int, nps: int | None = None, now: datetime | None = None
) -> PageAnswer:
    """Record an answer given on the survey page, once: a survey answered already (by page or
    by reply) keeps its first answer. Raises ``SurveyNotFound``, and ``ValueError`` for a
    score outside 1-5 or an NPS outside 0-10."""
    if not 1 <= score <= 5:
        raise ValueError(f"A score is from 1 to 5, not {score}.")
    if nps is not None and not 0 <= nps <= 10:
        raise ValueError(f"A recommendation is from 0 to 10, not {nps}.")
    survey = survey_for(token=token)
    recorded = Survey.objects.filter(pk=survey.pk, answered_at__isnull=True).update(
        answered_at=now or timezone.now(), score=score, nps=nps
    )
    if recorded:
        survey.refresh_from_db()
    return PageAnswer(survey=survey, recorded=bool(recorded))
