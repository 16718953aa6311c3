"""Praise a customer wrote, passed on by email to whom it names: the person praised and their
supervisors, or the store's contact address. Sent after ingest commits, as a task."""

import logging
import smtplib
from collections.abc import Sequence

from django.core.mail import send_mail

logger = logging.getLogger(__name__)


def send_praise_mails(mails: Sequence[Sequence]) -> int:
    """Send each (subject, body, recipients) mail; a failing mail server loses only the mail,
    which the in-app notices and the case's "praise" tag still carry. Returns how many went."""
    sent = 0
    for subject, body, recipients in mails:
        try:
            sent += send_mail(subject, body, None, list(recipients))
        except (smtplib.SMTPException, OSError):
            logger.warning("Could not email praise to %s.", ", ".join(recipients), exc_info=True)
    return sent
