"""Bytes to text when a mail's charset labels are missing, unknown or wrong."""

import codecs
import functools
import re
from collections.abc import Iterable
from email.message import Message

from charset_normalizer import from_bytes
from charset_normalizer.md import mess_ratio

# Labels that mail clients write where they mean a superset (the WHATWG Encoding Standard maps
# them the same way): text labelled Latin-1 is nearly always Windows-1252, GB2312 is GBK...
SUPERSETS = {
    "ascii": "cp1252",
    "iso8859-1": "cp1252",
    "iso8859-9": "cp1254",
    "iso8859-11": "cp874",
    "tis-620": "cp874",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "euc_kr": "cp949",
    "shift_jis": "cp932",
    "big5": "big5hkscs",
}

# Charsets of 7-bit bytes that switch character sets by escape sequences (ISO-2022-JP, RFC 1468,
# and its kin, RFC 1554 and 1557). Their bytes are all ASCII, so UTF-8 "reads" them, escapes and
# all: they are tried first, on any ASCII text that holds such an escape. ISO-2022-JP-2 also
# reads plain ISO-2022-JP and its Chinese and Korean designations.
STATEFUL = ("iso2022_jp_2", "iso2022_jp_ext", "iso2022_jp_3", "iso2022_kr")
# ESC $ designates a two-byte set (and ESC ( I half-width katakana) in every ISO-2022 variant.
_DESIGNATION = re.compile(rb"\x1b(?:\$[@AB()*+]|\(I)")
# Where a mail declares a 7-bit Japanese or Korean charset, its raw 8-bit bytes (a header a
# mailer did not encode) are in that language's 8-bit charsets.
_RELATED = {
    "iso2022_jp": ("cp932", "euc_jp"),
    "iso2022_jp_2": ("cp932", "euc_jp"),
    "iso2022_kr": ("cp949",),
}

# charset-normalizer's measure of mess (unlikely mixes of scripts, accents and symbols) above
# which a reading is the wrong charset's; its own default threshold.
MESSY = 0.2
# Text enough to judge a reading by; a body can be megabytes.
SAMPLE = 16384
# Among readings the detector finds equally clean (short text often has several), the charsets
# mail is most often written in win.
PREFERRED = ("gb18030", "cp932", "big5hkscs", "cp949", "euc_jp")


def decode_text(data: bytes, charset: str | None) -> str:
    """Bytes to text under a label that may be missing, unknown or wrong; never fails.

    7-bit text with ISO-2022 escapes is read as ISO-2022 whatever its label. Otherwise UTF-8
    is tried before any single-byte label (mislabelled UTF-8 is the commonest lie), then the
    label's superset and the label; text they cannot read, or read only as a mess, goes to
    ``guess_charset``; Windows-1252 and Latin-1, which reads anything, come last.
    """
    declared = _codec(charset)
    stateful = _stateful(data, declared)
    if stateful is not None:
        return stateful
    labelled = [SUPERSETS.get(declared, declared), declared] if declared else []
    if declared is None or _single_byte(declared):
        labelled.insert(0, "utf-8")
    for codec in labelled:
        text = _decoded(data, codec)
        if text is not None and (not _single_byte(codec) or not _messy(text)):
            return text
    guessed = guess_charset(data)
    for codec in dict.fromkeys([*([guessed] if guessed else []), *labelled, "utf-8", "cp1252"]):
        text = _decoded(data, codec)
        if text is not None:
            return text
    return data.decode("latin-1")


@functools.lru_cache(maxsize=256)
def guess_charset(data: bytes, hints: tuple[str, ...] = ()) -> str | None:
    """The charset 8-bit text is in when no label says, or None when nothing reads it cleanly.

    ``hints`` are charsets the rest of the mail declares, tried first. Then Windows-1252, the
    commonest undeclared charset, if it reads the text cleanly; then charset-normalizer's
    readings, best first, leaving out those that need a rarely used corner of a charset.
    """
    if data.isascii():
        return "ascii"
    for hint in dict.fromkeys(h for label in hints for h in _hinted(label)):
        text = _decoded(data, hint)
        if text is not None and not _messy(text):
            return hint
    text = _decoded(data, "cp1252")
    if text is not None and not _messy(text):
        return "cp1252"
    readings = []
    for match in from_bytes(data):
        codec = _codec(match.encoding)
        codec = SUPERSETS.get(codec, codec) if codec else None
        text = _decoded(data, codec) if codec else None
        if codec and text is not None and _plausible(data, codec, text):
            preference = PREFERRED.index(codec) if codec in PREFERRED else len(PREFERRED)
            readings.append((round(match.chaos, 2), -round(match.coherence, 2), preference, codec))
    return min(readings)[-1] if readings else None


def _hinted(label: str) -> tuple[str, ...]:
    codec = _codec(label)
    if codec is None:
        return ()
    return (SUPERSETS.get(codec, codec), *_RELATED.get(codec, ()))


def _plausible(data: bytes, codec: str, text: str) -> bool:
    """Whether a reading is one a sender's mail client could have written. The detector
    sometimes prefers a reading that needs a superset's rare extension (Windows' extra Korean
    syllables, GB18030's four-byte forms), half-width katakana (which ISO-2022-JP could not
    carry, so Japanese mail avoids them), or UTF-16 without the byte-order mark mail needs."""
    if codec.startswith(("utf_16", "utf_32", "utf-16", "utf-32")):
        return False
    if codec == "cp949":
        return _decoded(data, "euc_kr") is not None
    if codec == "gb18030":
        return _decoded(data, "gbk") is not None
    if codec in ("cp932", "shift_jis"):
        return not re.search("[\uff61-\uff9f]", text)
    return True


