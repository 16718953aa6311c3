import pytest

from channels.errors import PermanentSendError
from channels.x.length import ReplyTooLong, validate_reply_text, weighted_length


@pytest.mark.parametrize(
    ("text", "length"),
    [
        ("Sorry to hear that!", 19),
        ("", 0),
        # Latin with accents, dashes and curly quotes count 1 each; an ellipsis counts 2.
        ("Café “déjà vu” \u2013 naïve…", 24),
        # NFC first: an "e" plus a combining accent is one character.
        ("cafe\u0301", 4),
        # CJK, Hangul and most symbols count 2.
        ("日本語のテキスト", 16),
        ("안녕하세요", 10),
        ("→ ★", 5),
        # Any URL counts 23, however long, with or without a scheme.
        ("https://example.com/a/very/long/path/that/goes/on?and=on&and=on", 23),
        ("Track it at https://t.co/abc and www.acme-home.co.uk/track", 12 + 23 + 5 + 23),
        ("see shop.example.com/ff-560-silver, thanks", 4 + 23 + 8),
        # A bare country domain without a path, and an email address, are not links.
        ("example.jp", 10),
        ("mail care@acme.com", 18),
        # An emoji counts 2 whatever it is made of: skin tones, families, flags, keycaps.
        ("👍", 2),
        ("👍🏽", 2),
        ("👨‍👩‍👧‍👦", 2),
        ("🇬🇧", 2),
        ("1️⃣", 2),
        ("❤️", 2),
        ("Thanks 🙏🙏", 11),
    ],
)
def test_weighted_length_counts_as_x_does(text, length):
    assert weighted_length(text) == length


def test_a_reply_of_exactly_280_is_accepted():
    validate_reply_text("a" * 276 + " ^JL")


def test_a_signature_that_tips_a_reply_over_280_is_refused_with_the_numbers():
    text = "x" * 270 + " 😊 done" + " ^JL"

    with pytest.raises(ReplyTooLong) as refused:
        validate_reply_text(text)

    assert str(refused.value) == "This reply is 282 of 280 characters on X; shorten it by 2."
    assert (refused.value.length, refused.value.limit) == (282, 280)
    assert isinstance(refused.value, PermanentSendError)


def test_cjk_reply_counts_double():
    with pytest.raises(ReplyTooLong, match="This reply is 282 of 280 characters on X"):
        validate_reply_text("申" * 141)


def test_links_count_23_however_long_they_are():
    validate_reply_text("a" * 256 + " https://acme-home.example.com/" + "p" * 200)


def test_a_direct_message_may_be_10000_characters():
    validate_reply_text("日" * 10_000, channel="x.dm")

    with pytest.raises(ReplyTooLong) as refused:
        validate_reply_text("a" * 10_012, channel="x.dm")

    assert str(refused.value) == (
        "This direct message is 10,012 of 10,000 characters on X; shorten it by 12."
    )
