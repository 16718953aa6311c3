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


def decode_text(data: bytes, charset: str | None) -> str:
    """Bytes to text under a label that may be missing, unknown or wrong; never fails.

    UTF-8 is tried before any single-byte label (mislabelled UTF-8 is the commonest lie),
    then the label's superset, the label, Windows-1252, and Latin-1, which reads anything.
    """
    declared = _codec(charset)
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


@functools.cache
def _single_byte(codec: str) -> bool:
    try:
        return len(bytes(range(128, 256)).decode(codec, errors="replace")) == 128
    except LookupError:
        return False


_SURROGATES = re.compile("[\udc80-\udcff]+")


def repair_text(value: str) -> str:
    """Header text with raw 8-bit bytes in it (the parser keeps them as surrogates) as real
    characters: each run read as UTF-8, else Windows-1252."""
    return _SURROGATES.sub(
        lambda run: decode_text(run.group().encode("utf-8", "surrogateescape"), None), value
    )
