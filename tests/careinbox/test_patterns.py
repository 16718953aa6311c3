"""``WordPattern`` finds exactly what ``re`` finds for the same pattern opening with ``\\b``."""

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from careinbox.patterns import WordPattern

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


def test_a_pattern_that_can_match_nothing_is_refused():
    with pytest.raises(ValueError, match="empty string"):
        WordPattern(r"(?:thanks)?")
