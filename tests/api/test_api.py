"""The REST API does what the workspace does, through the same services and checks: the
inbox's filters and pages, claims that race, replies through the outbound queue, role
refusals in one error body."""

import json

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token

from cases.models import CannedResponse, Case, Message
from channels.models import ChannelAccount
from customers.models import Customer
from demo.connect import sandbox_email_account, sandbox_x_account
from intake.models import QuarantinedPayload
from intake.polling import poll_account
from intake.services import quarantine_payload
from notifications.models import Notification
from staff import roles
from staff.models import Team
from tests.conftest import client_for, make_user
from tests.factories import AuthorFactory


def api(user=None) -> Client:
    """A client sending ``user``'s API token (made for it), or none."""
    if user is None:
        return Client()
    token, _ = Token.objects.get_or_create(user=user)
    return Client(headers={"Authorization": f"Token {token.key}"})


def error_of(response) -> dict:
    body = response.json()
    assert set(body) == {"error"}, body
    assert body["error"]["status"] == response.status_code
    return body["error"]


@pytest.fixture
def two_cases(ingest):
    tweet = ingest(channel="x.mention", text="@acme_care my broadband is down again").message
    mail = ingest(channel="email", text="Refund for order AH-1 please").message
    return tweet.case, mail.case


def test_a_user_makes_a_token_on_their_page_and_it_reads_the_api_as_them(agent, two_cases):
    page = client_for(agent)
    assert "You have no API token" in page.get("/account/api-token/").content.decode()

    page.post("/account/api-token/", {"action": "make"})
    key = Token.objects.get(user=agent).key
    assert key in page.get("/account/api-token/").content.decode()
    listed = Client(headers={"Authorization": f"Token {key}"}).get("/api/v1/cases/")
    assert listed.status_code == 200
    assert {c["id"] for c in listed.json()["results"]} == {c.pk for c in two_cases}

    page.post("/account/api-token/", {"action": "replace"})
    assert Token.objects.get(user=agent).key != key
    refused = Client(headers={"Authorization": f"Token {key}"}).get("/api/v1/cases/")
    assert refused.status_code == 401
    assert error_of(refused)["code"] == "authentication_failed"

    page.post("/account/api-token/", {"action": "revoke"})
    assert not Token.objects.filter(user=agent).exists()


def test_without_a_token_the_api_answers_401_in_the_error_body(db):
    response = Client().get("/api/v1/cases/")
    assert response.status_code == 401
    assert error_of(response)["code"] == "not_authenticated"


def test_the_case_list_has_the_inboxs_filters_search_and_cursor_pages(agent, two_cases):
    tweet_case, mail_case = two_cases
    client = api(agent)

    by_platform = client.get("/api/v1/cases/", {"platform": "email"}).json()
    assert [c["id"] for c in by_platform["results"]] == [mail_case.pk]
    found = client.get("/api/v1/cases/", {"q": "broadband"}).json()
    assert [c["id"] for c in found["results"]] == [tweet_case.pk]
    assert found["results"][0]["customer"]["id"] == tweet_case.customer_id

    first = client.get("/api/v1/cases/", {"size": 1}).json()
    assert len(first["results"]) == 1 and first["next_cursor"]
    second = client.get("/api/v1/cases/", {"size": 1, "cursor": first["next_cursor"]}).json()
    assert second["next_cursor"] is None
    assert {first["results"][0]["id"], second["results"][0]["id"]} == {c.pk for c in two_cases}


def test_a_wrong_filter_is_an_error_naming_the_field_not_an_empty_list(agent, two_cases):
    client = api(agent)
    bad_status = client.get("/api/v1/cases/", {"status": "finished"})
    assert bad_status.status_code == 400
    assert set(error_of(bad_status)["fields"]) == {"status"}
    bad_cursor = client.get("/api/v1/cases/", {"cursor": "nonsense"})
    assert bad_cursor.status_code == 400
    assert set(error_of(bad_cursor)["fields"]) == {"cursor"}
    bad_queue = client.get("/api/v1/cases/", {"queue": "team:999"})
    assert set(error_of(bad_queue)["fields"]) == {"queue"}


