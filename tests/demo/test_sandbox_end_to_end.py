"""The whole sample week through the real clients: connect_sandbox, then poll --once."""

import io
import json
from datetime import datetime

import pytest
from django.core.management import call_command

from cases.export import export_cases
from cases.models import Message
from channels.kinds import KINDS
from demo.sandbox import mail

pytestmark = pytest.mark.django_db


def author_key(event):
    author = event["author"]
    platform = KINDS[event["channel"]].platform
    return platform, (author["email"].lower() if platform == "email" else str(author["id"]))


def stored_key(message):
    return (message.author_identity.platform, message.author_identity.external_id)


def poll_once():
    out = io.StringIO()
    call_command("poll", once=True, stdout=out)
    return out.getvalue()


def test_every_sample_event_arrives_once_threaded_by_customer(sandbox, demo_traffic_lines):
    events = [json.loads(line) for line in demo_traffic_lines]
    sandbox.state.load(demo_traffic_lines)
    mail.deliver_visible(sandbox)  # rather than wait for the sandbox's next mail round
    call_command("connect_sandbox", url=sandbox.url, stdout=io.StringIO())

    first = poll_once()
    exported = list(export_cases())
    second = poll_once()

    assert "stored 0" not in first
    assert second.count("stored 0,") == 3, second
    assert list(export_cases()) == exported
    assert sum(len(case["messages"]) for case in exported) == len(events)
    # Match each sample event to the message the platforms delivered for it: one sender
    # never sends two messages in the same second in this traffic.
    stored = {
        (stored_key(m), m.sent_at): m
        for m in Message.objects.select_related("author_identity", "case")
    }
    by_event = {e["id"]: stored[(author_key(e), datetime.fromisoformat(e["at"]))] for e in events}
    replies = [e for e in events if e.get("reply_to")]
    assert replies
    for reply in replies:
        parent = next(e for e in events if e["id"] == reply["reply_to"])
        message, parent_message = by_event[reply["id"]], by_event[parent["id"]]
        assert message.parent_id == parent_message.pk, reply["id"]
        if author_key(reply) == author_key(parent):
            assert message.case_id == parent_message.case_id, reply["id"]
        else:
            assert message.case_id != parent_message.case_id, reply["id"]
            assert message.case.customer_id != parent_message.case.customer_id
