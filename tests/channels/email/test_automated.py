import pytest

from channels.email.mime import parse
from channels.email.normaliser import automated_kind, normalise
from tests.channels.email.mailboxes import CORPUS, PEER_MAIL, corpus

MACHINE_SENT = {
    "corpus/auto_reply_out_of_office.eml": "auto-reply",  # Auto-Submitted: auto-replied
    "corpus/read_receipt.eml": "auto-reply",  # disposition-notification report
    "corpus/bounce_dsn.eml": "bounce",  # delivery-status report from MAILER-DAEMON
    "chatwoot/auto_reply.eml": "auto-reply",  # X-Autoreply: yes
    "chatwoot/auto_reply_with_auto_submitted.eml": "auto-reply",  # Auto-Submitted: auto-generated
    "chatwoot/non_utf_encoded_mail.eml": "auto-reply",  # Precedence: bulk, X-Autoreply
    "chatwoot/bounced_gmail.eml": "bounce",
    "chatwoot/bounced_with_no_from.eml": "bounce",
}


def load(name):
    folder, _, file = name.partition("/")
    return corpus(file) if folder == "corpus" else (PEER_MAIL / name).read_bytes()


@pytest.mark.parametrize(("name", "kind"), MACHINE_SENT.items())
def test_auto_replies_and_bounces_are_recognised_and_still_read(name, kind):
    raw = load(name)

    assert automated_kind(parse(raw)) == kind
    assert normalise(raw).author.external_id  # stored like any mail, not dropped


PERSON_SENT = [
    name
    for name in [f"corpus/{p.name}" for p in sorted(CORPUS.glob("*.eml"))]
    + [f"chatwoot/{p.name}" for p in sorted((PEER_MAIL / "chatwoot").glob("*.eml"))]
    if name not in MACHINE_SENT
]


@pytest.mark.parametrize("name", PERSON_SENT)
def test_mail_a_person_wrote_is_not_taken_for_automated(name):
    assert automated_kind(parse(load(name))) == ""


@pytest.mark.parametrize(
    ("header", "kind"),
    [
        ("Auto-Submitted: no", ""),
        ("Auto-Submitted: auto-notified; owner-email=x@y", "auto-reply"),
        ("Precedence: junk", "auto-reply"),
        ("Precedence: list", ""),  # a customer writing through a group alias
        ("X-Autorespond: vacation", "auto-reply"),
        ("X-Failed-Recipients: gone@example.com", "bounce"),
    ],
)
def test_automated_kind_follows_the_headers_mail_systems_set(header, kind):
    raw = (
        corpus("only_text.eml")
        if (CORPUS / "only_text.eml").exists()
        else corpus("empty_body.eml")
    )

    assert automated_kind(parse(header.encode() + b"\n" + raw)) == kind