def test_two_agents_claim_one_case_and_the_second_is_told_who_has_it(
    agent, other_agent, two_cases
):
    case = two_cases[0]
    won = api(agent).post(f"/api/v1/cases/{case.pk}/claim/")
    assert won.status_code == 200
    assert won.json()["assignee"]["username"] == "jo"
    assert won.json()["status"] == "open"

    lost = api(other_agent).post(f"/api/v1/cases/{case.pk}/claim/")
    assert lost.status_code == 409
    assert error_of(lost)["code"] == "case_taken"
    assert error_of(lost)["message"] == f"Jo Lee has already claimed case #{case.pk}."


def test_status_priority_and_tags_change_in_one_request_or_not_at_all(agent, two_cases):
    case = two_cases[0]
    client = api(agent)
    changed = client.patch(
        f"/api/v1/cases/{case.pk}/",
        {"status": "pending", "priority": "high", "tags": ["Broadband", "outage"]},
        content_type="application/json",
    )
    assert changed.status_code == 200
    body = changed.json()
    assert (body["status"], body["priority"], body["tags"]) == (
        "pending",
        "high",
        ["broadband", "outage"],
    )
    assert case.events.filter(kind="priority_changed").count() == 1

    invalid = client.patch(
        f"/api/v1/cases/{case.pk}/", {"priority": "whenever"}, content_type="application/json"
    )
    assert invalid.status_code == 400
    assert "priority" in error_of(invalid)["fields"]


def test_supervisors_move_a_case_to_a_team_and_agents_are_told_to_hand_it_off(
    agent, supervisor, two_cases
):
    case = two_cases[0]
    billing = Team.objects.create(name="Billing")
    supervisor.agent_profile.teams.add(billing)
    body = {"team": billing.pk}
    refused = api(agent).patch(f"/api/v1/cases/{case.pk}/", body, content_type="application/json")
    assert refused.status_code == 403
    assert "hand the case off" in error_of(refused)["message"]
    moved = api(supervisor).patch(
        f"/api/v1/cases/{case.pk}/", body, content_type="application/json"
    )
    assert moved.json()["team"] == {"id": billing.pk, "name": "Billing", "auto_assign": False}
    assert case.events.filter(kind="reassigned").count() == 1


def test_a_manager_reads_cases_but_changes_none(manager, two_cases):
    case = two_cases[0]
    client = api(manager)
    assert client.get(f"/api/v1/cases/{case.pk}/").status_code == 200
    refused = client.post(f"/api/v1/cases/{case.pk}/claim/")
    assert refused.status_code == 403
    assert error_of(refused) == {
        "status": 403,
        "code": "permission_denied",
        "message": "Your role does not allow you to work cases.",
    }
    assert Case.objects.get(pk=case.pk).assignee is None


def test_a_hand_off_needs_a_note_and_one_to_another_team_leaves_the_agents_view(agent, two_cases):
    case = two_cases[0]
    social, billing = Team.objects.create(name="Social"), Team.objects.create(name="Billing")
    agent.agent_profile.teams.add(social)
    Case.objects.filter(pk=case.pk).update(team=social)
    client = api(agent)

    no_note = client.post(
        f"/api/v1/cases/{case.pk}/hand-off/", {"team": billing.pk}, content_type="application/json"
    )
    assert no_note.status_code == 400
    assert "needs a note" in error_of(no_note)["message"]

    moved = client.post(
        f"/api/v1/cases/{case.pk}/hand-off/",
        {"team": billing.pk, "note": "Refund question, over to billing."},
        content_type="application/json",
    )
    assert moved.json() == {"id": case.pk, "moved": True}
    assert client.get(f"/api/v1/cases/{case.pk}/").status_code == 404


def test_only_supervisors_reassign(agent, other_agent, supervisor, two_cases):
    case = two_cases[0]
    api(agent).post(f"/api/v1/cases/{case.pk}/claim/")
    body = {"agent": other_agent.pk, "note": "Priya knows this customer."}
    refused = api(agent).post(
        f"/api/v1/cases/{case.pk}/reassign/", body, content_type="application/json"
    )
    assert refused.status_code == 403
    done = api(supervisor).post(
        f"/api/v1/cases/{case.pk}/reassign/", body, content_type="application/json"
    )
    assert done.json()["assignee"]["username"] == "priya"
    assert Notification.objects.filter(recipient=other_agent, case=case).exists()


