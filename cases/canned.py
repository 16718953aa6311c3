"""Which canned responses fit a customer's message: the composer offers those first, best
first, so an agent starts from an answer to what the customer wrote, not the alphabet.

A response fits by the words it shares with the message (title words count double; rarer
words among the responses count more, so "refund" outweighs "order"), by the case's tags
named in its title, and by language: one written in another language than the message
never counts as fitting.
"""

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cases.models import CannedResponse
from routing.rules import STOP_WORDS, detect_language

_WORD = re.compile(r"[^\W\d_]{3,}")
_PLACEHOLDER = re.compile(r"\{\w+\}")
_SUFFIX = re.compile(r"(?:ing|ed|es|s)$")
_COMMON = frozenset().union(*STOP_WORDS.values()) | {"please", "hello", "sorry", "hi"}


@dataclass(frozen=True)
class CannedChoice:
    """The composer's canned responses: those that fit, best first, then all the rest by
    title."""

    fitting: list[CannedResponse]
    others: list[CannedResponse]


def _stems(text: str) -> set[str]:
    words = _WORD.findall(_PLACEHOLDER.sub(" ", text).lower())
    return {_SUFFIX.sub("", w) or w for w in words if w not in _COMMON}


def best_fitting(
    responses: Sequence[CannedResponse], text: str, *, tags: Iterable[str] = ()
) -> CannedChoice:
    """``responses`` split into those that fit the message ``text`` (on a case with
    ``tags``), best first, and the others by title."""
    words = _stems(text) | {_SUFFIX.sub("", t.lower()) for t in tags}
    language = detect_language(text)
    stems = {r.pk: (_stems(r.title), _stems(r.text)) for r in responses}
    df = Counter(word for title, body in stems.values() for word in title | body)
    weight = {word: 1 + math.log(len(responses) / n) for word, n in df.items()}

    def score(response: CannedResponse) -> float:
        written_in = detect_language(response.text)
        if language and written_in and written_in != language:
            return 0.0
        title, body = stems[response.pk]
        return sum(weight[w] * (2 if w in title else 1) for w in words & (title | body))

    scored = sorted(
        ((score(r), r.title.lower(), r) for r in responses), key=lambda s: (-s[0], s[1])
    )
    fitting = [r for points, _, r in scored if points > 0]
    others = sorted((r for r in responses if r not in fitting), key=lambda r: r.title.lower())
    return CannedChoice(fitting=fitting, others=others)
