"""The sandbox's mail: customer mails written into a Maildir, and an SMTP server for replies.

Each visible ``email`` event becomes one real RFC 5322 mail in the sandbox's Maildir (new/),
written once, as the replay clock reaches it (a background thread looks every half second;
``deliver_visible`` delivers at once). Its Message-ID is ``<{event id}@sample.acme-home.example>``.

The SMTP server (aiosmtpd, on 127.0.0.1:``smtp_port``) records every mail the brand sends in
the outbox, with its threading headers, its Cc header and its attachments' file names. Like
the brand's mail provider would, it files a copy of the brand's mail in the Maildir's "Sent"
folder, delivers mail addressed to the brand into its inbox, and refuses
recipients in the reserved ``.invalid`` domain (RFC 2606). Faults for platform ``smtp``
strike when a mail is submitted (state.Fault).
"""

import asyncio
import logging
import mailbox
import os
import threading
import time
import uuid
from email import policy
from email.errors import MessageError
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from demo.sample import generated_content
from demo.sandbox.routes import ON_START, ON_STOP, Host
from demo.sandbox.state import Fault, SandboxEvent, SandboxState

logger = logging.getLogger(__name__)
# aiosmtpd logs every SMTP command at INFO; the outbox already records what was sent.
logging.getLogger("mail.log").setLevel(logging.WARNING)

# The sample brand's support address (sample_data/README.md): mail is to it, replies from it.
BRAND_ADDRESS = "care@acme-home.example"
SAMPLE_DOMAIN = "sample.acme-home.example"
SENT_FOLDER = "Sent"
DELIVERY_INTERVAL = 0.5


def sample_message_id(event_id: str) -> str:
    return f"<{event_id}@{SAMPLE_DOMAIN}>"


def sample_mail(event: SandboxEvent, state: SandboxState) -> bytes:
    """The mail a customer's ``email`` event stands for, as it would arrive (CRLF lines)."""
    data = event.data
    author = data.get("author") or {}
    msg = EmailMessage()
    msg["From"] = Address(display_name=author.get("name") or "", addr_spec=author["email"])
    msg["To"] = BRAND_ADDRESS
    msg["Subject"] = data.get("subject") or ""
    msg["Date"] = format_datetime(event.at)
    msg["Message-ID"] = sample_message_id(event.id)
    thread = _thread(state, data.get("reply_to"))
    if thread:
        msg["In-Reply-To"] = thread[-1]
        msg["References"] = " ".join(thread)
    msg.set_content(data.get("text") or "")
    if data.get("html"):
        msg.add_alternative(data["html"], subtype="html")
    for spec in data.get("attachments") or ():
        maintype, _, subtype = (spec.get("content_type") or "").partition("/")
        msg.add_attachment(
            generated_content(f"{event.id}/{spec['filename']}", spec["size"]),
            maintype=maintype or "application",
            subtype=subtype or "octet-stream",
            filename=spec["filename"],
        )
    return msg.as_bytes(policy=policy.SMTP)


def _thread(state: SandboxState, reply_to: str | None) -> list[str]:
    """Message-IDs of the mails this one answers, oldest first, following ``reply_to``."""
    chain: list[str] = []
    while reply_to and sample_message_id(reply_to) not in chain and len(chain) < 50:
        chain.insert(0, sample_message_id(reply_to))
        parent = state.event(reply_to)
        reply_to = parent.data.get("reply_to") if parent else None
    return chain


