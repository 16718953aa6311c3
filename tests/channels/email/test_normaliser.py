import contextlib
import json
from datetime import UTC, datetime
from email import message_from_bytes, policy

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cases.models import Message
from channels.email.mime import html_to_text
from channels.email.normaliser import case_reference, normalise
from channels.errors import MalformedPayload, UnsupportedEvent
from intake.models import QuarantinedPayload
from intake.services import ingest_payloads
from tests.channels.email.mailboxes import CORPUS, PEER_MAIL, corpus

MANIFEST = [json.loads(line) for line in (PEER_MAIL / "manifest.jsonl").read_text().splitlines()]
CORPUS_MAILS = sorted(path.name for path in CORPUS.glob("*.eml"))
# Mails a person could not answer: refused with the reason, kept in quarantine.
REFUSED = {
    "missing_from.eml": "no sender address",
    "malformed_from.eml": "no sender address",
    "no_date_at_all.eml": "no readable time",
    "message_partial.eml": "message/partial",
}


@pytest.mark.parametrize("row", MANIFEST, ids=[row["file"] for row in MANIFEST])
def test_each_peer_mail_is_read_with_its_sender_and_subject(row):
    raw = (PEER_MAIL / row["file"]).read_bytes()

    if row["file"].endswith("mail_with_no_date.eml"):
        # An empty Date header and no Received header: nothing says when it was sent.
        with pytest.raises(MalformedPayload, match="no readable time in its Date header"):
            normalise(raw)
        return
    inbound = normalise(raw)

    if row["py_from"] == "<>":  # a bounce from the null sender is the mail system's
        assert inbound.author.external_id == "mailer-daemon@smtp5.relay.example.com"
    else:
        assert inbound.author.external_id == row["py_from"].lower()
    assert inbound.subject == " ".join(row["py_subject"].split())
    assert inbound.external_id.startswith("<") and inbound.external_id.endswith(">")
    assert inbound.sent_at.tzinfo is not None


@pytest.mark.django_db
def test_every_peer_mail_is_stored_or_quarantined(accounts):
    raws = [(PEER_MAIL / row["file"]).read_bytes() for row in MANIFEST]

    result = ingest_payloads(source="email", payloads=raws, accounts=accounts)

    assert result.stored + result.duplicates + len(result.quarantined) == len(raws)
    # Many of these share one Message-ID: the same mail in several variants is stored once.
    assert result.stored == Message.objects.count() == 18
    assert [q.error for q in result.quarantined] == [
        "Mail <0CB459E0-0336-41DA-BC88-E6E28C697DDB@chatwoot.com>: no readable time in its "
        "Date header ('') nor in any Received header."
    ]


@pytest.mark.django_db
def test_every_corpus_mail_is_stored_or_quarantined_naming_the_mail(accounts):
    result = ingest_payloads(
        source="email", payloads=[corpus(name) for name in CORPUS_MAILS], accounts=accounts
    )

    assert result.stored == len(CORPUS_MAILS) - len(REFUSED)
    errors = sorted(QuarantinedPayload.objects.values_list("error", flat=True))
    assert len(errors) == len(REFUSED)
    for name, reason in REFUSED.items():
        mail_id = message_from_bytes(corpus(name), policy=policy.default)["Message-ID"]
        assert any(e.startswith(f"Mail {mail_id}") and reason in e for e in errors), name


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("unknown_charset.eml", "My kettle from the café range switches off before it boils."),
        ("latin1_labelled_utf8.eml", "The café kettle is 3 weeks old. Crème colour, £2 off"),
        ("utf8_labelled_latin1.eml", "Grüße aus München, der Toaster ist kaputt."),
        ("cp1252_labelled_latin1.eml", "The “smart” kettle costs €20 \u2013 réduced."),
        ("gbk_labelled_gb2312.eml", "冰箱坏了，请尽快修理。镕"),  # noqa: RUF001
        ("utf16_text.eml", "The microwave clock resets every night."),
        ("eight_bit_headers.eml", "Ich möchte den Staubsauger zurücksenden."),
        ("base64_garbage.eml", "Hello, the dryer is noisy."),
        ("raw_gb2312_undeclared.eml", "你好，我们家的冰箱从上周开始不制冷了"),  # noqa: RUF001
    ],
)
def test_text_reads_as_written_whatever_charset_the_mail_claims(name, text):
    assert normalise(corpus(name)).text.startswith(text)


