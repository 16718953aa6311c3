"""Reading the body of a mail: text and HTML parts, attachments, charsets that lie.

Mail in the wild declares charsets it does not use, or none at all, and breaks MIME structure;
everything here degrades to the best readable text instead of failing.
"""

import mimetypes
import re
import unicodedata
from dataclasses import dataclass, field, replace
from email import policy
from email.generator import BytesGenerator
from email.message import EmailMessage, Message
from email.parser import BytesParser
from html import unescape
from html.parser import HTMLParser
from io import BytesIO

from channels.email.charsets import decode_text, repair_text
from channels.errors import MalformedPayload
from channels.inbound import InboundAttachment

# Deeper nesting than any mail client produces; beyond it a mail is built to exhaust a reader.
MAX_DEPTH = 40


@dataclass
class Body:
    text: str = ""
    html: str = ""
    attachments: list[InboundAttachment] = field(default_factory=list)


@dataclass
class _Parts:
    root: Message  # the whole mail, whose header bytes tell the charset of raw 8-bit names
    # The readable parts in order, each (is it HTML, its text): a mail client shows each.
    pieces: list[tuple[bool, str]] = field(default_factory=list)
    htmls: list[str] = field(default_factory=list)
    attachments: list[InboundAttachment] = field(default_factory=list)


def read_body(msg: Message, *, mail: str) -> Body:
    """The mail's text, HTML and attachments. The text has every readable part in order
    (of alternatives, text/plain, else the HTML, as text).

    ``mail`` names the mail in errors. Raises ``MalformedPayload`` only for absurd nesting.
    """
    parts = _Parts(root=msg)
    _collect(msg, parts, depth=0, mail=mail)
    texts = (html_to_text(t) if is_html else t.strip("\n") for is_html, t in parts.pieces)
    text = "\n\n".join(t for t in texts if t.strip())
    html = "\n".join(h for h in parts.htmls if h.strip())
    attachments = [
        a if a.filename else replace(a, filename=_content_filename(a, number))
        for number, a in enumerate(parts.attachments, start=1)
    ]
    return Body(text=_newlines(text), html=html, attachments=attachments)


def _collect(part: Message, out: _Parts, *, depth: int, mail: str) -> None:
    if depth > MAX_DEPTH:
        raise MalformedPayload(f"Mail {mail}: MIME parts nested deeper than {MAX_DEPTH} levels.")
    # A forwarded mail or a delivery report is one file to the reader, not more body text.
    if part.get_content_maintype() == "message" or not part.is_multipart():
        _leaf(part, out)
        return
    ctype = part.get_content_type()
    if ctype == "multipart/alternative":
        _alternative(part, out, depth=depth, mail=mail)
    else:
        for sub in _subparts(part):
            _collect(sub, out, depth=depth + 1, mail=mail)


def _alternative(part: Message, out: _Parts, *, depth: int, mail: str) -> None:
    """Versions of one content: text from the first that has plain text, else from the last
    that has HTML, HTML from the last (the richest, RFC 2046 5.1.4) that has it; files of
    every version (a calendar invite is one "version" of an Outlook meeting mail)."""
    versions = []
    for sub in _subparts(part):
        version = _Parts(root=out.root)
        _collect(sub, version, depth=depth + 1, mail=mail)
        versions.append(version)
    plain = (v for v in versions if any(not h and t.strip() for h, t in v.pieces))
    chosen = next(plain, None) or next((v for v in reversed(versions) if v.htmls), None)
    out.pieces += chosen.pieces if chosen else []
    out.htmls += next((v.htmls for v in reversed(versions) if v.htmls), [])
    for version in versions:
        out.attachments += version.attachments


def _subparts(part: Message) -> list[Message]:
    payload = part.get_payload()
    return [p for p in payload if isinstance(p, Message)] if isinstance(payload, list) else []


def _leaf(part: Message, out: _Parts) -> None:
    ctype = part.get_content_type()
    filename = _filename(part, root=out.root)
    is_body = part.get_content_disposition() != "attachment" and not filename
    if is_body and ctype in ("text/plain", "text/html"):
        text = decode_text(_payload(part), part.get_content_charset())
        out.pieces.append((ctype == "text/html", text))
        if ctype == "text/html":
            out.htmls.append(text)
    elif is_body and part.get_content_maintype() == "multipart":
        # A multipart whose boundary never appears: the parser keeps it whole, and the customer's
        # words are in there somewhere. Show them raw rather than lose them.
        out.pieces.append((False, decode_text(_payload(part), part.get_content_charset())))
    else:
        content = _message_bytes(part) if part.is_multipart() else _payload(part)
        out.attachments.append(
            InboundAttachment(
                filename=filename,  # unnamed ones are numbered once all are found
                content_type=ctype,
                size=len(content),
                content=content,
            )
        )


def _payload(part: Message) -> bytes:
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


def _message_bytes(part: Message) -> bytes:
    """A message/* part (a forwarded mail, a delivery report's blocks) as bytes again;
    compat32 writes headers back as read, where the modern policy would refold (and can choke
    on) broken ones."""
    buffer = BytesIO()
    for inner in _subparts(part):
        BytesGenerator(buffer, mangle_from_=False, policy=policy.compat32).flatten(inner)
    return buffer.getvalue()


def _filename(part: Message, *, root: Message) -> str:
    try:
        name = _raw_8bit_filename(part, root=root) or part.get_filename() or ""
    except (ValueError, LookupError, TypeError, AttributeError, IndexError):
        # Malformed RFC 2231 parameters trip the header parser; the part is still a file.
        name = ""
    # The name is a label, never a path: keep the last segment, drop control characters, and
    # compose accents that macOS sends decomposed ("e" + U+0301) so names compare and sort.
    name = unicodedata.normalize("NFC", re.split(r"[\\/]", repair_text(name, mail=root))[-1])
    return "".join(ch for ch in name if ch.isprintable()).strip()[:255]


