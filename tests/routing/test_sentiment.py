"""The sentiment of a customer message (``routing.sentiment``): plain text in, "neg", "neu",
"pos" or "" (not scored) out."""

import pytest

from routing.sentiment import MOOD_SAMPLE, clean, is_english, sentiment


@pytest.mark.parametrize(
    "text",
    [
        "@acme_care broadband down again in my street, third time this week. Useless.",
        "My router has not been working since Monday and I'm still waiting for an engineer.",
        # A complaint without a single swear word or angry adjective.
        "Ordered a fridge on 3 March, still no delivery date. Every time I ring I'm told "
        "next week.",
        "No internet since 6am. Any known problems?",
        "The payment page is down and I've been cut off twice on hold.",
    ],
)
def test_complaints_are_negative(text):
    assert sentiment(text) == "neg"


@pytest.mark.parametrize(
    "text",
    [
        "Brilliant, all sorted now. Thank you so much!",
        "@acme_care working again, ignore me 👍",
        "Huge thanks to the engineer, lovely guy and really helpful.",
        "The refund landed this morning, thanks for sorting it so fast",
    ],
)
def test_praise_and_fixes_are_positive(text):
    assert sentiment(text) == "pos"


@pytest.mark.parametrize(
    "text",
    [
        "Do you deliver to Northern Ireland?",
        "What time does the Leeds store open on Sunday?",
        "My account number is 4410-7732-90.",
        # A polite question is not praise.
        "Hi, could you please send me a VAT invoice for my order? Thanks",
    ],
)
def test_questions_and_facts_are_neutral(text):
    assert sentiment(text) == "neu"


def test_quoted_email_history_is_not_the_customers_mood():
    reply = (
        "Thanks, the part arrived today and the washer works perfectly. Great service!\n\n"
        "On Mon, 26 Oct 2026 at 14:40, Acme Care <care@acme-home.example> wrote:\n"
        "> We are sorry your washer is broken and you have had no hot water.\n"
        "> This is unacceptable and we apologise for the terrible delay.\n"
    )
    assert "unacceptable" not in clean(reply)
    assert sentiment(reply) == "pos"
    quoted_lines = "Still nothing. Useless.\n> Thanks so much, great service, lovely!\n"
    assert sentiment(quoted_lines) == "neg"


def test_a_long_message_is_read_for_its_mood_in_its_opening():
    thanks = "Brilliant, the engineer sorted it in ten minutes. Thank you so much!\n"
    quiet = "23:14:07 INFO wan0 lease renewed, 192.168.1.1\n" * 60
    errors = "23:14:09 ERROR wan0 link failed, dropped, retrying\n" * 400
    assert len(thanks + quiet) > MOOD_SAMPLE
    # The errors far down a pasted log are not the customer's mood; an opening is.
    assert sentiment(thanks + quiet + errors) == "pos"
    assert sentiment(errors + thanks) == "neg"


def test_mentions_and_links_are_left_out():
    assert clean("@happy_helpers see https://example.com/great") == "see"


@pytest.mark.parametrize(
    "text",
    [
        # German, Spanish and Japanese without emoji: not scored, rather than "neutral".
        "Hallo, ich habe heute eine E-Mail wegen meinem beschädigten Geschirrspüler geschickt.",
        "Buenas noches. Mi número de pedido es US-551873, el modelo es el FF-700.",
        "交換品の手配ありがとうございます。金曜日に届くのを楽しみにしています。",
        # Short, but not English: its detector's guess stands.
        "Vielen Dank!",
    ],
)
def test_other_languages_without_emoji_are_not_scored(text):
    assert sentiment(text) == ""


def test_other_languages_are_read_by_their_emoji():
    assert sentiment("Compré un refrigerador hace dos semanas y ya no enfría 😡") == "neg"
    assert sentiment("Merci beaucoup pour votre aide, tout fonctionne maintenant 👍") == "pos"


@pytest.mark.parametrize("text", ["ok great thanks", "Zip is 98102", "thank you x"])
def test_short_english_is_read_as_english(text):
    assert sentiment(text) in {"neu", "pos"}


def test_nothing_to_read_is_not_scored():
    assert sentiment("") == ""
    assert sentiment("@acme_care https://example.com/x") == ""


@pytest.mark.parametrize(
    ("text", "english"),
    [
        ("My router has not been working since Monday, can you help?", True),
        ("Hola, mi pedido no ha llegado y nadie me responde.", False),
        ("交換品の手配ありがとうございます。", False),
    ],
)
def test_common_words_or_a_script_settle_the_language_without_the_detector(
    monkeypatch, text, english
):
    def no_detector():
        raise AssertionError("the detector was asked")

    monkeypatch.setattr("routing.sentiment._detector", no_detector)

    assert is_english(text) is english