def test_text_a_single_byte_label_reads_only_as_a_mess_is_detected():
    raw = corpus("raw_gb2312_undeclared.eml").replace(
        b"Content-Type: text/plain", b"Content-Type: text/plain; charset=iso-8859-1"
    )

    assert normalise(raw).text.startswith("你好，我们家的冰箱")  # noqa: RUF001


@pytest.mark.parametrize(
    ("name", "sender", "subject"),
    [
        # Raw 8-bit headers, the body undeclared: the detector reads them all together.
        ("raw_gb2312_undeclared.eml", "李先生", "冰箱坏了，请尽快修理"),  # noqa: RUF001
        # Raw Shift_JIS headers above an ISO-2022-JP body, as Japanese mailers write them.
        ("raw_shift_jis_headers.eml", "山田太郎", "冷蔵庫の修理について"),
        # RFC 2047 words labelled GB2312 holding GBK characters (镕 is not in GB2312).
        ("gbk_in_gb2312_encoded_word.eml", "朱镕", "镕铸件的订单"),
    ],
)
def test_headers_in_chinese_and_japanese_charsets_read_as_written(name, sender, subject):
    inbound = normalise(corpus(name))

    assert (inbound.author.display_name, inbound.subject) == (sender, subject)


@pytest.mark.parametrize(
    ("charset", "name", "subject"),
    [
        ("cp1251", "Иван Петров", "Сломался чайник"),
        ("euc-kr", "김철수", "냉장고가 고장났어요"),
        ("big5", "陳大文", "冰箱壞了請盡快修理"),
        ("latin-1", "José Müller", "Reparación del frigorífico"),
    ],
)
def test_raw_8bit_headers_in_other_common_charsets_read_as_written(charset, name, subject):
    header = f"From: {name} <x@example.com>\nSubject: {subject}\n".encode(charset)
    raw = header + corpus("no_message_id.eml").split(b"Subject: No id\n")[1]

    inbound = normalise(raw)

    assert (inbound.author.display_name, inbound.subject) == (name, subject)


def test_iso_2022_jp_is_read_whatever_its_label_not_shown_as_escapes():
    labelled = normalise(corpus("iso2022jp_body.eml"))
    unlabelled = normalise(corpus("iso2022jp_body.eml").replace(b"; charset=ISO-2022-JP", b""))

    assert labelled.text == "冷蔵庫が壊れました。修理をお願いします。\n山田"
    assert unlabelled.text == labelled.text
    # Old Japanese mailers write the header itself in ISO-2022-JP, not as RFC 2047 words.
    assert labelled.subject == "冷蔵庫の修理"


def test_8bit_and_encoded_headers_read_as_written():
    raw_utf8 = normalise(corpus("eight_bit_headers.eml"))
    encoded = normalise(corpus("rfc2047_headers.eml"))

    assert raw_utf8.author.display_name == "Jürgen Müller"
    assert raw_utf8.subject == "Rücksendung für Bestellung AH-2231"
    assert encoded.author.display_name == "Françoise Léger"
    assert encoded.subject == "Réparation du lave-linge € urgent"


def test_sender_is_the_lower_cased_from_address_with_its_name():
    inbound = normalise(corpus("multiple_from.eml"))

    assert inbound.author.external_id == "ana.ruiz@example.es"
    assert inbound.author.display_name == "Ana Ruiz"
    assert inbound.channel == "email"


@pytest.mark.parametrize(
    ("name", "sender", "display_name"),
    [
        # The name in the "addr (Name)" comment form, which RFC 5322 parsers drop.
        ("from_comment_name.eml", "nadia.petrova@example.net", "Nadia Petrova"),
        # Whitespace between adjacent RFC 2047 words is not part of the name (RFC 2047 6.2).
        ("adjacent_encoded_words.eml", "francoise@example.fr", "Françoise Léger"),
        # A second, valid From below one without an address.
        ("bogus_then_valid_from.eml", "omar.haddad@example.com", "Omar Haddad"),
        # Addresses no strict parser accepts that a person reads at a glance.
        ("from_name_and_bare_address.eml", "test@example.com", "Test"),
        ("from_spaces_in_angle_brackets.eml", "nadiapetrova@example.net", "Nadia Petrova"),
        ("from_quoted_local_stray_bracket.eml", "nadia.petrova@example.net", ""),
    ],
)
def test_the_sender_is_read_as_a_person_reads_it(name, sender, display_name):
    inbound = normalise(corpus(name))

    assert (inbound.author.external_id, inbound.author.display_name) == (sender, display_name)


