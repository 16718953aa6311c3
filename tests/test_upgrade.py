"""An installation from before the apps were laid out by domain upgrades with ``migrate`` and
keeps every row, and the permissions given to its users; its channel credentials end up
encrypted."""

from datetime import UTC, datetime

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from cases.export import export_cases
from cases.models import Case

DOMAIN_APPS = ["channels", "staff", "customers", "sla", "routing", "cases", "notifications"]
BEFORE = [("tickets", "0012_inbox_mine_index"), ("channels_in", "0002_poll_failures")]
AT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def migrate(targets) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return MigrationExecutor(connection)


@pytest.mark.django_db(transaction=True)
def test_a_database_from_before_the_layout_upgrades_with_its_rows_and_permissions():
    migrate([*BEFORE, *((app, None) for app in ["intake", *DOMAIN_APPS])])
    old = MigrationExecutor(connection).loader.project_state(BEFORE).apps
    account = old.get_model("channels_in", "ChannelAccount").objects.create(
        platform="x", name="@acme_care", credentials={"bearer_token": "plain-old-token"}
    )
    customer = old.get_model("tickets", "Customer").objects.create(display_name="Gwen Harlow")
    identity = old.get_model("tickets", "Identity").objects.create(
        customer=customer, platform="x", external_id="555", handle="gwen_h", last_seen_at=AT
    )
    case = old.get_model("tickets", "Case").objects.create(customer=customer, opened_at=AT)
    message = old.get_model("tickets", "Message").objects.create(
        case=case,
        direction="inbound",
        channel_account=account,
        channel="x.mention",
        external_id="m1",
        author_identity=identity,
        text="@acme_care my order never came",
        sent_at=AT,
    )
    old.get_model("tickets", "CaseEvent").objects.create(
        case=case, kind="created", occurred_at=AT, message=message
    )
    work_case = old.get_model("auth", "Permission").objects.get(
        content_type__app_label="tickets", codename="work_case"
    )
    user = old.get_model("auth", "User").objects.create(username="kim")
    user.user_permissions.add(work_case)

    executor = migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    assert not executor.migration_plan(executor.loader.graph.leaf_nodes())
    (row,) = export_cases()
    assert row["key"] == "x.mention:m1"
    assert row["customer"]["identities"][0]["handle"] == "gwen_h"
    assert [m["external_id"] for m in row["messages"]] == ["m1"]
    assert [e["kind"] for e in row["events"]] == ["created"]
    # Rolled up, with the channel copied onto the case row the backlog reads.
    assert Case.objects.get().first_channel == "x.mention"
    upgraded = Case.objects.get().messages.get().channel_account
    assert upgraded.name == "@acme_care"
    assert upgraded.credentials == {"bearer_token": "plain-old-token"}
    with connection.cursor() as cursor:  # encrypted on the way
        cursor.execute("SELECT credentials FROM channels_in_channelaccount")
        assert "plain-old-token" not in cursor.fetchone()[0]
    assert get_user_model().objects.get(username="kim").has_perm("cases.work_case")
