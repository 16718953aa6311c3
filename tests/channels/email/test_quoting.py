import json

from hypothesis import given, settings
from hypothesis import strategies as st

from channels.email.normaliser import normalise
from channels.email.quoting import split_quoted
from demo.sample import DEMO_TRAFFIC
from tests.channels.email.mailboxes import corpus

SAMPLE = {e["id"]: e for e in map(json.loads, DEMO_TRAFFIC.read_text().splitlines())}


def test_gmail_style_quote_is_folded_below_the_new_text():
    new, quoted = split_quoted(SAMPLE["e37"]["text"])

    assert new == (
        "Hi, it's now been another week. Has the part arrived? "
        "I've been doing washing at my sister's.\n\nJen"
    )
    assert quoted.startswith("On Mon, 26 Oct 2026 at 14:40, Acme Care <care@acme-home.example>")
    assert quoted.endswith(">> Jennifer Walsh")


def test_outlook_history_under_a_rule_is_folded():
    new, quoted = split_quoted(SAMPLE["e8"]["text"])

    assert new.startswith("To whoever actually reads these,")
    assert new.endswith("I can forward all thirty if that would help anyone.)")
    assert quoted.startswith(
        "________________________________\nFrom: Acme Care <care@acme-home.example>"
    )


def test_outlook_original_message_separator_is_folded():
    new, quoted = split_quoted(normalise(corpus("outlook_quoted_reply.eml")).text)

    assert new == "Still disabled. Please phone me.\n\nGwen"
    assert quoted.startswith("-----Original Message-----\nFrom: Acme Care")


def test_an_attribution_wrapped_over_two_lines_is_recognised():
    text = (
        "Thanks, that fixed it.\n\nOn Thu, Aug 19, 2021 at 2:07 PM Tejaswini from Acme <\n"
        "tejaswini@example.com> wrote:\n\n> Any update on this?\n>\n"
    )

    assert split_quoted(text) == (
        "Thanks, that fixed it.",
        "On Thu, Aug 19, 2021 at 2:07 PM Tejaswini from Acme <\n"
        "tejaswini@example.com> wrote:\n\n> Any update on this?\n>",
    )


def test_a_signature_below_the_quote_does_not_stop_the_fold():
    text = (
        "Yes, steps below.\n\nOn Mon, 2 Nov 2026 at 10:00, Acme <care@acme-home.example> "
        "wrote:\n> Any update?\n\n--\nSony\n"
    )

    new, quoted = split_quoted(text)

    assert new == "Yes, steps below."
    assert quoted.endswith("--\nSony")


def test_answers_written_between_quoted_lines_stay_visible():
    text = normalise(corpus("interleaved_reply.eml")).text

    assert split_quoted(text) == (text, "")


def test_other_languages_attributions_are_recognised():
    text = (
        "Merci.\n\nLe lun. 2 nov. 2026 à 10:00, Acme Care <care@acme.example> a écrit :\n> Bonjour"
    )

    assert split_quoted(text) == ("Merci.", text.split("\n\n", 1)[1])


def test_a_mail_without_history_is_all_new():
    assert split_quoted("On Monday I phoned you.\nNobody answered.") == (
        "On Monday I phoned you.\nNobody answered.",
        "",
    )
    assert split_quoted("") == ("", "")


PIECES = ["> ", ">", "\n", "On ", " wrote:", "From: x", "Sent: y", "a", " ", "@", "12:30", "--",
          "-----Original Message-----", "_" * 32]  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(PIECES)).map("".join))
def test_folding_only_splits_never_loses_or_invents_text(text):
    new, quoted = split_quoted(text)

    assert text.startswith(new)
    assert quoted in text
    assert len(new) + len(quoted) <= len(text)
