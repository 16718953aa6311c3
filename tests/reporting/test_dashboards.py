"""The dashboards, checked against figures worked out by hand on a small week built through the
real services: the sandbox's platforms, polling, and the actions agents use, each at a stated
time. The same expectations hold on SQLite (percentiles computed in Python) and PostgreSQL
(percentile_cont)."""

import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client

from cases import rollup
from cases.models import Case, CaseRollup, Message
from casework import actions, breaches
from demo.sandbox import mail
from demo.simulation import clock_at
from reporting.views import spreadsheet_safe
from sla.models import SLAPolicy
from staff import roles
from staff.models import AgentProfile, Team
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

MON = datetime(2026, 11, 2, tzinfo=UTC)
NOW = MON + timedelta(days=3, hours=12)  # Thursday noon
RANGE = {"start": "2026-11-02", "end": "2026-11-04"}


def at(day: int, hhmm: str) -> datetime:
    hours, minutes = map(int, hhmm.split(":"))
    return MON + timedelta(days=day, hours=hours, minutes=minutes)


def event(id, day, hhmm, channel, author, text, **extra):
    return {
        "id": id,
        "at": at(day, hhmm).isoformat().replace("+00:00", "Z"),
        "channel": channel,
        "author": author,
        "text": text,
        **extra,
    }


# Six customers, one case each: Ann, Dan and Fay on X, Bob and Eve by email, Cat on Facebook.
TRAFFIC = [
    event("a1", 0, "09:00", "x.mention", {"id": "9001", "handle": "ann", "name": "Ann Archer"},
          "@acme_care my kettle leaks"),
    event("b1", 0, "09:30", "email", {"email": "bob@example.com", "name": "Bob Brown"},
          "Where is my refund?", subject="Refund"),
    event("c1", 0, "10:00", "facebook.comment", {"id": "9003", "name": "Cat Cole"},
          "My sofa arrived torn", page_post={"id": "104857600123456_77", "text": "Sofas!"}),
    event("d1", 1, "09:00", "x.mention", {"id": "9004", "handle": "dan", "name": "Dan Dale"},
          "@acme_care my toaster sparks"),
    event("e1", 1, "10:00", "email", {"email": "eve@example.com", "name": "Eve Evans"},
          "My lamp flickers", subject="Lamp"),
    event("f1", 2, "09:00", "x.mention", {"id": "9006", "handle": "fay", "name": "Fay Ford"},
          "@acme_care where is my order"),
]  # fmt: skip


@pytest.fixture
def staff(agent, other_agent, supervisor, manager):
    social = Team.objects.create(name="Social")
    email = Team.objects.create(name="Email")
    AgentProfile.objects.get(user=agent).teams.add(social)
    AgentProfile.objects.get(user=other_agent).teams.add(email)
    for lead in (supervisor, manager):  # Sam supervises and Mo manages both teams
        AgentProfile.objects.get(user=lead).teams.add(social, email)
    return {"jo": agent, "priya": other_agent, "sam": supervisor, "mo": manager,
            "social": social, "email": email}  # fmt: skip


def case_of(author_text: str) -> int:
    return Message.objects.get(text__startswith=author_text, direction="inbound").case_id


