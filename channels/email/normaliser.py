"""Normaliser for email: one raw RFC 5322 mail in, one ``InboundMessage`` out.

The sender is the From address (lower-cased), the id is the Message-ID (a mail without one
gets a synthetic id from a hash of its bytes), the time is the Date header, else the newest
Received header's time (the receiving server's clock), else the mail is refused.
"""

import hashlib
import re
from datetime import UTC, datetime
from email import policy
from email.errors import HeaderParseError
from email.headerregistry import BaseHeader
from email.message import Message
from email.parser import BytesHeaderParser
from email.utils import format_datetime, getaddresses, parsedate_to_datetime

from channels.email.charsets import mend_encoded_words, repair_text
from channels.email.mime import parse, read_body, recover_headers
from channels.errors import MalformedPayload, UnsupportedEvent
from channels.inbound import InboundAuthor, InboundMessage

# The standard library's header parser raises on some hostile input instead of recording a
# defect; a header it cannot read is treated as absent, or read raw.
HEADER_PARSE_ERRORS = (HeaderParseError, ValueError, IndexError, TypeError, AttributeError)

# Message ids must fit ``Message.external_id``; longer ones are replaced by their hash.
MAX_ID_LENGTH = 300
# Threads of hundreds of mails carry References as long; the nearest ones are what matter.
MAX_REFERENCES = 100

_MESSAGE_ID = re.compile(r"<([^<>]+)>")
_CASE_REFERENCE = re.compile(r"\[\s*#\s*(\d{1,18})\s*\]")
_BOUNCE_SENDERS = {"mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon"}
_AUTO_PRECEDENCE = {"auto_reply", "bulk", "junk"}
_AUTO_REPLY_HEADERS = ("X-Autoreply", "X-Autorespond", "X-Auto-Reply", "X-Autoresponder")


def normalise(raw: bytes) -> InboundMessage:
    """Read one raw mail. Raises ``MalformedPayload`` or ``UnsupportedEvent`` naming the mail
    (its Message-ID) and what is wrong."""
    if not raw.strip():
        raise MalformedPayload("The mail payload is empty.")
    try:
        msg = parse(raw)
    except (RecursionError, *HEADER_PARSE_ERRORS) as exc:
        raise MalformedPayload(f"Not a readable mail: {exc!r}.") from None
    external_id = _message_id(msg, raw)
    if msg.get_content_type() == "message/partial":
        raise UnsupportedEvent(
            f"Mail {external_id} is one fragment of a split mail (message/partial); "
            "fragments are not reassembled."
        )
    try:
        body = read_body(msg, mail=external_id)
    except RecursionError:
        raise MalformedPayload(f"Mail {external_id}: MIME structure too deep to read.") from None
    subject = " ".join(_header_text(msg, "Subject").split())
    return InboundMessage(
        channel="email",
        external_id=external_id,
        author=_author(msg, external_id),
        sent_at=_sent_at(msg, external_id),
        text=body.text,
        html=body.html,
        subject=subject,
        in_reply_to=_thread_references(msg, exclude=external_id),
        case_reference=case_reference(subject),
        automated=automated_kind(msg),
        attachments=tuple(body.attachments),
        raw=raw,
    )


def _message_id(msg: Message, raw: bytes) -> str:
    """The mail's Message-ID as ``<id>``, or a stable synthetic one from its bytes."""
    ids = _message_ids(_raw_header(msg, "Message-ID"))
    if ids:
        return ids[0]
    # Line endings differ between a Maildir file and the same mail over IMAP.
    digest = hashlib.sha256(raw.replace(b"\r\n", b"\n")).hexdigest()[:40]
    return f"<{digest}@no-message-id.invalid>"


def _thread_references(msg: Message, *, exclude: str = "") -> tuple[str, ...]:
    """Ids this mail answers, nearest first: In-Reply-To, then References from the newest."""
    nearest = _message_ids(_raw_header(msg, "In-Reply-To"))
    nearest += reversed(_message_ids(_raw_header(msg, "References")))
    seen = {exclude}
    ordered = []
    for ref in nearest:
        if ref not in seen:
            seen.add(ref)
            ordered.append(ref)
    return tuple(ordered[:MAX_REFERENCES])


def _message_ids(value: str) -> list[str]:
    found = ["".join(token.split()) for token in _MESSAGE_ID.findall(value)]
    if not found and value.strip() and len(value.split()) == 1:
        found = [value.strip()]  # an id written without its angle brackets
    ids = []
    for token in found:
        if not token:
            continue
        if len(token) > MAX_ID_LENGTH:
            token = hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()
            token += "@long-message-id.invalid"
        ids.append(f"<{token}>")
    return ids


