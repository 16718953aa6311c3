"""Telling what a customer wrote now from the history their mail client quoted below it."""

import re

# Attribution lines mail clients put above a quote, in the languages customers write in:
# "On Mon, 26 Oct 2026 at 14:40, Acme Care <care@acme-home.example> wrote:" and its kin.
_OPENING = r"^\s*(On|Le|Am|El|Op|Il|Em|Den|På|W dniu)\s"
_ATTRIBUTION = re.compile(
    _OPENING + r".{0,300}"
    r"(wrote|a écrit|schrieb|escribió|schreef|ha scritto|escreveu|skrev|napisał)\s*.{0,80}:\s*$",
    re.IGNORECASE | re.DOTALL,
)
# How an attribution line starts: most lines are ruled out by this alone.
_ATTRIBUTION_OPENING = re.compile(_OPENING, re.IGNORECASE)
# Outlook's separators above the quoted mail.
_ORIGINAL_MESSAGE = re.compile(
    r"^\s*-{2,}\s*(Original Message|Ursprüngliche Nachricht|Message d'origine|"
    r"Mensaje original|Oorspronkelijk bericht)\s*-{2,}\s*$",
    re.IGNORECASE,
)
_RULE = re.compile(r"^\s*_{10,}\s*$")
_FROM = re.compile(r"^\s*\*?(From|Von|De|Van|Da)\s*:\*?\s+\S", re.IGNORECASE)
_SENT = re.compile(r"^\s*\*?(Sent|Date|Gesendet|Datum|Envoyé|Enviado|Verzonden|Inviato)\s*:", re.I)


def split_quoted(text: str) -> tuple[str, str]:
    """Split a mail's text into (what the customer wrote, the quoted history below it).

    The quote starts at an attribution line ("On ... wrote:"), an Outlook "Original Message"
    separator or From:/Sent: block, or a final run of ">" lines. Replies written between
    quoted lines are the customer's words and stay in the first part.
    """
    lines = text.splitlines(keepends=True)
    cut = _quote_start(lines)
    if cut is None:
        return text, ""
    return "".join(lines[:cut]).rstrip(), "".join(lines[cut:]).strip("\n")


def _quote_start(lines: list[str]) -> int | None:
    for i, line in enumerate(lines):
        if _ORIGINAL_MESSAGE.match(line):
            return i
        if _RULE.match(line) and _header_block(lines, i + 1):
            return i
        if _header_block(lines, i):
            return i
        if _attribution_starts_quote(lines, i):
            return i
        if line.startswith(">") and _quoted(lines[i:]) == "all":
            return i
    return None


def _header_block(lines: list[str], i: int) -> bool:
    """A quoted mail's header as Outlook writes it: "From: ..." then "Sent: ..." just below."""
    if i >= len(lines) or not _FROM.match(lines[i]):
        return False
    return any(_SENT.match(line) for line in lines[i + 1 : i + 4])


def _attribution_starts_quote(lines: list[str], i: int) -> bool:
    """An attribution at line i (clients wrap long ones in two) followed only by ">" lines,
    or by unmarked history when it names an address or a time, as clients write them."""
    if lines[i].strip() and not _ATTRIBUTION_OPENING.match(lines[i]):
        return False
    for span in (1, 2):
        attribution = "".join(lines[i : i + span]).replace("\n", " ")
        if i + span > len(lines) or not _ATTRIBUTION.match(attribution):
            continue
        quoted = _quoted(lines[i + span :])
        generated = "@" in attribution or re.search(r"\d:\d\d", attribution) is not None
        return quoted == "all" or (quoted == "none" and generated)
    return False


def _quoted(lines: list[str]) -> str:
    """Whether the non-blank lines are "all" quoted (">"), "none" are, or "some" are; a
    signature below the quote ("-- " and what follows) does not count."""
    signature = next((i for i, line in enumerate(lines) if line.rstrip() == "--"), None)
    lines = lines[:signature]
    marks = {line.lstrip().startswith(">") for line in lines if line.strip()}
    if marks == {False}:
        return "none"
    return "some" if marks == {True, False} else "all"
