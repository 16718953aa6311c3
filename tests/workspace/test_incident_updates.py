"""The supervisor's incident pages: compose, preview and post an update in one action; approve
the latest update for cases that joined since; close the incident. Through the sandbox."""

import json
import re
from datetime import UTC, datetime, timedelta

import pytest

from cases.models import Case, Message, Survey
from intake.polling import poll_account
from tests.conftest import client_for
from tests.incidents.world import link

pytestmark = pytest.mark.django_db(transaction=True)  # posts and replies leave on commit

PUBLIC = "Card payments are failing for some customers. Next update by 3pm."
TEMPLATE = "Hi {first_name}, card payments are failing for some customers; we are on it."


def form(platform_accounts, action, **fields):
    return {
        "account": [platform_accounts["x"].pk, platform_accounts["facebook"].pk],
        "public_text": fields.get("public_text", PUBLIC),
        "reply_template": fields.get("reply_template", TEMPLATE),
        "action": action,
    }


def text_of(response):
    return re.sub(r"\s+", " ", response.content.decode())


def test_the_compose_page_offers_the_brands_accounts_by_name(
    incident, supervisor, platform_accounts
):
    page = text_of(client_for(supervisor).get(f"/incidents/{incident.pk}/update/"))

    for platform in ("x", "facebook"):
        account = platform_accounts[platform]
        assert f'name="account" value="{account.pk}" checked> {account.name}' in page
    assert f'value="{platform_accounts["email"].pk}"' not in page  # mail has no public feed
    assert "No update yet" in page


def test_the_preview_shows_each_post_and_personal_signed_replies_and_posts_nothing(
    incident, supervisor, platform_accounts, sandbox
):
    response = client_for(supervisor).post(
        f"/incidents/{incident.pk}/update/", form(platform_accounts, "preview")
    )

    page = text_of(response)
    assert response.status_code == 200
    assert page.count(f"<pre>{PUBLIC}</pre>") == 2
    assert "A reply goes to 3 cases: 1 on Email, 1 on X direct message, 1 on X mention." in page
    mention = incident.picked["x.mention"]
    assert f"Case #{mention.case_id}, {mention.case.customer.display_name} (X mention)" in page
    assert "x.mention" not in page and "x.dm" not in page
    first = mention.case.customer.display_name.split()[0]
    assert f"Hi {first}, card payments are failing for some customers; we are on it. ^SO" in page
    assert sandbox.state.sent() == []


def test_posting_tweets_posts_on_the_page_replies_on_each_case_and_shows_the_posts(
    incident, supervisor, platform_accounts, sandbox
):
    client = client_for(supervisor)

    response = client.post(
        f"/incidents/{incident.pk}/update/", form(platform_accounts, "post"), follow=True
    )

    page = text_of(response)
    assert "Replied on 3 cases." in page
    assert f"{platform_accounts['x'].name}: <strong>Posted</strong>" in page
    assert f"{platform_accounts['facebook'].name}: <strong>Posted</strong>" in page
    assert [o.kind for o in sandbox.state.sent("facebook")] == ["facebook.page_post"]
    assert sorted(o.kind for o in sandbox.state.sent("x")) == ["x.dm", "x.tweet", "x.tweet"]
    assert len(sandbox.state.sent("email")) == 1

    client.post(
        f"/incidents/{incident.pk}/update/", form(platform_accounts, "post")
    )  # a second click

    assert len(sandbox.state.sent()) == 5
    case_page = text_of(client.get(f"/cases/{incident.picked['email'].case_id}/"))
    assert f"Sam Ortiz sent an update on incident #{incident.pk} “Card payments failing”" in (
        case_page
    )


def test_a_case_that_joined_since_waits_for_the_supervisors_approval(
    incident, supervisor, platform_accounts, sandbox
):
    client = client_for(supervisor)
    client.post(f"/incidents/{incident.pk}/update/", form(platform_accounts, "post"))
    at = datetime.now(UTC) + timedelta(seconds=5)
    sandbox.state.load(
        [
            json.dumps(
                {
                    "id": "late-1",
                    "at": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "channel": "x.mention",
                    "author": {"id": "918273645", "handle": "ritaops", "name": "Rita Okafor"},
                    "text": "@acme_care my card keeps getting declined",
                }
            )
        ]
    )
    poll_account(account=platform_accounts["x"], force=True)
    link(incident, Message.objects.get(text__contains="keeps getting declined"))
    sent_before = len(sandbox.state.sent("x"))

    page = text_of(client.get(f"/incidents/{incident.pk}/update/"))
    assert "1 case joined since the latest update." in page
    assert len(sandbox.state.sent("x")) == sent_before

    response = client.post(f"/incidents/{incident.pk}/late/", follow=True)

    assert "Replied on 1 case." in text_of(response)
    assert sandbox.state.sent("x")[-1].payload["text"].startswith("Hi Rita,")
    assert "joined since" not in text_of(response)


def test_closing_resolves_the_cases_and_the_incident(
    incident, supervisor, platform_accounts, sandbox
):
    client = client_for(supervisor)

    response = client.post(
        f"/incidents/{incident.pk}/close/",
        form(
            platform_accounts,
            "post",
            public_text="Card payments work again.",
            reply_template="Hi {first_name}, card payments work again.",
        ),
        follow=True,
    )

    page = text_of(response)
    assert "Replied on 3 cases; resolved 3." in page
    assert 'Status: <span class="incident-status">Resolved</span>' in page
    cases = [m.case_id for m in incident.picked.values()]
    assert set(Case.objects.filter(pk__in=cases).values_list("status", flat=True)) == {"resolved"}
    assert "Card payments work again." in [o.payload.get("text") for o in sandbox.state.sent("x")]


@pytest.mark.parametrize("path", ["update/", "close/"])
def test_agents_get_403_and_nothing_is_sent(incident, agent, platform_accounts, sandbox, path):
    client = client_for(agent)

    assert client.get(f"/incidents/{incident.pk}/{path}").status_code == 403
    posted = client.post(f"/incidents/{incident.pk}/{path}", form(platform_accounts, "post"))
    assert posted.status_code == 403
    assert client.post(f"/incidents/{incident.pk}/late/").status_code == 403
    assert sandbox.state.sent() == []


def test_closing_offers_surveys_only_when_the_supervisor_ticks_the_box(
    incident, supervisor, platform_accounts, sandbox
):
    client = client_for(supervisor)
    page = text_of(client.get(f"/incidents/{incident.pk}/close/"))
    assert (
        'name="surveys"' in page
        and 'name="surveys" data-testid="incident-surveys" checked' not in page
    )

    client.post(
        f"/incidents/{incident.pk}/close/",
        {
            **form(platform_accounts, "post", reply_template="Hi {first_name}, fixed."),
            "surveys": "on",
        },
    )

    cases = {m.case_id for m in incident.picked.values()}
    assert set(Survey.objects.values_list("case_id", flat=True)) == cases