def case_reference(subject: str) -> int | None:
    """The case number a subject carries as ``[#1234]`` (the first one), or None."""
    match = _CASE_REFERENCE.search(subject)
    return int(match.group(1)) if match else None


def automated_kind(msg: Message) -> str:
    """Whether a machine sent the mail: "bounce" for delivery failure reports, "auto-reply"
    for other machine-sent mail (RFC 3834 Auto-Submitted, X-Autoreply, Precedence
    auto_reply/bulk/junk, read receipts), "" for mail a person wrote."""
    report_type = msg.get_param("report-type", "", header="content-type")
    report_type = report_type.lower() if isinstance(report_type, str) else ""
    ctype = msg.get_content_type()
    sender = from_address(msg).split("@")[0]
    if (
        (ctype == "multipart/report" and report_type == "delivery-status")
        or ctype == "message/delivery-status"
        or sender in _BOUNCE_SENDERS
        or _raw_header(msg, "X-Failed-Recipients")
    ):
        return "bounce"
    auto_submitted = _raw_header(msg, "Auto-Submitted").split(";")[0].strip().lower()
    precedence = _raw_header(msg, "Precedence").strip().lower()
    if (
        auto_submitted not in ("", "no")
        or any(_raw_header(msg, h).strip().lower() not in ("", "no") for h in _AUTO_REPLY_HEADERS)
        or precedence in _AUTO_PRECEDENCE
        or (ctype == "multipart/report" and report_type == "disposition-notification")
    ):
        return "auto-reply"
    return ""


def parse_headers(raw: bytes) -> Message:
    """Just the header block of a mail: the parser would otherwise read every body line."""
    raw = recover_headers(raw)
    ends = [i for i in (raw.find(b"\r\n\r\n"), raw.find(b"\n\n")) if i >= 0]
    return BytesHeaderParser(policy=policy.default).parsebytes(raw[: min(ends, default=len(raw))])


def from_address(msg: Message) -> str:
    """The lower-cased address of the From header, or "" when it has none."""
    return _first_address(msg, "From")[0]


def _author(msg: Message, external_id: str) -> InboundAuthor:
    for name in ("From", "Sender", "Reply-To", "Return-Path"):
        address, display_name = _first_address(msg, name)
        if address:
            return InboundAuthor(external_id=address, handle=address, display_name=display_name)
    if automated_kind(msg) == "bounce":
        # A bounce comes from the null sender; the reporting mail system is its author.
        domain = external_id.rstrip(">").rpartition("@")[2] or "unknown.invalid"
        address = f"mailer-daemon@{domain}".lower()
        return InboundAuthor(external_id=address, handle=address, display_name="Mail system")
    raise MalformedPayload(
        f"Mail {external_id}: no sender address in From ({_raw_header(msg, 'From')!r}), "
        "Sender, Reply-To or Return-Path."
    )


def _first_address(msg: Message, name: str) -> tuple[str, str]:
    """The first usable ``local@domain`` of an address header, lower-cased, and its sender's
    name. Of several values (two From lines), the first that holds an address counts: a bogus
    From above a valid one does not hide it."""
    for value in _raw_headers(msg, name):
        address, display_name = _address(value)
        if address:
            return address, display_name
    return "", ""


def _address(value: str) -> tuple[str, str]:
    """The first address in a header value and its name, read as strictly as the value
    allows: RFC 5322, then the older forms the standard library's compat parser reads, then
    whatever a person would take for the address (``Test test@example.com``)."""
    pairs: list[tuple[str, str]] = []
    try:
        header = policy.default.header_factory("From", value)
        pairs = [(a.addr_spec, a.display_name) for a in getattr(header, "addresses", ())]
    except HEADER_PARSE_ERRORS:
        pass
    # compat reads the name of "addr (Name)" from its comment, which RFC 5322 leaves out.
    compat = [(addr, display) for display, addr in getaddresses([value])]
    comment_names = {_clean_address(a, written=value): d for a, d in compat if d}
    for addr, display_name in [*pairs, *compat, *_lenient_addresses(value)]:
        addr = _clean_address(addr, written=value)
        if addr:
            display_name = display_name or _decoded_words(comment_names.get(addr, ""))
            return addr, " ".join(repair_text(display_name).split())
    return "", ""


_ATOM = r"[^\s<>()\[\]\",;:@]+"
_LOOSE_ADDRESS = re.compile(rf'(?:"[^"]*"|{_ATOM})@{_ATOM}')


