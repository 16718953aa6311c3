"""Helpers for the email tests: polling through the polling service, and the test mails."""

from pathlib import Path

from django.conf import settings

from channels.models import ChannelAccount
from intake.polling import PollResult, poll_account

CORPUS = Path(__file__).parent / "corpus"
PEER_MAIL = Path(settings.BASE_DIR).parent / "shared" / "data" / "peers" / "mail"


def corpus(name: str) -> bytes:
    return (CORPUS / name).read_bytes()


def poll_into_cases(account: ChannelAccount) -> PollResult:
    """One poll of the account by the polling service, which must not fail."""
    result = poll_account(account=account, force=True)
    assert not result.failed, result.error
    account.refresh_from_db()
    return result
