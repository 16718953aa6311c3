"""A survey's answer read from a reply: a short rating alone, in the languages customers write
in; anything longer, or any other message with a number in it, is no answer."""

import pytest

from routing.survey_answers import read_score


@pytest.mark.parametrize(
    ("reply", "score"),
    [
        ("5", 5),
        (" 3 ", 3),
        ("5/5", 5),
        ("2 / 5", 2),
        ("4 out of 5", 4),
        ("4 de 5", 4),
        ("3 sur 5", 3),
        ("4 von 5", 4),
        ("\u0664 \u0645\u0646 \u0665", 4),  # Arabic-Indic digits: 4 of 5
        ("\uff15", 5),  # a full-width 5
        ("9/10", 5),
        ("3 stars", 3),
        ("5点", 5),
        ("⭐⭐⭐⭐", 4),
        ("⭐️⭐️", 2),
        ("★★★☆☆", 3),
        ("terrible", 1),
        ("Awful!", 1),
        ("great", 5),
        ("Excellent.", 5),
        ("very good", 5),
        ("Muy bien!", 5),
        ("pésimo", 1),
        ("Très bien", 5),
        ("sehr gut", 5),
        ("schlecht", 2),
        ("ممتاز", 5),
        ("最高", 5),
        ("5, thanks!", 5),
        ("Thank you! 4/5", 4),
        ("gracias, excelente", 5),
        ("5\n\nSent from my iPhone", 5),
        ("4\n-- \nAnn Smith\n07700 900000 and a long signature line", 4),
    ],
)
def test_a_rating_alone_is_an_answer(reply, score):
    assert read_score(reply) == score


@pytest.mark.parametrize(
    "reply",
    [
        "",
        "thanks",
        "ok",
        "6",
        "0",
        "6/5",
        "⭐⭐⭐⭐⭐⭐",
        "my order 5 is late",
        "Where is my refund?",
        "5 days and still no engineer",
        "I would give you 5 out of 5 for sure, great job team",
        "order AH-5",
        "great, but the kettle still leaks",
        "5\n\nbut the fridge still leaks",
    ],
)
def test_anything_else_is_no_answer(reply):
    assert read_score(reply) is None