def _raw_8bit_filename(part: Message, *, root: Message) -> str:
    """A name written in raw 8-bit bytes, read in the charset of the mail's raw header bytes;
    the parser would replace each byte with U+FFFD before anyone could tell its charset."""
    for header, param in (("content-disposition", "filename"), ("content-type", "name")):
        for key, value in part.raw_items():
            value = str(value)
            if key.lower() == header and not value.isascii():
                parsed = policy.default.header_factory(key, repair_text(value, mail=root))
                name = getattr(parsed, "params", {}).get(param)
                if name:
                    return str(name)
    return ""


# What a mail system's report parts are, to a person reading the report's files.
_REPORT_NAMES = {
    "message/delivery-status": "delivery-status.txt",
    "message/disposition-notification": "disposition-notification.txt",
    "message/feedback-report": "feedback-report.txt",
    "text/rfc822-headers": "returned-headers.txt",
}


def _content_filename(attachment: InboundAttachment, number: int) -> str:
    """A name for an unnamed part from what it holds: a forwarded or returned mail by its
    subject, a report part by its kind; else numbered, with its type's extension."""
    if attachment.content_type in ("message/rfc822", "message/global"):
        inner = BytesParser(policy=policy.default).parsebytes(attachment.content, headersonly=True)
        try:
            subject = " ".join(str(inner.get("Subject") or "").split())
        except (ValueError, LookupError, TypeError, AttributeError, IndexError):
            subject = ""
        subject = "".join(ch for ch in re.sub(r"[\\/:*?\"<>|]", "-", subject) if ch.isprintable())
        if subject.strip(" .-"):
            return f"{subject.strip()[:120]}.eml"
    if attachment.content_type in _REPORT_NAMES:
        return _REPORT_NAMES[attachment.content_type]
    return _default_filename(attachment.content_type, number)


def _default_filename(content_type: str, number: int) -> str:
    extension = mimetypes.guess_extension(content_type, strict=False) or ".bin"
    return f"attachment-{number}{extension}"


def _newlines(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    # Some clients pad a short mail with screens of empty lines; two say the same.
    return re.sub(r"\n[ \t\u200b]*(?:\n[ \t\u200b]*){2,}", "\n\n", text)


def html_to_text(html: str) -> str:
    """Readable plain text of an HTML mail body: blocks on their own lines, no markup."""
    # Outlook's conditional markers ("<![if !supportLists]>", "<![endif]>") carry no text.
    html = re.sub(r"<!\[[^\]>]*\]>", "", html)
    extractor = _TextExtractor()
    try:
        extractor.feed(html)
        extractor.close()
        text = "".join(extractor.chunks)
    except AssertionError:
        # html.parser asserts on some broken "<!" declarations; drop every tag instead.
        text = unescape(re.sub(r"<[^>]*>?", " ", html))
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


class _TextExtractor(HTMLParser):
    BLOCKS = {
        "address", "article", "blockquote", "br", "dd", "div", "dl", "dt", "footer", "h1", "h2",
        "h3", "h4", "h5", "h6", "header", "hr", "li", "ol", "p", "pre", "section", "table",
        "tr", "ul",
    }  # fmt: skip
    HIDDEN = {"head", "script", "style", "template", "title"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.HIDDEN:
            self.hidden += 1
        elif tag in self.BLOCKS:
            self.chunks.append("\n")
            if tag == "li":
                self.chunks.append("- ")
        elif tag == "td":
            self.chunks.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in self.BLOCKS:
            self.chunks.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.chunks.append(data)


def parse(raw: bytes) -> EmailMessage:
    """The mail as the standard library's modern message object, its header block recovered
    (``recover_headers``)."""
    return BytesParser(policy=policy.default).parsebytes(recover_headers(raw))  # type: ignore[return-value]


_FIELD = re.compile(rb"[!-9;-~]+[ \t]*:")
# Fields every mail has one of; seeing one further down shows the header block goes on.
_COMMON_FIELD = re.compile(
    rb"(from|to|cc|subject|date|message-id|sender|reply-to|return-path|received|"
    rb"mime-version|content-type|in-reply-to|references)[ \t]*:",
    re.IGNORECASE,
)


def recover_headers(raw: bytes) -> bytes:
    """The mail with a broken header block mended, as a mail client reads it: a line that is
    no field and not indented, with common fields below it, continues the field above (a
    folded address list whose continuation lost its indent), or is dropped when it comes
    before any field. The parser would take it for the body's start, and lose every field
    after it (From, Subject, Date) into the body. The raw mail is stored unchanged."""
    ends = [i for i in (raw.find(b"\r\n\r\n"), raw.find(b"\n\n")) if i >= 0]
    end = min(ends, default=len(raw))
    lines = raw[:end].splitlines(keepends=True)
    broken = [
        i
        for i, line in enumerate(lines)
        if not _FIELD.match(line) and line[:1] not in (b" ", b"\t")
        and not (i == 0 and line.startswith(b"From "))  # an mbox separator the parser knows
    ]  # fmt: skip
    if not broken:
        return raw
    last_field = max((i for i, line in enumerate(lines) if _COMMON_FIELD.match(line)), default=-1)
    mended = []
    for i, line in enumerate(lines):
        if i in broken and i < last_field:
            if not any(_FIELD.match(earlier) for earlier in lines[:i]):
                continue
            line = b" " + line
        mended.append(line)
    return b"".join(mended) + raw[end:]