def test_a_note_notifies_whoever_it_mentions_and_is_listed_with_the_messages(
    agent, other_agent, two_cases
):
    case = two_cases[1]
    client = api(agent)
    note = client.post(
        f"/api/v1/cases/{case.pk}/notes/",
        {"text": "@priya can you check the refund?"},
        content_type="application/json",
    )
    assert note.status_code == 201
    assert note.json()["direction"] == "note"
    assert Notification.objects.filter(recipient=other_agent, kind="mentioned").exists()

    listed = client.get(f"/api/v1/cases/{case.pk}/messages/").json()
    assert [m["direction"] for m in listed] == ["inbound", "note"]
    after = client.get(f"/api/v1/cases/{case.pk}/messages/", {"after": listed[0]["id"]}).json()
    assert [m["id"] for m in after] == [note.json()["id"]]


@pytest.mark.django_db(transaction=True)  # replies are sent on commit
def test_a_reply_goes_out_through_the_outbound_queue_with_the_composers_checks(
    agent, sandbox, demo_traffic_lines
):
    events = [json.loads(line) for line in demo_traffic_lines]
    sandbox.state.load([json.dumps(next(e for e in events if e["channel"] == "x.dm"))])
    account = ChannelAccount.objects.create(
        platform="x", **sandbox_x_account({"url": sandbox.url})
    )
    poll_account(account=account)
    case = Case.objects.get()
    client = api(agent)

    too_long = client.post(
        f"/api/v1/cases/{case.pk}/replies/",
        {"text": "x" * 10_001},
        content_type="application/json",
    )
    assert too_long.status_code == 400
    assert error_of(too_long)["code"] == "reply_not_possible"
    assert not Message.objects.filter(direction="outbound").exists()

    sent = client.post(
        f"/api/v1/cases/{case.pk}/replies/",
        {"text": "Could you DM your order number?"},
        content_type="application/json",
    )
    assert sent.status_code == 201
    assert [o.payload["text"] for o in sandbox.state.sent("x")] == [
        "Could you DM your order number? ^JL"
    ]
    assert Message.objects.get(pk=sent.json()["id"]).delivery_status == "sent"
    assert Case.objects.get(pk=case.pk).assignee == agent  # claimed by the reply


def test_an_email_reply_takes_a_subject_and_cc_addresses(
    agent, ingest, accounts, sandbox, django_capture_on_commit_callbacks
):
    spec = sandbox_email_account({"maildir": str(sandbox.maildir), "smtp_port": sandbox.smtp_port})
    accounts["email"].settings = spec["settings"]
    accounts["email"].save()
    case = ingest(
        channel="email",
        author=AuthorFactory(external_id="sarah@example.net"),
        subject="Broadband",
        text="Can you connect all four flats?",
    ).message.case
    url = f"/api/v1/cases/{case.pk}/replies/"
    reply = {"text": "Yes.", "subject": "Your four flats", "cc": ["ops@example.org"]}

    refused = api(agent).post(
        url, {**reply, "cc": ["ops@example"]}, content_type="application/json"
    )
    with django_capture_on_commit_callbacks(execute=True):
        sent = api(agent).post(url, reply, content_type="application/json")

    assert error_of(refused)["code"] == "reply_not_possible"
    assert "“ops@example” is not an email address" in error_of(refused)["message"]
    assert sent.status_code == 201
    assert sent.json()["cc"] == ["ops@example.org"]
    [mail] = sandbox.state.sent("email")
    assert (mail.payload["subject"], mail.payload["cc"]) == ("Your four flats", "ops@example.org")


def test_customers_are_listed_with_identities_and_supervisors_merge_them(
    agent, supervisor, ingest
):
    first = ingest(channel="x.dm", text="Order AH-20931-UK").message.case.customer
    second = ingest(channel="email", text="About AH-20931-UK").message.case.customer
    listed = api(agent).get("/api/v1/customers/").json()["results"]
    assert {c["id"] for c in listed} == {first.pk, second.pk}
    assert all(c["identities"] for c in listed)

    body = {"into": first.pk, "reason": "Same order number"}
    refused = api(agent).post(
        f"/api/v1/customers/{second.pk}/merge/", body, content_type="application/json"
    )
    assert refused.status_code == 403
    merged = api(supervisor).post(
        f"/api/v1/customers/{second.pk}/merge/", body, content_type="application/json"
    )
    assert merged.status_code == 200
    assert {i["platform"] for i in merged.json()["identities"]} == {"x", "email"}
    assert Customer.objects.get(pk=second.pk).merged_into_id == first.pk
    assert [c["id"] for c in api(agent).get("/api/v1/customers/").json()["results"]] == [first.pk]


