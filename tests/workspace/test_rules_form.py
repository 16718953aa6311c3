"""The routing rule form as an admin reads it: each checkbox inside its label, the conditions
and the actions in their own groups, and the rule test naming channels in words."""

import re

import pytest

from routing import rules
from routing.models import RoutingRule
from tests.conftest import client_for
from tests.factories import InboundFactory

pytestmark = pytest.mark.django_db

CHECKBOXES = {
    "enabled": "Enabled: run this rule on every new customer message",
    "closing_thanks": "only thanks us or says all is well",
    "names_store": "names a store",
    "team_from_store": "send the case to the named store's team",
    "mark_no_reply": "mark the message as needing no reply",
    "stop_processing": "Stop here: later rules are not looked at when this one matches",
}


@pytest.fixture
def admin_client(admin_user):
    return client_for(admin_user)


def fieldset(html: str, legend: str) -> str:
    match = re.search(rf"<fieldset[^>]*>\s*<legend>{legend}</legend>(.*?)</fieldset>", html, re.S)
    assert match, f"no group {legend!r}"
    return match.group(1)


def names_in(html: str) -> list[str]:
    return re.findall(r'<(?:input|select)[^>]* name="([a-z_]+)"', html)


def test_each_checkbox_sits_inside_its_label_with_its_help_beside_it(admin_client):
    html = admin_client.get("/rules/new/").content.decode()

    for name, label in CHECKBOXES.items():
        assert re.search(
            rf'<label for="id_{name}"><input type="checkbox" name="{name}"[^>]*> '
            rf"<span>{re.escape(label)}</span></label>",
            html.replace("&#x27;", "'"),
        ), name
    assert re.search(
        r'<input type="checkbox" name="mark_no_reply"[^>]*'
        r'aria-describedby="id_mark_no_reply_helptext"',
        html,
    )
    assert '<p class="help" id="id_mark_no_reply_helptext">It stays on the case' in html


def test_conditions_and_actions_are_grouped_under_when_and_then(admin_client):
    html = admin_client.get("/rules/new/").content.decode()

    when = fieldset(html, "When a customer message…")
    then = fieldset(html, "Then…")
    assert names_in(when) == [
        "channel_account",
        "platform",
        "keywords",
        "pattern",
        "language",
        "sentiment",
        "closing_thanks",
        "names_store",
    ]
    assert names_in(then) == [
        "set_team",
        "team_from_store",
        "set_priority",
        "add_tags",
        "mark_no_reply",
        "stop_processing",
    ]
    assert "every condition filled in must hold" in when
    assert '<label for="id_keywords">mentions any of:</label>' in when
    assert ">Try the rule on recent messages</button>" in html
    assert '<label for="preview-last">How many recent customer messages</label>' in html


def test_the_rule_test_names_each_messages_channel_in_words(admin_client, ingest):
    ingest(InboundFactory(channel="x.mention", text="@acme_care my kettle leaks"))
    ingest(InboundFactory(channel="facebook.message", text="The kettle leaks again"))
    ingest(InboundFactory(channel="email", text="Kettle question"))

    response = admin_client.post(
        "/rules/new/",
        {"name": "Kettles", "keywords": "kettle", "add_tags": "kettle", "action": "preview"},
    )

    html = response.content.decode()
    preview = html[html.index('data-testid="rule-preview"') :]
    channels = re.findall(r'<br><span class="help">([^<]*)</span>', preview)
    assert response.status_code == 200
    assert "Matches 3 of the last 3 customer messages" in preview
    assert channels == ["Email", "Facebook Messenger", "X mention"]
    assert "x.mention" not in html and "facebook.message" not in html
    assert not RoutingRule.objects.exists()


def test_the_saved_rule_is_tested_from_the_list(admin_client, ingest):
    saved = rules.save_rule(rule=RoutingRule(name="Direct", platform="x", add_tags="dm"))
    ingest(InboundFactory(channel="x.dm", text="Where is my order?"))

    html = admin_client.get(f"/rules/{saved.pk}/?preview").content.decode()

    assert "Matches 1 of the last 1 customer messages" in html
    assert '<span class="help">X direct message</span>' in html