def _lenient_addresses(value: str) -> list[tuple[str, str]]:
    """Addresses a person reads in a value no parser accepts: the contents of angle brackets
    with any spaces taken out, else any ``local@domain``; the rest is the name."""
    value = re.sub(r"[<>]+(?=@)|(?<=@)[<>]+", "", value)  # '"jo.doe">@example.com'
    found = []
    for inside in re.finditer(r"<([^<>]*)>", value):
        outside = value[: inside.start()] + value[inside.end() :]
        found.append(("".join(inside.group(1).split()), _loose_name(outside)))
    for address in _LOOSE_ADDRESS.finditer(value):
        outside = value[: address.start()] + value[address.end() :]
        found.append((address.group(), _loose_name(outside)))
    return found


def _loose_name(text: str) -> str:
    return _decoded_words(" ".join(text.strip(" \t<>\"'()").split()))


_DOT_ATOM = re.compile(r"[^\s()<>\[\]:;@\\,.\"]+(\.[^\s()<>\[\]:;@\\,.\"]+)*")


def _clean_address(addr: str, *, written: str) -> str:
    """A usable ``local@domain``, lower-cased, without stray brackets or needless quotes,
    or "" when it is not one. Only a local part quoted as ``written`` may hold spaces (the
    parser quotes "Test test" in ``Test test@example.com`` itself)."""
    local, _, domain = addr.strip().strip("<>").lower().rpartition("@")
    quoted = len(local) > 1 and local[0] == local[-1] == '"'
    if quoted and _DOT_ATOM.fullmatch(local[1:-1]):
        local, quoted = local[1:-1], False  # "jo.doe"@example.com is jo.doe@example.com
    if quoted and local in written.lower():
        local = local.replace("\t", " ")
    elif re.search(r"\s", local):
        return ""
    if not local or not domain or "@" in domain or re.search(r"\s", domain):
        return ""
    return f"{local}@{domain}"


def _decoded_words(text: str) -> str:
    """Text with its RFC 2047 encoded words decoded (a name in a comment may have them)."""
    if "=?" not in text:
        return text
    try:
        return str(policy.default.header_factory("Subject", text))
    except HEADER_PARSE_ERRORS:
        return text


def _sent_at(msg: Message, external_id: str) -> datetime:
    sent_at = _mail_time(msg)
    if sent_at is None:
        raise MalformedPayload(
            f"Mail {external_id}: no readable time in its Date header "
            f"({_raw_header(msg, 'Date')!r}) nor in any Received header."
        )
    return sent_at


def _mail_time(msg: Message) -> datetime | None:
    sent_at = _date(_raw_header(msg, "Date"))
    if sent_at is None:
        # Received headers are prepended in transit: the first one is our server's clock.
        for received in _raw_headers(msg, "Received"):
            sent_at = _date(received.rpartition(";")[2])
            if sent_at is not None:
                break
    return sent_at


def stamp_delivery_time(raw: bytes, delivered_at: datetime) -> bytes:
    """The mail, with a Received header giving the time its mailbox got it prepended when it
    carries no readable time of its own, as a receiving mail server would have added."""
    if _mail_time(parse_headers(raw)) is not None:
        return raw
    newline = b"\r\n" if b"\r\n" in raw[:2000] else b"\n"
    received = f"Received: by careinbox (mailbox delivery); {format_datetime(delivered_at)}"
    return received.encode() + newline + raw


def _date(value: str) -> datetime | None:
    # Some relays write fractional seconds ("08:27:12.905"), which RFC 5322 does not allow.
    value = re.sub(r"(\d\d:\d\d:\d\d)\.\d+", r"\1", value.strip())
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (ValueError, TypeError, IndexError, OverflowError):
        return None
    # "-0000" means UTC without saying where the sender was (RFC 5322 3.3).
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _header_text(msg: Message, name: str) -> str:
    """A header as readable text: RFC 2047 words decoded, raw 8-bit bytes repaired."""
    header = _parsed_header(msg, name)
    return str(header) if header is not None else _raw_header(msg, name)


def _parsed_header(msg: Message, name: str) -> BaseHeader | None:
    value = _raw_header(msg, name)
    if not value:
        return None
    try:
        header = policy.default.header_factory(name, value)
        str(header)  # parsing is lazy for some headers; fail here, not at the caller
    except HEADER_PARSE_ERRORS:
        return None
    return header


def _raw_header(msg: Message, name: str) -> str:
    values = _raw_headers(msg, name)
    return values[0] if values else ""


def _raw_headers(msg: Message, name: str) -> list[str]:
    """Every value of a header, unfolded, with raw 8-bit bytes repaired and RFC 2047 words
    mended (``mend_encoded_words``), in header order."""
    wanted = name.lower()
    return [
        mend_encoded_words(repair_text(re.sub(r"[\r\n]+", "", str(value)), mail=msg))
        for key, value in msg.raw_items()
        if key.lower() == wanted
    ]
