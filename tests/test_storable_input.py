"""Staff input PostgreSQL cannot store (a NUL) is cleaned before any view sees it, so a pasted
note or a doctored link never fails as a server error."""

import pytest
from django.urls import reverse

from cases.models import Message
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def test_a_note_with_a_nul_is_stored_without_it(ingest, agent):
    case = ingest(text="@acme_care my router").message.case

    response = client_for(agent).post(
        reverse("workspace:case-note", kwargs={"case_id": case.pk}),
        {"text": "Checked\x00 the logs"},
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 200
    assert Message.objects.get(case=case, direction=Message.Direction.NOTE).text == (
        "Checked the logs"
    )


@pytest.mark.parametrize(
    "query",
    ["?channel=%00", "?team=%00", "?start=%00&end=%00", "?%00=1", "?q=%00dishwasher%00"],
)
@pytest.mark.parametrize("route", ["reporting:dashboards", "workspace:inbox"])
def test_a_nul_in_a_query_string_is_never_a_server_error(supervisor, route, query):
    response = client_for(supervisor).get(reverse(route) + query)

    assert response.status_code < 500