@pytest.mark.parametrize(
    ("name", "sender"),
    [
        ("from_without_address_return_path.eml", "sam.okoro@example.net"),
        ("group_from_with_reply_to.eml", "omar.haddad@example.com"),
        ("bounce_dsn.eml", "mailer-daemon@mx.example.com"),
    ],
)
def test_a_from_without_an_address_falls_back_to_another_sender_header(name, sender):
    assert normalise(corpus(name)).author.external_id == sender


@pytest.mark.parametrize("name", ["missing_from.eml", "malformed_from.eml"])
def test_a_mail_with_no_sender_address_anywhere_is_refused_naming_it(name):
    mail_id = name.removesuffix(".eml").replace("_", "-")

    with pytest.raises(MalformedPayload, match=f"Mail <{mail_id}@mail.example.org>: no sender"):
        normalise(corpus(name))


@pytest.mark.parametrize(
    ("name", "sent_at"),
    [
        ("no_date_with_received.eml", datetime(2026, 11, 3, 9, 16, 2, tzinfo=UTC)),
        ("garbage_date.eml", datetime(2026, 11, 3, 9, 16, 2, tzinfo=UTC)),
        ("date_without_zone.eml", datetime(2026, 11, 3, 9, 15, tzinfo=UTC)),
    ],
)
def test_a_missing_or_unreadable_date_falls_back_to_our_servers_received_time(name, sent_at):
    assert normalise(corpus(name)).sent_at == sent_at


@pytest.mark.parametrize(
    ("name", "subject", "sent_at"),
    [
        # A folded Received and To whose continuation lines lost their indent.
        ("unindented_continuation.eml", "The oven door", datetime(2026, 11, 3, 9, 15, tzinfo=UTC)),
        # An mbox export's escaped ">From " line above the fields.
        ("first_line_not_a_header.eml", "Oven again", datetime(2026, 11, 3, 10, 15, tzinfo=UTC)),
    ],
)
def test_a_broken_header_block_keeps_its_fields_out_of_the_body(name, subject, sent_at):
    inbound = normalise(corpus(name))

    assert inbound.author.external_id == "nadia.petrova@example.net"
    assert (inbound.subject, inbound.sent_at) == (subject, sent_at)
    assert inbound.text.startswith("The oven door")


def test_a_mail_without_any_readable_time_is_refused():
    with pytest.raises(
        MalformedPayload, match=r"<no-date-at-all@mail\.example\.org>: no readable"
    ):
        normalise(corpus("no_date_at_all.eml"))


def test_a_mail_without_message_id_gets_the_same_id_from_any_mailbox():
    lf = corpus("no_message_id.eml")
    crlf = lf.replace(b"\n", b"\r\n")

    assert normalise(lf).external_id == normalise(crlf).external_id
    assert normalise(lf).external_id.endswith("@no-message-id.invalid>")
    assert normalise(lf).external_id != normalise(lf + b"More.\n").external_id


def test_an_overlong_id_is_shortened_the_same_way_wherever_it_appears():
    first = normalise(corpus("long_message_id.eml"))
    long_id = b"<" + b"x" * 600 + b"@mail.example.org>"
    reply = normalise(
        corpus("no_message_id.eml").replace(
            b"Subject:", b"In-Reply-To: " + long_id + b"\nSubject:"
        )
    )

    assert len(first.external_id) < 100
    assert reply.in_reply_to == (first.external_id,)


def test_thread_references_are_in_reply_to_then_references_nearest_first():
    inbound = normalise(corpus("outlook_quoted_reply.eml"))

    assert inbound.in_reply_to == ("<careinbox.77@acme-home.example>", "<first@mail.example.org>")


