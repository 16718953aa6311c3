"""What each user sees is narrowed to their teams (``CAREINBOX_TEAM_SCOPING``, on by
default): the cases of their teams, the cases of no team and the cases assigned or handed to
them; admins see every case. The access matrix checks every URL that names a case; here, the
lists, counts and search."""

import csv

import pytest
from django.urls import reverse

from cases.inbox import InboxFilters, inbox_page, queue_counts
from cases.models import Case
from staff import roles
from staff.models import Team
from tests.conftest import client_for, make_user
from tests.factories import AuthorFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(ingest):
    """Two teams with a case each, one case of no team; an agent in each team."""
    social, email = Team.objects.create(name="Social"), Team.objects.create(name="Email")
    sky = make_user("sky", roles.AGENT)
    sky.agent_profile.teams.add(social)
    eli = make_user("eli", roles.AGENT)
    eli.agent_profile.teams.add(email)
    cases = {}
    for name, team, text in [
        ("social", social, "dishwasher leaking"),
        ("email", email, "dishwasher broken"),
        ("nobody's", None, "dishwasher noisy"),
    ]:
        case = ingest(channel="x.dm", text=text).message.case
        Case.objects.filter(pk=case.pk).update(team=team)
        cases[name] = case.pk
    return {"sky": sky, "eli": eli, "teams": {"social": social, "email": email}, **cases}


def listed(user, queue="all", q=""):
    return {
        int(row["id"])
        for row in inbox_page(user=user, queue=queue, filters=InboxFilters(q=q)).rows
    }


def counts(user):
    return {count.queue.key: count.count for count in queue_counts(user=user)}


def test_an_agent_lists_counts_and_finds_only_their_teams_and_nobodys_cases(desk):
    sky = desk["sky"]

    assert listed(sky) == {desk["social"], desk["nobody's"]}
    assert listed(sky, q="dishwasher") == {desk["social"], desk["nobody's"]}
    assert counts(sky)["all"] == 2
    assert counts(sky)["unassigned"] == 2
    assert f"team:{desk['teams']['email'].pk}" not in counts(sky)
    page = client_for(sky).get(reverse("workspace:inbox"), {"queue": "all"}).content.decode()
    assert "dishwasher leaking" in page and "dishwasher broken" not in page


def test_a_case_handed_to_someone_of_another_team_is_theirs_to_see(desk):
    eli = desk["eli"]
    Case.objects.filter(pk=desk["social"]).update(assignee=eli)

    assert listed(eli, queue="mine") == {desk["social"]}
    assert client_for(eli).get(f"/cases/{desk['social']}/").status_code == 200


def test_handing_a_case_to_another_team_sends_the_agent_back_to_the_inbox(desk):
    sky = desk["sky"]

    handed = client_for(sky).post(
        reverse("workspace:case-hand-off", kwargs={"case_id": desk["social"]}),
        {"to_team": desk["teams"]["email"].pk, "note": "Billing question"},
        follow=True,
    )

    assert handed.redirect_chain[-1][0] == reverse("workspace:inbox")
    assert f"Case #{desk['social']} is now with another team." in handed.content.decode()
    assert Case.objects.get(pk=desk["social"]).team == desk["teams"]["email"]


def test_supervisors_see_their_teams_and_admins_every_case(desk):
    sam = make_user("sam", roles.SUPERVISOR)
    sam.agent_profile.teams.add(desk["teams"]["email"])
    ada = make_user("ada", roles.ADMIN)

    assert listed(sam) == {desk["email"], desk["nobody's"]}
    assert listed(ada) == {desk["social"], desk["email"], desk["nobody's"]}
    assert counts(ada)["all"] == 3


def test_with_scoping_off_whoever_reads_cases_reads_them_all(desk, settings):
    settings.CAREINBOX_TEAM_SCOPING = False

    assert listed(desk["sky"]) == {desk["social"], desk["email"], desk["nobody's"]}
    assert counts(desk["sky"])["all"] == 3


def test_dashboards_count_the_cases_their_reader_sees(desk):
    mo = make_user("mo", roles.MANAGER)
    mo.agent_profile.teams.add(desk["teams"]["social"])
    ada = make_user("ada", roles.ADMIN)

    def backlog_total(user) -> int:
        page = client_for(user).get("/dashboards/", {"export": "backlog-status"})
        text = b"".join(page.streaming_content).decode().lstrip("\ufeff")
        rows = list(csv.reader(text.splitlines()))[1:]
        return sum(int(row[1]) for row in rows)

    assert backlog_total(mo) == 2  # Social's and nobody's
    assert backlog_total(ada) == 3


def test_a_case_page_names_no_case_or_customer_of_another_team(desk, ingest):
    social, email = desk["teams"]["social"], desk["teams"]["email"]
    author = AuthorFactory()
    old = ingest(author=author, channel="x.dm", text="Old order").message.case
    Case.objects.filter(pk=old.pk).update(status=Case.Status.CLOSED, team=email)
    case = ingest(author=author, channel="x.dm", text="Order AH-20931-UK").message.case
    # Another author with the same order number: linking suggests they are one customer.
    other = ingest(channel="facebook.message", text="Order AH-20931-UK").message.case
    Case.objects.filter(pk=case.pk).update(team=social)
    Case.objects.filter(pk=other.pk).update(team=email)
    assert case.pk != old.pk

    def shown(user) -> str:
        return client_for(user).get(f"/cases/{case.pk}/").content.decode()

    ada, sky = make_user("ada", roles.ADMIN), desk["sky"]
    assert other.customer.display_name in shown(ada) and f"/cases/{old.pk}/" in shown(ada)
    assert other.customer.display_name not in shown(sky)
    assert f"/cases/{old.pk}/" not in shown(sky)