def test_an_agent_of_another_team_sees_neither_the_case_nor_its_customer(agent, two_cases):
    case = two_cases[0]
    social, email = Team.objects.create(name="Social"), Team.objects.create(name="Email")
    Case.objects.filter(pk=case.pk).update(team=email)
    agent.agent_profile.teams.add(social)
    client = api(agent)
    assert client.get(f"/api/v1/cases/{case.pk}/").status_code == 404
    assert client.get(f"/api/v1/customers/{case.customer_id}/").status_code == 404
    assert case.pk not in {c["id"] for c in client.get("/api/v1/cases/").json()["results"]}


def test_agents_read_canned_responses_and_supervisors_write_them(agent, supervisor):
    CannedResponse.objects.create(title="Thanks", text="Thanks {first_name}!")
    assert [c["title"] for c in api(agent).get("/api/v1/canned-responses/").json()] == ["Thanks"]
    body = {"title": "Outage", "text": "We know, {first_name}; fixing it."}
    assert api(agent).post("/api/v1/canned-responses/", body).status_code == 403
    made = api(supervisor).post("/api/v1/canned-responses/", body)
    assert made.status_code == 201
    assert CannedResponse.objects.get(title="Outage").created_by == supervisor


def test_admins_retry_and_discard_quarantined_payloads(admin_user, agent, accounts):
    item = quarantine_payload(
        source="x", raw=b"{not json", error="Unreadable", account=accounts["x"]
    )
    assert api(agent).get("/api/v1/quarantine/").status_code == 403
    client = api(admin_user)
    assert [q["id"] for q in client.get("/api/v1/quarantine/").json()["results"]] == [item.pk]

    retried = client.post(f"/api/v1/quarantine/{item.pk}/retry/").json()
    assert retried["status"] == "pending"  # still unreadable: kept, with the new error
    assert retried["error"]

    discarded = client.post(f"/api/v1/quarantine/{item.pk}/discard/").json()
    assert discarded["status"] == "discarded"
    assert bytes(QuarantinedPayload.objects.get(pk=item.pk).raw_payload) == b"{not json"


def test_teams_and_agents_are_listed_for_picking_whom_to_hand_to(agent, manager):
    team = Team.objects.create(name="Social")
    agent.agent_profile.teams.add(team)
    client = api(manager)
    assert client.get("/api/v1/teams/").json() == [
        {"id": team.pk, "name": "Social", "auto_assign": False}
    ]
    agents = client.get("/api/v1/agents/").json()
    assert [(a["username"], a["roles"], a["teams"]) for a in agents] == [
        ("jo", [roles.AGENT], [team.pk])
    ]


def test_too_many_requests_are_refused_with_the_wait(agent, settings, two_cases):
    settings.CAREINBOX_API_RATE = "3/min"
    client = api(agent)
    answers = [client.get("/api/v1/cases/").status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    refused = client.get("/api/v1/cases/")
    assert error_of(refused)["code"] == "throttled"
    assert int(refused["Retry-After"]) > 0
    # Another user has a count of their own.
    assert api(make_user("priya", roles.AGENT)).get("/api/v1/cases/").status_code == 200


def test_the_schema_and_its_docs_are_served_with_no_script_from_elsewhere(db):
    schema = Client().get("/api/schema/", {"format": "json"})
    assert schema.status_code == 200
    assert {"/api/v1/cases/", "/api/v1/cases/{id}/replies/"} <= set(schema.json()["paths"])

    docs = Client().get("/api/docs/")
    page = docs.content.decode()
    assert docs.status_code == 200
    # Swagger UI from our static files, started by a script file: the page's content
    # security policy allows no inline script and nothing from another site.
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page
    assert "<script>" not in page.replace(" ", "")
    start = Client().get("/api/docs/", {"script": ""})
    assert start.status_code == 200 and "SwaggerUIBundle" in start.content.decode()


def test_an_address_under_api_that_names_nothing_is_a_404_in_the_error_body(agent):
    for path in ("/api/v1/nothing/", "/api/v1/cases/12x/", "/api/v2/cases/"):
        response = api(agent).get(path)
        assert response.status_code == 404, path
        assert error_of(response)["code"] == "not_found"