def test_a_case_reference_in_the_subject_is_found():
    assert case_reference(normalise(corpus("outlook_quoted_reply.eml")).subject) == 1234
    assert case_reference("Re: Re: [#42] Kettle [#7]") == 42
    assert case_reference("Re: [ # 42 ] Kettle") == 42
    assert case_reference("Order #42 [ref 42]") is None
    assert case_reference("") is None


def test_attachments_keep_their_names_types_and_bytes():
    winmail = normalise(corpus("winmail_dat.eml"))
    named = normalise(corpus("rfc2231_filename.eml"))
    invite = normalise(corpus("calendar_invite.eml"))

    assert winmail.text == "Please see the attached invoice question."
    assert [(a.filename, a.content_type, a.size) for a in winmail.attachments] == [
        ("winmail.dat", "application/ms-tnef", 64)
    ]
    assert winmail.attachments[0].content.startswith(b"\x78\x9f\x3e\x22")
    # RFC 2231 names are decoded; a name is never a path.
    assert [a.filename for a in named.attachments] == ["Récépissé n°1.pdf", "passwd"]
    # A name in raw 8-bit bytes, read in the charset of the mail's other raw header bytes.
    sjis = normalise(corpus("raw_shift_jis_headers.eml"))
    assert [(a.filename, a.content) for a in sjis.attachments] == [("見積書.pdf", b"%PDF-1.4\n")]
    assert named.attachments[0].content == b"%PDF-1.4\n"
    assert [(a.filename, a.content_type) for a in invite.attachments] == [
        ("attachment-1.ics", "text/calendar")
    ]
    assert b"SUMMARY:Engineer visit" in invite.attachments[0].content


def test_a_forwarded_mail_is_kept_whole_as_an_attachment():
    inbound = normalise(corpus("nested_rfc822.eml"))

    assert inbound.text == "Forwarding the confirmation you sent, the slot was missed."
    (forwarded,) = inbound.attachments
    assert forwarded.content_type == "message/rfc822"
    inner = message_from_bytes(forwarded.content, policy=policy.default)
    assert inner["Subject"] == "Your delivery slot"
    assert inner.get_body(("plain",)).get_content().startswith("Your delivery is booked")


def test_unnamed_parts_are_named_from_what_they_hold():
    bounce = normalise((PEER_MAIL / "chatwoot" / "bounced_gmail.eml").read_bytes())
    forwarded = normalise(corpus("nested_rfc822.eml"))

    # The returned mail by its subject, the report part by its kind.
    assert [(a.filename, a.content_type) for a in bounce.attachments] == [
        ("icon.png", "image/png"),
        ("delivery-status.txt", "message/delivery-status"),
        ("Just checking in.eml", "message/rfc822"),
    ]
    assert [a.filename for a in forwarded.attachments] == ["Your delivery slot.eml"]


def test_a_mail_of_only_attachments_is_kept_with_empty_text():
    inbound = normalise(corpus("tnef_only.eml"))

    assert inbound.text == ""
    assert [a.filename for a in inbound.attachments] == ["winmail.dat"]


def test_plain_text_is_preferred_and_html_kept_for_display():
    inbound = normalise(corpus("calendar_invite.eml"))

    assert inbound.text == "I have put the engineer visit in my calendar, see invite."
    assert (
        inbound.html.strip() == "<p>I have put the engineer visit in my calendar, see invite.</p>"
    )


def test_every_readable_part_of_a_mixed_mail_is_in_its_text_in_order():
    # Apple Mail sends text, a picture, then the rest of the text as an HTML part.
    inbound = normalise(corpus("mixed_inline_html.eml"))

    assert inbound.text == "The dishwasher leaks here:\n\nand here, under the door.\n\nLena"
    assert [a.filename for a in inbound.attachments] == ["leak.jpg"]


def test_an_html_only_mail_gets_readable_text_without_its_code():
    inbound = normalise(corpus("html_only_with_script.eml"))

    assert inbound.text == "Hello,\n\nthe hob shows:\n\n- F1 & F3\n\n- beeping"
    assert "<script>" in inbound.html  # the ingest service sanitises what is shown


