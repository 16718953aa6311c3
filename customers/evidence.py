"""What a message says about who wrote it: contact details, references and the sender's name.

Pure functions over text; the linking service (``casework/linking.py``) stores and compares
what they find.
"""

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import phonenumbers


class Kind:
    EMAIL = "email"
    HANDLE = "handle"
    REFERENCE = "reference"
    # A case number quoted as "[#1234]".
    CASE = "case"
    PHONE = "phone"
    POSTCODE = "postcode"
    # The sender's display name, normalised (see ``normalise_name``).
    NAME = "name"


@dataclass(frozen=True, order=True)
class Found:
    kind: str
    value: str


EMAIL_RE = re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
# An X handle written in text: "@gwen_h", not the domain part of an email address.
HANDLE_RE = re.compile(r"(?<![\w@.])@(\w{1,15})\b")
CASE_RE = re.compile(r"\[#(\d{1,12})\]")
UK_POSTCODE_RE = re.compile(r"\b([A-Z]{1,2}\d[A-Z\d]?) ?(\d[A-Z]{2})\b")
# The outward part alone ("BS3", "LS6"), as people write it in public posts.
UK_OUTWARD_RE = re.compile(r"\b([A-Z]{1,2}\d{1,2}[A-Z]?)\b")
US_ZIP_RE = re.compile(r"\b(\d{5})(?:-\d{4})?\b")
# Quoted mail history ("> ...") repeats what others wrote, often the brand's replies.
QUOTED_LINE_RE = re.compile(r"^\s*>.*$", re.MULTILINE)
NOT_NAME_CHARS_RE = re.compile(r"[^a-z' -]+")
# The fewest digits of any valid phone number: a national number of four digits (Niue,
# Tokelau and others, in phonenumbers' metadata).
MIN_PHONE_DIGITS = 4


def extract(
    *,
    text: str,
    subject: str = "",
    author_name: str = "",
    brand_identities: Iterable[str] = (),
    reference_patterns: Sequence[str] = (),
    phone_region: str = "GB",
) -> list[Found]:
    """Everything in one message that may tie its sender to another identity, sorted and
    without repeats. The brand's own handles and addresses are left out."""
    brand = {b.lower().lstrip("@") for b in brand_identities}
    body = QUOTED_LINE_RE.sub(" ", text)
    whole = f"{subject}\n{body}"
    found: set[Found] = set()
    for match in EMAIL_RE.finditer(whole):
        address = match.group(0).rstrip(".").lower()
        if address not in brand:
            found.add(Found(Kind.EMAIL, address))
    for match in HANDLE_RE.finditer(whole):
        handle = match.group(1).lower()
        if handle not in brand:
            found.add(Found(Kind.HANDLE, handle))
    found |= {Found(Kind.CASE, number.lstrip("0") or "0") for number in CASE_RE.findall(whole)}
    # References are cut out before looking for phone numbers and ZIP codes in their digits.
    rest = EMAIL_RE.sub(" ", whole)
    for pattern in reference_patterns:
        for match in re.finditer(rf"(?<![\w-])(?:{pattern})(?![\w-])", rest):
            found.add(Found(Kind.REFERENCE, match.group(0).upper()))
        rest = re.sub(rf"(?<![\w-])(?:{pattern})(?![\w-])", " ", rest)
    phones, rest = _phones(rest, phone_region)
    found |= {Found(Kind.PHONE, phone) for phone in phones}
    found |= {Found(Kind.POSTCODE, code) for code in _postcodes(rest)}
    if name := normalise_name(author_name):
        found.add(Found(Kind.NAME, name))
    return sorted(found)


def _phones(text: str, region: str) -> tuple[set[str], str]:
    """The valid phone numbers in ``text`` (E.164), and the text without them."""
    if sum(map(str.isdigit, text)) < MIN_PHONE_DIGITS:
        return set(), text  # most messages: the matcher is slow and would find nothing
    phones, kept, end = set(), [], 0
    for match in phonenumbers.PhoneNumberMatcher(
        text, region, leniency=phonenumbers.Leniency.VALID
    ):
        phones.add(phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164))
        kept.append(text[end : match.start])
        end = match.end
    kept.append(text[end:])
    return phones, " ".join(kept)


def _postcodes(text: str) -> set[str]:
    codes = {f"{outward} {inward}" for outward, inward in UK_POSTCODE_RE.findall(text)}
    full_outwards = {code.split()[0] for code in codes}
    codes |= {o for o in UK_OUTWARD_RE.findall(text) if o not in full_outwards}
    codes |= {f"US {zip_code}" for zip_code in US_ZIP_RE.findall(text)}
    return codes


def outward(postcode: str) -> str:
    """The part of a postcode shared by neighbours: "BS7 8AB" and "BS7" are both "BS7"."""
    return postcode.split()[0] if not postcode.startswith("US ") else postcode


def normalise_name(name: str) -> str:
    """A display name for comparison: lower case, no accents, digits or emoji, single spaces;
    "Tomasz Wójcik 🚲" becomes "tomasz wojcik"."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return " ".join(NOT_NAME_CHARS_RE.sub(" ", plain).replace("-", " ").split())


def name_similarity(a: str, b: str, *, handle_a: str = "", handle_b: str = "") -> float:
    """How alike two normalised names (and optional X handles) are, from 0 to 1: 1 for the
    same full name, 0.8 for the same person written shorter ("Kelly M", "Jen Walsh" for
    "Kelly Marsden", "Jennifer Walsh", or the handle "kellymarsden"), else 0."""
    first_a, last_a = _first_last(a)
    first_b, last_b = _first_last(b)
    if first_a and first_b and last_a and last_b:
        if (first_a, last_a) == (first_b, last_b):
            return 1.0
        if _abbreviates(first_a, first_b) and _abbreviates(last_a, last_b):
            return 0.8
    for name, handle in ((a, handle_b), (b, handle_a)):
        first, last = _first_last(name)
        squashed = re.sub(r"[^a-z]", "", handle.lower())
        long_enough = len(first) >= 3 and len(last) >= 3
        if long_enough and squashed.startswith(first) and last in squashed:
            return 0.8
    return 0.0


def _first_last(name: str) -> tuple[str, str]:
    parts = name.replace("'", "").split()
    if len(parts) < 2:
        return (parts[0] if parts else ""), ""
    return parts[0], parts[-1]


def _abbreviates(x: str, y: str) -> bool:
    """One is the other or its start: "m" and "marsden", "jen" and "jennifer"."""
    short, long_ = sorted((x, y), key=len)
    return long_.startswith(short)