@pytest.fixture
def week(sandbox, staff, django_capture_on_commit_callbacks):
    """The week's traffic polled from the sandbox, then worked by Jo, Priya and Sam:

    - Ann (X, Mon 09:00): Jo claims 09:05, replies 09:10, hands off to Priya 09:20; Priya
      replies 09:50 and resolves 10:00.
    - Bob (email, Mon 09:30): Sam assigns him to Priya and the Email team 09:40; Priya
      replies 11:30 and sets pending 11:35.
    - Cat (Facebook, Mon 10:00): Priya claims 10:30, replies 10:40, hands off to Jo and the
      Social team 11:00; Jo hands off to Sam 12:00.
    - Dan (X, Tue 09:00): Jo replies 09:20 (claiming it) and resolves 10:00.
    - Eve (email, Tue 10:00): nobody yet.
    - Fay (X, Wed 09:00): Jo replies 09:30 and resolves 12:00.

    One SLA policy for every case: first response in 35 minutes, next response in an hour,
    resolution in 4 hours, around the clock. The breach check runs before every action, as
    beat would run it every minute.
    """
    SLAPolicy.objects.create(
        name="Standard", first_response_minutes=35, next_response_minutes=60,
        resolution_minutes=240,
    )  # fmt: skip
    sandbox.state.load([json.dumps(e) for e in TRAFFIC])
    mail.deliver_visible(sandbox)
    call_command("connect_sandbox", url=sandbox.url, stdout=io.StringIO())
    with django_capture_on_commit_callbacks(execute=True):
        call_command("poll", once=True, stdout=io.StringIO())
    assert Message.objects.count() == len(TRAFFIC)
    jo, priya, sam = staff["jo"], staff["priya"], staff["sam"]
    cases = {name: case_of(text) for name, text in
             [("ann", "@acme_care my kettle"), ("bob", "Where is my refund"),
              ("cat", "My sofa"), ("dan", "@acme_care my toaster"), ("eve", "My lamp"),
              ("fay", "@acme_care where is")]}  # fmt: skip

    def do(when, action, **kwargs):
        # What the action leaves for after its commit (a reply's sending) runs at its time.
        with clock_at(when), django_capture_on_commit_callbacks(execute=True):
            breaches.record_breaches(now=when)
            return action(**kwargs)

    ann, bob, cat = cases["ann"], cases["bob"], cases["cat"]
    do(at(0, "09:05"), actions.claim_case, case_id=ann, agent=jo)
    do(at(0, "09:10"), actions.reply_to_case, case_id=ann, agent=jo, text="Sorry Ann, checking")
    do(at(0, "09:20"), actions.hand_off_case, case_id=ann, by=jo, note="Needs a refund",
       to_user_id=priya.pk)  # fmt: skip
    do(at(0, "09:40"), actions.reassign_case, case_id=bob, by=sam, to_user_id=priya.pk,
       to_team_id=staff["email"].pk)  # fmt: skip
    do(
        at(0, "09:50"),
        actions.reply_to_case,
        case_id=ann,
        agent=priya,
        text="Refund is on its way",
    )
    do(at(0, "10:00"), actions.set_status, case_id=ann, by=priya, status="resolved")
    do(at(0, "10:30"), actions.claim_case, case_id=cat, agent=priya)
    do(at(0, "10:40"), actions.reply_to_case, case_id=cat, agent=priya, text="Sorry Cat!")
    do(at(0, "11:00"), actions.hand_off_case, case_id=cat, by=priya, note="Sofa swap",
       to_user_id=jo.pk, to_team_id=staff["social"].pk)  # fmt: skip
    do(at(0, "11:30"), actions.reply_to_case, case_id=bob, agent=priya, text="Refunded today")
    do(at(0, "11:35"), actions.set_status, case_id=bob, by=priya, status="pending")
    do(at(0, "12:00"), actions.hand_off_case, case_id=cat, by=jo, note="Needs a supervisor",
       to_user_id=sam.pk)  # fmt: skip
    do(
        at(1, "09:20"),
        actions.reply_to_case,
        case_id=cases["dan"],
        agent=jo,
        text="Unplug it, Dan",
    )
    do(at(1, "10:00"), actions.set_status, case_id=cases["dan"], by=jo, status="resolved")
    do(
        at(2, "09:30"),
        actions.reply_to_case,
        case_id=cases["fay"],
        agent=jo,
        text="On its way, Fay",
    )
    do(at(2, "12:00"), actions.set_status, case_id=cases["fay"], by=jo, status="resolved")
    with clock_at(NOW):
        breaches.record_breaches(now=NOW)
    assert not Message.objects.exclude(delivery_status__in=["", "sent"]).exists()
    return cases


# Reading the pages as a browser would.