def test_broken_mime_structure_still_shows_the_customers_words():
    assert "fridge door seal is torn" in normalise(corpus("broken_boundary.eml")).text
    truncated = normalise(corpus("unterminated_multipart.eml"))
    assert truncated.text == "The mail got cut off while sending the photo."
    assert [a.filename for a in truncated.attachments] == ["cut.jpg"]


def test_a_nul_byte_does_not_stop_a_mail_being_stored():
    assert normalise(corpus("null_bytes.eml")).text == "A NUL \ufffd byte in the middle."


def test_a_fragment_of_a_split_mail_is_unsupported():
    with pytest.raises(UnsupportedEvent, match=r"<message-partial@mail\.example\.org> is one"):
        normalise(corpus("message_partial.eml"))


def test_absurdly_nested_mime_is_refused():
    depth = 60
    opening = "".join(
        f'Content-Type: multipart/mixed; boundary="b{i}"\n\n--b{i}\n' for i in range(depth)
    )
    closing = "".join(f"\n--b{i}--\n" for i in reversed(range(depth)))
    raw = corpus("no_message_id.eml").split(b"\n\n")[0] + b"\n" + opening.encode()
    raw += b"Content-Type: text/plain\n\ndeep\n" + closing.encode()

    with pytest.raises(MalformedPayload, match="nested deeper than"):
        normalise(raw)


def test_empty_bytes_are_refused():
    with pytest.raises(MalformedPayload, match="empty"):
        normalise(b"  \r\n")


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.binary(max_size=3000))
def test_any_bytes_give_a_message_or_a_payload_error(raw):
    with contextlib.suppress(MalformedPayload, UnsupportedEvent):
        normalise(raw)


HTML_PIECES = ["<![", "<!", "</", "<", ">", "]", "CDATA", "--", "&#", "&#x", "99999999", ";",
               "<p>", "<script>", "</script>", "<!-- ", "-->", "<![if !supportLists]>",
               "<![endif]>", "&#xD800;", "text", "<li>", "<br>"]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(HTML_PIECES), max_size=25).map("".join))
def test_any_html_gives_text(html):
    assert isinstance(html_to_text(html), str)


def test_outlook_conditional_markup_gives_only_the_words():
    html = "<p><![if !supportLists]>1.<![endif]>Replace the filter</p><p>Thanks</p>"

    assert html_to_text(html) == "1.Replace the filter\n\nThanks"


HEADER_NAMES = ["From", "Sender", "Reply-To", "Date", "Message-ID", "In-Reply-To", "References",
                "Subject", "Content-Type", "Content-Transfer-Encoding", "Content-Disposition",
                "Received", "Auto-Submitted", "Return-Path"]  # fmt: skip
HEADER_PIECES = ["=?utf-8?q?caf=C3=A9?=", "=?x-bad?b?!!?=", "<a@b>", "<<", '"', "(", ")", ";",
                 "\\", "multipart/mixed; boundary=x", "text/plain; charset=klingon", "base64",
                 "attachment; filename*=utf-8''%FF%FE", "Tue, 3 Nov 2026 09:15:00 +0000",
                 "99 Foo 99999 99:99:99 +9999", "@", ":;", ",", "\udcff", "ü", "x@y.z",
                 "--x", "message/rfc822", "message/partial", "multipart/alternative;",
                 "multipart/report; report-type=delivery-status", "boundary=\"--x\""]  # fmt: skip


@st.composite
def hostile_mails(draw):
    lines = []
    for _ in range(draw(st.integers(0, 12))):
        name = draw(st.sampled_from(HEADER_NAMES))
        value = " ".join(draw(st.lists(st.sampled_from(HEADER_PIECES), max_size=6)))
        lines.append(f"{name}: {value}")
    body = draw(
        st.lists(st.sampled_from(["--x", "--x--", "text", "=C3", "\udcff", ""]), max_size=8)
    )
    text = "\n".join(lines) + "\n\n" + "\n".join(body)
    return text.encode("utf-8", "surrogateescape")


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(hostile_mails())
def test_hostile_headers_give_a_message_or_a_payload_error(raw):
    try:
        inbound = normalise(raw)
    except (MalformedPayload, UnsupportedEvent):
        return
    # Whatever was read must be storable text.
    for value in (inbound.text, inbound.subject, inbound.author.display_name, inbound.html):
        value.encode("utf-8")