def _decoded(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def _messy(text: str) -> bool:
    return mess_ratio(text[:SAMPLE], maximum_threshold=MESSY) >= MESSY


def _codec(charset: str | None) -> str | None:
    if not charset:
        return None
    label = charset.strip().strip("\"'").lower()
    if label in ("", "unknown-8bit", "x-unknown", "default"):
        return None
    try:
        return codecs.lookup(label).name
    except (LookupError, ValueError):
        return None


def _stateful(data: bytes, declared: str | None) -> str | None:
    """The text of 7-bit ISO-2022 bytes, or None when they are not that."""
    if not data.isascii() or not _DESIGNATION.search(data):
        return None
    labelled = (declared,) if declared and declared.startswith("iso2022") else ()
    for codec in dict.fromkeys((*labelled, *STATEFUL)):
        try:
            return data.decode(codec)
        except UnicodeDecodeError:
            continue
    # A character outside the standard sets (a vendor's circled digit): one unreadable
    # character is better than every escape shown as text.
    return data.decode(labelled[0] if labelled else STATEFUL[0], errors="replace")


@functools.cache
def _single_byte(codec: str) -> bool:
    if codec.startswith("iso2022"):
        return False  # escapes switch it to two bytes a character
    try:
        return len(bytes(range(128, 256)).decode(codec, errors="replace")) == 128
    except LookupError:
        return False


_SURROGATES = re.compile("[\udc80-\udcff]+")


def repair_text(value: str, *, mail: Message | None = None) -> str:
    """Header text with raw 8-bit bytes in it (the parser keeps them as surrogates) as real
    characters, read in the charset of ``mail``'s raw header bytes (``header_charset``); raw
    ISO-2022 text (escapes in the header itself, not in RFC 2047 words) is read as such."""
    if "\x1b" in value and value.isascii():
        return _stateful(value.encode("ascii"), None) or value
    if not _SURROGATES.search(value):
        return value
    charset = header_charset(mail) if mail is not None else None
    # A two-byte character's second byte can be an ASCII letter, so a two-byte charset reads
    # the value whole; runs are read one by one where a sender mixed UTF-8 and Latin-1.
    data = value.encode("utf-8", "surrogateescape")
    for codec in ("utf-8", charset) if charset and not _single_byte(charset) else ("utf-8",):
        whole = _decoded(data, codec)
        if whole is not None:
            return whole

    def decoded(run: re.Match[str]) -> str:
        data = run.group().encode("utf-8", "surrogateescape")
        text = _decoded(data, "utf-8") or (_decoded(data, charset) if charset else None)
        return text if text is not None else decode_text(data, None)

    return _SURROGATES.sub(decoded, value)


# A mail with more parts than this is not one a person wrote; its first parts tell enough.
MAX_PARTS = 500


def header_charset(mail: Message) -> str | None:
    """The charset of the raw 8-bit bytes in a mail's headers, its parts' included, judged on
    all of them at once (a name alone is too short to tell GB2312 from Big5), with the
    charsets its parts declare as hints. None when it has no such bytes."""
    values: list[str] = []
    hints: list[str] = []
    parts, seen = [mail], 0
    while parts and seen < MAX_PARTS:
        part = parts.pop(0)
        seen += 1
        values += [str(v) for _, v in part.raw_items() if _SURROGATES.search(str(v))]
        hints += _declared_charsets(part)
        payload = part.get_payload()
        if isinstance(payload, list):
            parts += [p for p in payload if isinstance(p, Message)]
    if not values:
        return None
    sample = "\n".join(values).encode("utf-8", "surrogateescape")
    return guess_charset(sample, tuple(dict.fromkeys(hints)))


def _declared_charsets(part: Message) -> Iterable[str]:
    # Read from the raw header: the parsed one would decode the very bytes being judged.
    for name, value in part.raw_items():
        if name.lower() == "content-type":
            match = re.search(r"charset\s*=\s*\"?([\w.:-]+)", str(value), re.IGNORECASE)
            if match:
                yield match.group(1)


_ENCODED_WORD_CHARSET = re.compile(r"=\?([^?*\s]+)(?=(?:\*[^?\s]*)?\?[bBqQ]\?)")


# Whitespace between two encoded words is not part of the text (RFC 2047 6.2); the standard
# library keeps it in names ("=?utf-8?q?Jo?= =?utf-8?q?hn?=" read "Jo hn").
_BETWEEN_ENCODED_WORDS = re.compile(r"(?<=\?=)[ \t]+(?==\?[^?\s]+\?[bBqQ]\?)")


def mend_encoded_words(value: str) -> str:
    """A header with the whitespace between its adjacent RFC 2047 words dropped, and their
    charsets replaced by the supersets mail clients mean (``SUPERSETS``): a word labelled
    GB2312 holding GBK characters reads whole."""
    value = _BETWEEN_ENCODED_WORDS.sub("", value)

    def relabelled(word: re.Match[str]) -> str:
        codec = _codec(word.group(1))
        return f"=?{SUPERSETS[codec]}" if codec in SUPERSETS else word.group()

    return _ENCODED_WORD_CHARSET.sub(relabelled, value)