class _Mailroom:
    """One sandbox's Maildir writer and SMTP server."""

    def __init__(self, sandbox: Host) -> None:
        self.state = sandbox.state
        self.root = Path(sandbox.maildir) if sandbox.maildir else None
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.written: set[str] = set()
        self.thread: threading.Thread | None = None
        self.smtp: Controller | None = None
        if self.root is not None:
            self.root.parent.mkdir(parents=True, exist_ok=True)
            inbox = mailbox.Maildir(self.root, create=True)
            if SENT_FOLDER not in inbox.list_folders():
                inbox.add_folder(SENT_FOLDER)
            # A restarted sandbox on the same Maildir must not deliver its events again.
            for sub in ("new", "cur"):
                self.written.update(n.split(":")[0] for n in os.listdir(self.root / sub))
            self.thread = threading.Thread(target=self._deliver_forever, daemon=True)
            self.thread.name = "sandbox-maildir"
        if sandbox.smtp_port:
            handler = _SmtpHandler(self)
            self.smtp = Controller(handler, hostname="127.0.0.1", port=sandbox.smtp_port)

    def start(self) -> None:
        if self.thread is not None:
            self.deliver_visible()
            self.thread.start()
        if self.smtp is not None:
            self.smtp.start()

    def stop(self) -> None:
        self.stopped.set()
        if self.thread is not None:
            self.thread.join()
        if self.smtp is not None:
            self.smtp.stop()

    def deliver_visible(self) -> int:
        """Write the visible email events not written yet; returns how many were written."""
        if self.root is None:
            return 0
        written = 0
        with self.lock:
            for event in self.state.visible_events("email"):
                name = f"{int(event.at.timestamp())}.{_safe(event.id)}.sample"
                if name in self.written:
                    continue
                try:
                    raw = sample_mail(event, self.state)
                except (KeyError, TypeError, ValueError, IndexError, MessageError) as exc:
                    logger.warning("Sandbox cannot write email event %s: %s", event.id, exc)
                    continue
                self._deliver(self.root, name, raw)
                self.written.add(name)
                written += 1
        return written

    def _deliver_forever(self) -> None:
        while not self.stopped.wait(DELIVERY_INTERVAL):
            try:
                self.deliver_visible()
            except OSError:
                logger.exception("Sandbox Maildir delivery failed")

    def deliver_raw(self, raw: bytes) -> None:
        """Deliver a mail into the inbox as a mail server would (new/, unread)."""
        if self.root is not None:
            self._deliver(self.root, _unique_name(), raw)

    def file_sent(self, raw: bytes) -> None:
        """File a copy of a mail the brand sent in its Sent folder, already read."""
        if self.root is not None:
            self._deliver(self.root / f".{SENT_FOLDER}", _unique_name(), raw, seen=True)

    @staticmethod
    def _deliver(root: Path, name: str, raw: bytes, *, seen: bool = False) -> None:
        # Maildir delivery: write in tmp/, then rename, so a reader never sees half a mail.
        tmp = root / "tmp" / name
        tmp.write_bytes(raw)
        os.rename(tmp, (root / "cur" / f"{name}:2,S") if seen else (root / "new" / name))


def _unique_name() -> str:
    return f"{int(time.time())}.{uuid.uuid4().hex}.sandbox"


def _safe(event_id: str) -> str:
    # "/" and ":" have meanings in Maildir names.
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in event_id)


class _SmtpHandler:
    def __init__(self, mailroom: _Mailroom) -> None:
        self.mailroom = mailroom

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if address.lower().rstrip(">").endswith(".invalid"):
            return "550 5.1.2 Recipient domain does not exist"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        fault = self.mailroom.state.take_fault("smtp")
        if fault is not None:
            return await _refuse(server, fault)
        raw: bytes = envelope.original_content or envelope.content
        parsed = BytesParser(policy=policy.default).parsebytes(raw)
        self.mailroom.state.record(
            platform="email",
            kind="email",
            payload={
                "mail_from": envelope.mail_from,
                "rcpt_tos": list(envelope.rcpt_tos),
                "data": raw.decode("utf-8", "replace"),
                "message_id": str(parsed.get("Message-ID", "")),
                "in_reply_to": str(parsed.get("In-Reply-To", "")),
                "references": str(parsed.get("References", "")),
                "subject": str(parsed.get("Subject", "")),
                "cc": str(parsed.get("Cc", "")),
                "attachments": [part.get_filename() for part in parsed.iter_attachments()],
            },
        )
        if (envelope.mail_from or "").lower() == BRAND_ADDRESS:
            self.mailroom.file_sent(raw)
        if any(rcpt.lower() == BRAND_ADDRESS for rcpt in envelope.rcpt_tos):
            self.mailroom.deliver_raw(raw)
        return "250 Message accepted for delivery"


async def _refuse(server: Any, fault: Fault) -> str:
    """Answer a submitted mail as the fault says, without taking it."""
    if fault.kind == "temporary_failure":
        return "451 4.3.0 Mail server temporarily unable to accept mail; try again later"
    if fault.kind == "permanent_failure":
        return "554 5.7.1 Message rejected as spam by content filter"
    if fault.kind == "timeout":
        await asyncio.sleep(fault.seconds)
    server.transport.close()  # disconnect, or a timeout's end: the client hears nothing
    return "421 4.4.2 Connection dropped"


_MAILROOMS: dict[int, _Mailroom] = {}


def deliver_visible(sandbox: Host) -> int:
    """Write the sandbox's newly visible email events into its Maildir now."""
    mailroom = _MAILROOMS.get(id(sandbox))
    return mailroom.deliver_visible() if mailroom else 0


def _start(sandbox: Host) -> None:
    mailroom = _Mailroom(sandbox)
    _MAILROOMS[id(sandbox)] = mailroom
    mailroom.start()


def _stop(sandbox: Host) -> None:
    mailroom = _MAILROOMS.pop(id(sandbox), None)
    if mailroom is not None:
        mailroom.stop()


ON_START.append(_start)
ON_STOP.append(_stop)