class Tables(HTMLParser):
    """Every dashboard table on a page: key -> rows of (data-value, link, text) cells."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tables: dict[str, list[list[tuple[str, str | None, str]]]] = {}
        self._table: str | None = None
        self._cell: list | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and "data-table" in attrs:
            self._table = attrs["data-table"]
            self.tables[self._table] = []
        elif self._table and tag == "tr":
            self.tables[self._table].append([])
        elif self._table and tag == "td" and "data-value" in attrs:
            self._cell = [attrs["data-value"], None, ""]
        elif self._cell is not None and tag == "a":
            self._cell[1] = attrs["href"]

    def handle_data(self, data):
        if self._cell is not None:
            self._cell[2] += data

    def handle_endtag(self, tag):
        if tag == "td" and self._cell is not None:
            self.tables[self._table][-1].append(tuple(self._cell))  # type: ignore[index]
            self._cell = None
        elif tag == "table":
            self._table = None

    def rows(self, key: str) -> list[list[tuple[str, str | None, str]]]:
        return [row for row in self.tables[key] if row]

    def values(self, key: str) -> list[list[str]]:
        return [[value for value, _, _ in row] for row in self.rows(key)]


def get(client: Client, url: str, **params):
    with clock_at(NOW):
        response = client.get(url, params)
    assert response.status_code == 200, (url, response.status_code)
    return response


def page(client: Client, url: str, **params) -> Tables:
    return Tables(get(client, url, **params).content.decode())


def csv_rows(client: Client, url: str, **params) -> list[list[str]]:
    response = get(client, url, **params)
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


@pytest.fixture
def client(staff):
    signed_in = Client()
    signed_in.force_login(staff["mo"])
    return signed_in


DASHBOARDS = [
    "/dashboards/",
    "/dashboards/response-times/",
    "/dashboards/agents/",
    "/dashboards/service-levels/",
    "/dashboards/hand-offs/",
]


# The figures.


def test_the_roll_up_the_figures_read_was_kept_in_step_by_every_action_of_the_week(week):
    stored = {r.case_id: r for r in CaseRollup.objects.all()}
    assert len(stored) == len(TRAFFIC)
    for fresh in rollup.rollups(stored):
        kept = stored[fresh.case_id]
        for field in CaseRollup._meta.concrete_fields:
            assert getattr(kept, field.attname) == getattr(fresh, field.attname), field.name
    assert sum(r.first_response_breached for r in stored.values()) > 0


def test_backlog_counts_the_cases_waiting_now(week, client):
    tables = page(client, "/dashboards/", **RANGE)

    # Thursday noon: Bob pending (3 days old), Cat open with Sam (3 days), Eve new (2 days).
    assert tables.values("backlog-status") == [["New", "1"], ["Open", "1"],
                                               ["Pending on customer", "1"]]  # fmt: skip
    assert tables.values("backlog-team") == [["Email", "1"], ["Social", "1"], ["No team", "1"]]
    assert tables.values("backlog-channel") == [["Email", "2"], ["Facebook comment", "1"]]
    assert tables.values("backlog-age") == [
        ["Under 1 hour", "0"], ["1 to 4 hours", "0"], ["4 to 24 hours", "0"],
        ["1 to 3 days", "1"], ["3 to 7 days", "2"], ["Over 7 days", "0"],
    ]  # fmt: skip


def test_flow_counts_cases_opened_and_resolved_each_day(week, client):
    tables = page(client, "/dashboards/", **RANGE)

    assert tables.values("flow") == [
        ["2026-11-02", "3", "1"],  # Ann, Bob, Cat opened; Ann resolved
        ["2026-11-03", "2", "1"],  # Dan, Eve opened; Dan resolved
        ["2026-11-04", "1", "1"],  # Fay opened and resolved
    ]


def test_response_times_per_channel_are_the_hand_computed_percentiles(week, client):
    tables = page(client, "/dashboards/response-times/", **RANGE)

    # Channel, opened, answered, first response p50 and p90 (minutes), resolved, resolution
    # p50 and p90 (minutes). X: first responses 10, 20 and 30 minutes, so p90 is
    # 20 + 0.8 * 10 = 28; resolutions 60, 60 and 180 minutes, p90 60 + 0.8 * 120 = 156.
    assert tables.values("times-channel") == [
        ["Email", "2", "1", "120.0", "120.0", "0", "", ""],
        ["Facebook comment", "1", "1", "40.0", "40.0", "0", "", ""],
        ["X mention", "3", "3", "20.0", "28.0", "3", "60.0", "156.0"],
    ]
    assert [text for _, _, text in tables.rows("times-channel")[2]][3:5] == ["20 min", "28 min"]


def test_response_times_per_team_take_each_case_s_current_team(week, client):
    tables = page(client, "/dashboards/response-times/", **RANGE)

    assert tables.values("times-team") == [
        ["Email", "1", "1", "120.0", "120.0", "0", "", ""],
        ["Social", "1", "1", "40.0", "40.0", "0", "", ""],
        ["No team", "4", "3", "20.0", "28.0", "3", "60.0", "156.0"],
    ]


def _reassign_with_the_action(case_id: int, team: Team, staff) -> None:
    with clock_at(NOW):
        actions.reassign_case(case_id=case_id, by=staff["sam"], to_team_id=team.pk)


def _reassign_with_an_update(case_id: int, team: Team, staff) -> None:
    Case.objects.filter(pk=case_id).update(team=team)


@pytest.mark.parametrize("reassign", [_reassign_with_the_action, _reassign_with_an_update])
def test_a_case_given_to_another_team_moves_to_that_team_s_times(week, client, staff, reassign):
    reassign(week["eve"], staff["email"], staff)

    tables = page(client, "/dashboards/response-times/", **RANGE)

    # Eve (email, not answered yet) leaves the cases of no team for Email.
    assert tables.values("times-team") == [
        ["Email", "2", "1", "120.0", "120.0", "0", "", ""],
        ["Social", "1", "1", "40.0", "40.0", "0", "", ""],
        ["No team", "3", "3", "20.0", "28.0", "3", "60.0", "156.0"],
    ]
    email_opened = page(client, tables.rows("times-team")[0][1][1]).rows("cases")
    assert {row[0][2] for row in email_opened} == {f"#{week[n]}" for n in ("bob", "eve")}


def test_agents_table_counts_each_agent_s_cases(week, client):
    tables = page(client, "/dashboards/agents/", **RANGE)

    # Holding now, taken on, replied on, resolved, handed off, received hand-offs.
    assert tables.values("agents") == [
        ["Jo Lee", "0", "4", "3", "2", "2", "1"],
        ["Priya Shah", "1", "3", "3", "1", "1", "1"],
        ["Sam Ortiz", "1", "1", "0", "0", "0", "1"],
    ]


def test_sla_attainment_counts_the_breaches_the_check_recorded(week, client):
    tables = page(client, "/dashboards/service-levels/", **RANGE)

    # Cases, then missed and met for first response, next response (of the 5 answered
    # cases) and resolution. First responses missed: Bob (2 h), Cat (40 min), Eve (none).
    # Resolutions missed: Cat and Eve, still open after 4 hours; Bob's clock paused while
    # pending.
    assert tables.values("sla") == [["Standard", "6", "3", "50.0", "0", "100.0", "2", "66.7"]]
    missed = page(client, tables.rows("sla")[0][2][1]).rows("cases")
    assert {row[0][2] for row in missed} == {f"#{week[n]}" for n in ("bob", "cat", "eve")}
    resolution = page(client, tables.rows("sla")[0][6][1]).rows("cases")
    assert {row[0][2] for row in resolution} == {f"#{week[n]}" for n in ("cat", "eve")}


def _raise_with_the_action(case_id: int, policy: SLAPolicy, staff) -> None:
    with clock_at(NOW):
        actions.set_priority(case_id=case_id, by=staff["sam"], priority="urgent")


def _raise_with_an_update(case_id: int, policy: SLAPolicy, staff) -> None:
    Case.objects.filter(pk=case_id).update(priority="urgent", sla_policy=policy)


@pytest.mark.parametrize("raise_", [_raise_with_the_action, _raise_with_an_update])
def test_a_case_raised_to_urgent_counts_under_the_urgent_policy(week, client, staff, raise_):
    urgent = SLAPolicy.objects.create(
        name="Urgent", priority="urgent", first_response_minutes=15, next_response_minutes=30,
        resolution_minutes=120,
    )  # fmt: skip
    raise_(week["eve"], urgent, staff)

    tables = page(client, "/dashboards/service-levels/", **RANGE)

    # Eve, never answered, missed both her first response and her resolution.
    assert tables.values("sla") == [
        ["Standard", "5", "2", "60.0", "0", "100.0", "1", "80.0"],
        ["Urgent", "1", "1", "0.0", "0", "", "1", "0.0"],
    ]
    urgent_cases = page(client, tables.rows("sla")[1][1][1]).rows("cases")
    assert [row[0][2] for row in urgent_cases] == [f"#{week['eve']}"]


def test_hand_off_log_says_what_happened_next(week, client):
    tables = page(client, "/dashboards/hand-offs/", **RANGE)

    rows = [[text.strip() for _, _, text in row] for row in tables.rows("handoffs")]
    # When, case, by, to, note, then, then by, after, next reply by, next reply after.
    assert [row[2:] for row in rows] == [
        ["Jo Lee", "Sam Ortiz", "Needs a supervisor", "Not yet: open, with Sam Ortiz", "",
         "\N{EN DASH}", "", "\N{EN DASH}"],
        ["Priya Shah", "Jo Lee, Social", "Sofa swap", "Handed on to Sam Ortiz", "Jo Lee",
         "1 h 00 min", "", "\N{EN DASH}"],
        ["Jo Lee", "Priya Shah", "Needs a refund", "Resolved", "Priya Shah", "40 min",
         "Priya Shah", "30 min"],
    ]  # fmt: skip
    assert [row[1] for row in rows] == [f"#{week['cat']}", f"#{week['cat']}", f"#{week['ann']}"]
    assert tables.rows("handoffs")[2][1][1] == f"/cases/{week['ann']}/"


def test_hand_off_outcomes_count_each_way_and_lead_to_those_hand_offs(week, client):
    tables = page(client, "/dashboards/hand-offs/", **RANGE)

    assert tables.values("handoff-outcomes") == [
        ["Resolved", "1", "33.3"],
        ["Handed on", "1", "33.3"],
        ["Reassigned", "0", "0.0"],
        ["Released to the queue", "0", "0.0"],
        ["Closed", "0", "0.0"],
        ["Nothing yet", "1", "33.3"],
    ]
    resolved_link = tables.rows("handoff-outcomes")[0][1][1]
    resolved = page(client, resolved_link).rows("handoffs")
    assert [row[1][2] for row in resolved] == [f"#{week['ann']}"]
    assert [row[5][2] for row in resolved] == ["Resolved"]
    assert csv_rows(client, resolved_link + "&export=handoffs")[1:] == [
        [value for value, _, _ in row] for row in resolved
    ]


def test_sample_picks_ten_hand_offs_at_random_and_shows_them_again(week, client, staff):
    jo, priya = staff["jo"], staff["priya"]
    eve = week["eve"]
    with clock_at(at(2, "10:00")):
        actions.claim_case(case_id=eve, agent=jo)
    for n in range(12):  # 3 + 12 hand-offs in the range
        giver, taker = (jo, priya) if n % 2 == 0 else (priya, jo)
        with clock_at(at(2, "10:00") + timedelta(minutes=n + 1)):
            actions.hand_off_case(case_id=eve, by=giver, note=f"Pass {n}", to_user_id=taker.pk)

    with clock_at(NOW):
        fresh = client.get("/dashboards/hand-offs/", {**RANGE, "sample": "new"})
    assert fresh.status_code == 302
    sample_url = fresh["Location"]
    first = page(client, sample_url).rows("handoffs")
    again = page(client, sample_url).rows("handoffs")
    whole = page(client, "/dashboards/hand-offs/", **RANGE).rows("handoffs")

    assert len(first) == 10
    assert first == again
    assert {tuple(row) for row in first} <= {tuple(row) for row in whole}
    assert len(whole) == 15
    assert csv_rows(client, sample_url + "&export=handoffs")[1:] == [
        [value for value, _, _ in row] for row in first
    ]


def test_every_csv_matches_its_table(week, client):
    for url in DASHBOARDS:
        tables = page(client, url, **RANGE)
        assert tables.tables, url
        for key in tables.tables:
            exported = csv_rows(client, url, **RANGE, export=key)
            assert exported[1:] == tables.values(key), (url, key)
            assert len(exported[0]) == len(tables.values(key)[0])


def test_every_figure_links_to_the_cases_behind_it(week, client):
    """A count's link lists that many cases; a time's link lists the cases it is taken from,
    each with its own time, and their percentile is the figure."""
    checked = 0
    for url in DASHBOARDS[:4]:
        tables = page(client, url, **RANGE)
        for key in tables.tables:
            for row in tables.rows(key):
                for value, link, _ in row:
                    if link is None or not link.startswith("/dashboards/cases/"):
                        continue
                    listed = page(client, link)
                    cases = listed.rows("cases")
                    if value.isdigit():
                        assert len(cases) == int(value), (key, link)
                    checked += 1
    assert checked > 40

    x_times = page(client, "/dashboards/response-times/", **RANGE).rows("times-channel")[2]
    answered = page(client, x_times[3][1]).rows("cases")
    assert sorted(row[-1][0] for row in answered) == ["10.0", "20.0", "30.0"]
    assert {row[0][2] for row in answered} == {f"#{week[name]}" for name in ("ann", "dan", "fay")}


def test_the_cases_behind_a_time_are_listed_longest_first(week, client):
    x_times = page(client, "/dashboards/response-times/", **RANGE).rows("times-channel")[2]
    answered = page(client, x_times[3][1]).rows("cases")
    resolved = page(client, x_times[6][1]).rows("cases")

    assert [row[-1][0] for row in answered] == ["30.0", "20.0", "10.0"]
    resolution_times = [float(row[-1][0]) for row in resolved]
    assert len(resolution_times) > 1
    assert resolution_times == sorted(resolution_times, reverse=True)


def inbox_cases(client: Client, url: str) -> set[int]:
    html = get(client, url).content.decode()
    return {int(n) for n in re.findall(r'data-open href="/cases/(\d+)/"', html)}


def test_backlog_by_status_links_to_the_inbox(week, client, staff):
    tables = page(client, "/dashboards/", **RANGE)
    links = {row[0][2]: row[1][1] for row in tables.rows("backlog-status")}
    email = page(client, "/dashboards/", **RANGE, team=str(staff["email"].pk))
    email_links = {row[0][2]: row[1][1] for row in email.rows("backlog-status")}

    assert links["New"] == "/?queue=all&status=new"
    assert inbox_cases(client, links["New"]) == {week["eve"]}
    assert inbox_cases(client, links["Open"]) == {week["cat"]}
    assert inbox_cases(client, links["Pending on customer"]) == {week["bob"]}
    assert inbox_cases(client, email_links["Pending on customer"]) == {week["bob"]}
    assert email_links["New"] is None


def test_links_name_the_right_cases(week, client):
    tables = page(client, "/dashboards/", **RANGE)
    links = {row[0][2]: row[1][1] for row in tables.rows("backlog-channel")}
    facebook = page(client, links["Facebook comment"]).rows("cases")
    assert [row[0][2] for row in facebook] == [f"#{week['cat']}"]

    flow = tables.rows("flow")
    opened_monday = page(client, flow[0][1][1]).rows("cases")
    assert {row[0][2] for row in opened_monday} == {
        f"#{week[name]}" for name in ("ann", "bob", "cat")
    }

    agents = page(client, "/dashboards/agents/", **RANGE).rows("agents")
    jo_resolved = page(client, agents[0][4][1]).rows("cases")
    assert {row[0][2] for row in jo_resolved} == {f"#{week['dan']}", f"#{week['fay']}"}


def test_a_manager_counts_only_what_their_teams_see(week, client, staff):
    # Mo leaves the Social team: Cat's case (Social, with Sam) drops out of every figure; the
    # cases of no team stay.
    AgentProfile.objects.get(user=staff["mo"]).teams.remove(staff["social"])

    tables = page(client, "/dashboards/", **RANGE)

    assert tables.values("backlog-team") == [["Email", "1"], ["No team", "1"]]
    assert tables.values("backlog-channel") == [["Email", "2"]]
    assert tables.values("flow") == [["2026-11-02", "2", "1"], ["2026-11-03", "2", "1"],
                                     ["2026-11-04", "1", "1"]]  # fmt: skip


def test_team_filter_keeps_that_team_s_cases(week, client, staff):
    social = str(staff["social"].pk)

    backlog = page(client, "/dashboards/", **RANGE, team=social)
    times = page(client, "/dashboards/response-times/", **RANGE, team=social)

    assert backlog.values("backlog-status") == [["New", "0"], ["Open", "1"],
                                                ["Pending on customer", "0"]]  # fmt: skip
    assert backlog.values("flow") == [["2026-11-02", "1", "0"], ["2026-11-03", "0", "0"],
                                      ["2026-11-04", "0", "0"]]  # fmt: skip
    assert times.values("times-channel") == [
        ["Facebook comment", "1", "1", "40.0", "40.0", "0", "", ""]
    ]
    no_team = page(client, "/dashboards/", **RANGE, team="none")
    assert no_team.values("backlog-team") == [["No team", "1"]]


def test_spam_and_folded_cases_are_not_counted(week, client, staff):
    with clock_at(at(2, "11:00")):
        actions.set_spam(case_id=week["eve"], by=staff["jo"], spam=True)

    tables = page(client, "/dashboards/", **RANGE)

    assert tables.values("backlog-status")[0] == ["New", "0"]
    assert tables.values("flow")[1] == ["2026-11-03", "1", "1"]


def test_range_defaults_to_the_last_30_days(week, client):
    tables = page(client, "/dashboards/")

    flow = tables.values("flow")
    assert len(flow) == 30
    assert flow[-1][0] == "2026-11-05"
    assert sum(int(row[1]) for row in flow) == 6


def test_a_backwards_range_is_refused_with_the_default_shown(week, client):
    response = get(client, "/dashboards/", start="2026-11-04", end="2026-11-02")

    assert "The range starts after it ends." in response.content.decode()
    assert len(Tables(response.content.decode()).values("flow")) == 30


def test_charts_are_data_for_the_script_not_inline_code(week, client):
    response = get(client, "/dashboards/response-times/", **RANGE)
    html = response.content.decode()

    start = html.index('<script id="dashboard-charts" type="application/json">')
    data = json.loads(html[html.index(">", start) + 1 : html.index("</script>", start)])
    x = next(c for c in data if c["id"] == "chart-times-channel-first")
    assert x["labels"] == ["Email", "Facebook comment", "X mention"]
    assert x["datasets"][0]["data"] == [2.0, 0.67, 0.33]  # hours
    assert x["datasets"][0]["links"][2].startswith("/dashboards/cases/?")
    assert " style=" not in html
    assert "<script>" not in html
    assert all(
        "src=" in tag or 'type="application/json"' in tag for tag in html.split("<script")[1:]
    )


@pytest.mark.postgres
def test_careinbox_plans_its_queries_without_jit(staff, client):
    # JIT compiling took longer than running the dashboards' and ingest's queries.
    get(client, "/dashboards/response-times/", **RANGE)
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"


# Who may see them.


@pytest.mark.parametrize(
    ("role", "status"),
    [(roles.MANAGER, 200), (roles.SUPERVISOR, 200), (roles.ADMIN, 200), (roles.AGENT, 403)],
)
def test_managers_supervisors_and_admins_see_dashboards_agents_do_not(role, status):
    client = Client()
    client.force_login(make_user(f"user-{role}", role))
    urls = [*DASHBOARDS, "/dashboards/cases/?figure=opened"]

    assert [client.get(url).status_code for url in urls] == [status] * len(urls)


def test_anonymous_visitors_are_sent_to_sign_in():
    response = Client().get("/dashboards/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_a_figure_that_does_not_exist_is_not_found(staff, client):
    assert client.get("/dashboards/cases/", {"figure": "nonsense"}).status_code == 404
    assert client.get("/dashboards/", {"export": "nonsense"}).status_code == 404


def test_text_that_starts_like_a_formula_is_exported_as_text(week, client, staff):
    hostile = '=HYPERLINK("https://evil.example/x","x")'
    with clock_at(at(2, "10:00")):
        actions.claim_case(case_id=week["eve"], agent=staff["jo"])
    with clock_at(at(2, "10:05")):
        actions.hand_off_case(
            case_id=week["eve"], by=staff["jo"], note=hostile, to_user_id=staff["priya"].pk
        )

    cells = [
        cell
        for row in csv_rows(client, "/dashboards/hand-offs/", **RANGE, export="handoffs")
        for cell in row
    ]

    assert f"'{hostile}" in cells
    assert not [cell for cell in cells if cell.startswith(("=", "+", "@", "\t", "\r"))]


@pytest.mark.parametrize(
    ("text", "exported"),
    [
        ("=1+1", "'=1+1"),
        ("+44 20 7946 0018", "'+44 20 7946 0018"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("Priya Shah", "Priya Shah"),
        ("", ""),
    ],
)
def test_spreadsheet_safe_neutralises_exactly_what_starts_a_formula(text, exported):
    assert spreadsheet_safe(text) == exported
