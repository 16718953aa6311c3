"""The privacy pages: admins download a customer's export, and erase a customer only by
confirming on the page that says what goes; anyone else is refused."""

import json

import pytest
from django.contrib.auth import get_user_model

from cases.models import CaseEvent
from customers.models import Customer
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def urls(customer_id: int) -> tuple[str, str]:
    return f"/customers/{customer_id}/export/", f"/customers/{customer_id}/erase/"


def test_an_admin_downloads_everything_held_about_a_customer(gwen, admin_user):
    export, _ = urls(gwen["merged"].pk)

    response = client_for(admin_user).get(export)

    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        f'attachment; filename="customer-{gwen["merged"].pk}.json"'
    )
    record = json.loads(response.content)
    assert record["customer"] == gwen["live"].pk
    assert {m["id"] for m in record["messages"]} >= {m.pk for m in gwen["messages"]}


def test_the_erase_page_says_what_goes_and_erases_nothing(gwen, admin_user):
    _, erase = urls(gwen["live"].pk)

    page = client_for(admin_user).get(erase).content.decode()

    assert f"Erase customer {gwen['live'].pk}?" in page
    assert "qzgwenhandle" in page and "qzgwen@mail.example" in page
    # Each identity's platform in words.
    assert "X <bdi>qzgwenhandle</bdi>" in page
    assert "Email <bdi>qzgwen@mail.example</bdi>" in page
    assert 'name="confirm"' in page
    assert not CaseEvent.objects.filter(kind=CaseEvent.Kind.ERASED).exists()


@pytest.mark.parametrize("typed", [None, "", "yes", "0"])
def test_a_post_without_the_customers_number_typed_erases_nothing(gwen, admin_user, typed):
    _, erase = urls(gwen["live"].pk)

    response = client_for(admin_user).post(erase, {} if typed is None else {"confirm": typed})

    assert response.status_code == 200
    assert 'class="errorlist' in response.content.decode()
    assert Customer.objects.get(pk=gwen["live"].pk).display_name == "Qzgwen X"
    assert not CaseEvent.objects.filter(kind=CaseEvent.Kind.ERASED).exists()


def test_a_confirmed_post_erases_the_customer(gwen, admin_user):
    _, erase = urls(gwen["merged"].pk)

    admin = client_for(admin_user)

    response = admin.post(erase, {"confirm": str(gwen["live"].pk)})

    assert response.status_code == 302
    assert Customer.objects.get(pk=gwen["live"].pk).display_name == "[erased]"
    erased = CaseEvent.objects.filter(kind=CaseEvent.Kind.ERASED, actor=admin_user).first()
    assert erased is not None
    timeline = admin.get(f"/cases/{erased.case_id}/").content.decode()
    assert "Ada Admin erased the customer&#x27;s data" in timeline
    assert "qzkettleword" not in timeline


def test_only_admins_may_export_or_erase(gwen, agent, supervisor, manager):
    export, erase = urls(gwen["live"].pk)
    for user in (agent, supervisor, manager):
        client = client_for(user)
        assert client.get(export).status_code == 403
        assert client.get(erase).status_code == 403
        assert client.post(erase, {"confirm": str(gwen["live"].pk)}).status_code == 403

    assert Customer.objects.get(pk=gwen["live"].pk).display_name == "Qzgwen X"


def test_an_unknown_customer_is_not_found(admin_user):
    export, erase = urls(999999)
    assert client_for(admin_user).get(export).status_code == 404
    assert client_for(admin_user).get(erase).status_code == 404


def test_the_admins_customer_page_links_to_the_export_and_the_erasure(gwen, client):
    client.force_login(get_user_model().objects.create_superuser("root", password="pw"))
    export, erase = urls(gwen["live"].pk)

    page = client.get(f"/admin/customers/customer/{gwen['live'].pk}/change/").content.decode()

    assert f'href="{export}"' in page and f'href="{erase}"' in page
