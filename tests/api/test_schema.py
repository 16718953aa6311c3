"""The API answers as its OpenAPI schema says: generated requests to every operation, sent
through the live application to the schema it serves, find no server error and no answer
that breaks the schema (its status, content type, headers or body).

Input the schema allows may still be refused in words (a hand-off without a note, a cursor
from nowhere): the schema cannot say everything a service checks, so acceptance of every
schema-valid request is not among the checks. Examples are derived, not random, so a run
fails or passes the same way each time."""

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis import checks

from cases.models import CannedResponse
from intake.services import quarantine_payload
from staff import roles
from tests.api.test_api import api
from tests.conftest import make_user

# Read from the application as a client would: the schema needs no database.
schema = schemathesis.openapi.from_wsgi("/api/schema/", WSGIHandler())


@pytest.fixture
def keep_the_test_connection():
    """Requests go through the real WSGI handler, which closes the database connection at
    each request's end; the test's transaction lives on it. Django's test client
    disconnects the same handler around each request."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def token(ingest, accounts, settings, keep_the_test_connection):
    """An admin's token (admins may call every operation), and records for the operations
    to find."""
    settings.CAREINBOX_API_RATE = "100000/min"
    ingest(channel="x.dm", text="Order AH-20931-UK")
    ingest(channel="email", text="Refund please")
    CannedResponse.objects.create(title="Thanks", text="Thanks {first_name}!")
    quarantine_payload(source="x", raw=b"{", error="Unreadable", account=accounts["x"])
    return api(make_user("ada", roles.ADMIN)).defaults["HTTP_AUTHORIZATION"]


@schema.parametrize()
@settings(
    max_examples=20,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_every_operation_answers_as_the_schema_says(case, token):
    case.call_and_validate(
        headers={"Authorization": token},
        checks=[
            checks.not_a_server_error,
            checks.status_code_conformance,
            checks.content_type_conformance,
            checks.response_headers_conformance,
            checks.response_schema_conformance,
        ],
    )


def test_the_schema_generates_without_a_warning_and_validates(tmp_path):
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    assert "/api/v1/cases/{id}/hand-off/:" in target.read_text()
