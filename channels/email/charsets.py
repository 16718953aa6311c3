"""Bytes to text when a mail's charset labels are missing, unknown or wrong."""

import codecs
import functools
import re

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


def decode_text(data: bytes, charset: str | None) -> str:
    """Bytes to text under a label that may be missing, unknown or wrong; never fails.

    7-bit text with ISO-2022 escapes is read as ISO-2022 whatever its label. Otherwise UTF-8
    is tried before any single-byte label (mislabelled UTF-8 is the commonest lie), then the
    label's superset, the label, Windows-1252, and Latin-1, which reads anything.
    """
    declared = _codec(charset)
    stateful = _stateful(data, declared)
    if stateful is not None:
        return stateful
    candidates = []
    if declared is None or _single_byte(declared):
        candidates.append("utf-8")
    if declared is not None:
        candidates += [SUPERSETS.get(declared, declared), declared]
    candidates += ["utf-8", "cp1252"]
    for codec in dict.fromkeys(candidates):
        try:
            return data.decode(codec)
        except (UnicodeDecodeError, LookupError):
            continue
    return data.decode("latin-1")


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


def repair_text(value: str) -> str:
    """Header text with raw 8-bit bytes in it (the parser keeps them as surrogates) as real
    characters: each run read as UTF-8, else Windows-1252. Raw ISO-2022 text (escapes in the
    header itself, not in an RFC 2047 word) is read as such."""
    if "\x1b" in value and value.isascii():
        return _stateful(value.encode("ascii"), None) or value
    return _SURROGATES.sub(
        lambda run: decode_text(run.group().encode("utf-8", "surrogateescape"), None), value
    )
