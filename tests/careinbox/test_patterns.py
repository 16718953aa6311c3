"""``WordPattern`` and ``HintedPattern`` find exactly what ``re`` finds for their patterns."""

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from careinbox.patterns import HintedPattern, WordPattern
from casework import spam
from routing import rules, sentiment

BODIES = [
    r"(?:working|back\s+on)\s+(?:again|now)\b",
    r"thanks|cheers",
    r"no\s+(?:internet|signal)\b|every\s+day\b",
    r"\d+\s+days",  # opens with a digit, which is a word character too
    r"\S+\.com",  # may open with a character that is not a word's: \b then means a word ends
    r"(?:é|e)té",
]
# Letters, digits and the characters that end words, in the combinations that meet at a word's
# edge: inside a word, after an underscore or a digit, after an accented letter.
ALPHABET = "abcdegiknorstwy_09é. -\n\t!"


@pytest.mark.parametrize("body", BODIES)
@given(text=st.text(alphabet=ALPHABET, max_size=40))
def test_the_matches_are_those_of_the_pattern_opening_with_a_word_boundary(body, text):
    text = text.replace("w", "working ").replace("y", "thanks ")  # whole words now and then
    expected = [m.span() for m in re.finditer(rf"\b(?:{body})", text)]

    assert [m.span() for m in WordPattern(body).finditer(text)] == expected
    assert (WordPattern(body).search(text) is not None) == bool(expected)


def test_a_match_inside_a_word_is_passed_over_for_the_next_that_starts_one():
    phrase = WordPattern(r"working\s+again")

    found = phrase.search("networking again, and now working again")

    assert found is not None and found.start() == len("networking again, and now ")


def test_a_pattern_written_with_its_word_boundary_finds_what_re_finds():
    written = r"\bno\s+(?:internet|signal)\b|\bevery\s+day\b"
    text = "Still no internet, every day, and cannot connect: anno signal."

    assert [m.span() for m in WordPattern.written(written).finditer(text)] == [
        m.span() for m in re.finditer(written, text)
    ]
    with pytest.raises(ValueError, match="does not open with"):
        WordPattern.written(r"no\s+internet")


def test_a_pattern_that_can_match_nothing_is_refused():
    with pytest.raises(ValueError, match="empty string"):
        WordPattern(r"(?:thanks)?")


# Every hinted pattern of the product: links and mentions left out of a message's words, and
# the spam signals that need a digit or a word of their own (followers, packages).
HINTED = [
    value
    for module in (spam, rules, sentiment)
    for value in vars(module).values()
    if isinstance(value, HintedPattern)
]
# Pieces of links, mentions, sums, phone numbers, pitches and sentences, put together at random.
PIECES = st.sampled_from(
    ["http://", "https://", "www.", ".com", ".co.uk", ".example", ".net", ".org", ".so",
     "acme", "care", "e.g.", "@", "/", "-", " ", "\n", "Thanks", "x", "HTTPS://", "WWW.",
     "£", "$", "5", "07", "k", ",", "+44 ", "(", ")", " a day", " per week", " pounds",
     "real ", "followers", "likes", "seo ", "packages", "plans", "free ", "audit"]
)  # fmt: skip


def test_the_product_hints_its_link_patterns():
    assert {id(spam.URL), id(spam.SUM), id(spam.AUDIENCE)} < {id(p) for p in HINTED}


@pytest.mark.parametrize("hinted", HINTED, ids=lambda p: p.pattern[:30])
@given(data=st.data())
def test_a_hint_never_hides_a_match(hinted, data):
    # Texts made of the pieces, and texts made to hold a match, with pieces around it.
    pieces = st.lists(PIECES, max_size=12).map("".join)
    text = data.draw(pieces | st.from_regex(hinted.pattern).map(lambda m: m + data.draw(pieces)))
    plain = re.compile(hinted.pattern)

    assert hinted.sub(" ", text) == plain.sub(" ", text)
    assert (hinted.search(text) is None) == (plain.search(text) is None)
