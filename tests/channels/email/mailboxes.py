"""Helpers for the email tests: polling through the polling service, and the test mails."""

import json
import os
import uuid
from pathlib import Path

from django.conf import settings

from channels.models import ChannelAccount
from demo.sample import DEMO_TRAFFIC
from intake.polling import PollResult, poll_account

# A customer's mail and her follow-up, from the demo traffic.
THREAD = [
    line
    for line in DEMO_TRAFFIC.read_text().splitlines()
    if json.loads(line)["id"] in {"e16", "e149"}
]
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


def make_folder(path: Path) -> Path:
    """The Maildir++ folder at ``path`` (made if missing), open to the IMAP server's user."""
    for sub in ("", "cur", "new", "tmp"):
        (path / sub).mkdir(exist_ok=True)
        (path / sub).chmod(0o777)
    return path


def deliver(
    folder_path: Path, n: int, *, sender: str = "customer{n}@example.com", message_id: str = ""
) -> None:
    """Deliver customer ``n``'s question into the folder, as a mail server's delivery agent
    does."""
    raw = (
        f"From: Customer {n} <{sender.format(n=n)}>\r\nTo: care@acme-home.example\r\n"
        f"Subject: Question {n}\r\nDate: Tue, 03 Nov 2026 09:{n:02d}:00 +0000\r\n"
        f"Message-ID: {message_id or f'<q{n}@mail.example.com>'}\r\n\r\nQuestion {n}?\r\n"
    ).encode()
    name = f"{1762160400 + n}.M{n}P{uuid.uuid4().hex[:8]}.test"
    (folder_path / "tmp" / name).write_bytes(raw)
    (folder_path / "tmp" / name).chmod(0o666)
    os.rename(folder_path / "tmp" / name, folder_path / "new" / name)
