import re

import pytest
from django.urls import reverse

from cases.models import CannedResponse

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
TEXT = "Hi {first_name}, {agent_first_name} here. Case {case_number} is with our engineers."


def url(name, *args):
    return reverse(f"workspace:{name}", args=args)


@pytest.fixture
def canned(supervisor):
    return CannedResponse.objects.create(
        title="Engineer booked",
        text="Hi {first_name}, an engineer is booked.",
        created_by=supervisor,
    )


def test_a_supervisor_lists_the_canned_responses(client, supervisor, canned):
    client.force_login(supervisor)

    response = client.get(url("canned-list"))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Engineer booked" in html and "an engineer is booked." in html
    assert "created by Sam Ortiz" in html
    assert url("canned-edit", canned.pk) in html and url("canned-delete", canned.pk) in html
    assert "New canned response" in html
    assert " style=" not in html and not re.search(r"<script(?![^>]*\bsrc=)", html)


def test_a_supervisor_creates_a_canned_response(client, supervisor):
    client.force_login(supervisor)

    form = client.get(url("canned-new")).content.decode()
    response = client.post(url("canned-new"), {"title": "Refund sent", "text": TEXT}, follow=True)

    assert "{agent_first_name}" in form and "the agent who sends the reply" in form
    assert response.redirect_chain == [(url("canned-list"), 302)]
    assert "Created “Refund sent”." in response.content.decode()
    created = CannedResponse.objects.get(title="Refund sent")
    assert (created.text, created.created_by) == (TEXT, supervisor)


def test_a_supervisor_edits_a_canned_response(client, supervisor, canned):
    client.force_login(supervisor)

    form = client.get(url("canned-edit", canned.pk)).content.decode()
    response = client.post(
        url("canned-edit", canned.pk),
        {"title": "Engineer booked", "text": "Hello {customer_name}, booked for Monday."},
    )

    assert "Hi {first_name}, an engineer is booked." in form
    assert "Hi Gwen, an engineer is booked." in form  # the preview
    assert response.status_code == 302
    canned.refresh_from_db()
    assert canned.text == "Hello {customer_name}, booked for Monday."


def test_a_supervisor_deletes_a_canned_response(client, supervisor, canned):
    client.force_login(supervisor)

    by_get = client.get(url("canned-delete", canned.pk))
    response = client.post(url("canned-delete", canned.pk), follow=True)

    assert by_get.status_code == 405
    assert "Deleted “Engineer booked”." in response.content.decode()
    assert not CannedResponse.objects.exists()


def test_the_preview_fills_the_placeholders_with_sample_values(client, supervisor):
    client.force_login(supervisor)

    response = client.post(url("canned-preview"), {"text": TEXT + " {unknown}"}, **HTMX)

    html = response.content.decode()
    assert "Hi Gwen, Sam here. Case 1042 is with our engineers. {unknown}" in html
    assert "Gwen Harlow on case #1042" in html
    assert "<html" not in html


@pytest.mark.parametrize(
    ("title", "text", "error"),
    [
        ("engineer BOOKED", "Hello", "A canned response called “Engineer booked” already exists"),
        ("Refund", "   ", "Write the text of the response; it cannot be empty."),
        ("", "Hello", "Give the response a title agents will recognise."),
        ("Refund", "Hi {frist_name}", "Unknown placeholder {frist_name}; use {first_name},"),
    ],
)
def test_invalid_canned_responses_are_refused_in_words(
    client, supervisor, canned, title, text, error
):
    client.force_login(supervisor)

    response = client.post(url("canned-new"), {"title": title, "text": text})

    assert response.status_code == 400
    assert error in response.content.decode()
    assert CannedResponse.objects.count() == 1


def test_renaming_to_another_responses_title_is_refused(client, supervisor, canned):
    other = CannedResponse.objects.create(title="Refund sent", text="Refunded.")
    client.force_login(supervisor)

    response = client.post(
        url("canned-edit", other.pk), {"title": "Engineer Booked", "text": "Refunded."}
    )

    assert response.status_code == 400
    assert "already exists" in response.content.decode()
    other.refresh_from_db()
    assert other.title == "Refund sent"


@pytest.mark.parametrize("role", ["agent", "manager"])
def test_agents_and_managers_may_not_manage_canned_responses(client, request, canned, role):
    client.force_login(request.getfixturevalue(role))

    responses = [
        client.get(url("canned-list")),
        client.get(url("canned-new")),
        client.post(url("canned-new"), {"title": "Mine", "text": "Hello"}),
        client.get(url("canned-edit", canned.pk)),
        client.post(url("canned-edit", canned.pk), {"title": "Changed", "text": "Hello"}),
        client.post(url("canned-delete", canned.pk)),
        client.post(url("canned-preview"), {"text": "Hi"}),
    ]

    assert {r.status_code for r in responses} == {403}
    assert list(CannedResponse.objects.values_list("title", flat=True)) == ["Engineer booked"]


def test_an_admin_manages_canned_responses(client, admin_user):
    client.force_login(admin_user)

    response = client.post(url("canned-new"), {"title": "Hello", "text": "Hi {first_name}"})

    assert response.status_code == 302
    assert CannedResponse.objects.filter(title="Hello").exists()


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get(url("canned-list"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
