"""The demo's simulated agents: users of their own who work the sample traffic through the
agents' actions, in the customers' time, leave alone what a person touched, and the platforms
receive their replies."""

import io
import threading
from collections import Counter
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db.models import Max, Min
from django.utils import timezone

from cases.models import Case, CaseEvent, Message
from casework import actions
from demo import simulation
from demo.sample import DEMO_TRAFFIC
from demo.sandbox import mail
from demo.simulation import BOT_USERNAMES, Simulation, clock_at, ensure_bots, ensure_sla_policy
from sla.models import SLAPolicy
from staff.models import AgentProfile, Team

pytestmark = pytest.mark.django_db(transaction=True)  # replies are sent on commit

# The first 70 events of the sample week: most of a day, every channel.
EVENTS = 70


@pytest.fixture
def polled(sandbox, agent, other_agent, supervisor):
    """The start of the sample week, ending now as the demo has it, polled from the sandbox
    by the real clients; the demo's bots, Jo and Priya (agents) and Sam (supervisor) in one
    team."""
    team = Team.objects.create(name="Care team")
    for user in (agent, other_agent, supervisor):
        AgentProfile.objects.get(user=user).teams.add(team)
    ensure_bots(team=team)
    ensure_sla_policy()
    lines = DEMO_TRAFFIC.read_bytes().splitlines()[:EVENTS]
    sandbox.state.load(lines, rebase_to=timezone.now())
    mail.deliver_visible(sandbox)
    call_command("connect_sandbox", url=sandbox.url, stdout=io.StringIO())
    call_command("poll", once=True, stdout=io.StringIO())
    return sandbox


def test_agents_work_the_week_through_the_agents_actions(polled):
    started = timezone.now()

    done = Simulation(seed=3).step(until=started)

    counts = {kind: CaseEvent.objects.filter(kind=kind).count() for kind in CaseEvent.Kind}
    assert counts["claimed"] == done["claimed"] > 0
    # How many of each depends on the clock (agents answer in the customers' day) and on the
    # case ids the dice are seeded with, which other tests move: some, not how many. What
    # follows an answer is one roll of the dice per case; a hand-off each time is pinned below.
    assert counts["reply_sent"] == done["replied"] > 0
    assert counts["handed_off"] == done["handed_off"]
    resolved = CaseEvent.objects.filter(kind="status_changed", data__to="resolved").count()
    assert resolved == done["resolved"]
    assert done["resolved"] + done["pending"] + done["handed_off"] > 0
    # Some answers came too late for the demo's policy.
    assert counts["sla_breached"] == done["sla_breached"] > 0
    # Only the bots acted, never a person's login, and they sign as themselves.
    actors = CaseEvent.objects.filter(actor__isnull=False).values_list("actor__username")
    assert {username for (username,) in actors} == set(BOT_USERNAMES)
    signed = Message.objects.filter(direction="outbound", author_user__isnull=False)
    assert signed.count() == done["replied"]
    for reply in signed.select_related("author_user__agent_profile"):
        profile = reply.author_user.agent_profile
        assert reply.text.endswith((f" {profile.signature}", f"\n\n{profile.sign_off}"))
    # Every reply reached its platform, and the sandbox received each once.
    replies = Message.objects.filter(direction="outbound").select_related("channel_account")
    assert set(replies.values_list("delivery_status", flat=True)) == {"sent"}
    assert len(polled.state.sent()) == replies.count()
    assert {m.channel_account.platform for m in replies} == {"x", "facebook", "email"}
    # In the customers' time: each case's actions in order, every reply after the message
    # it answers, nothing after the run; first answers in minutes to hours, not the days
    # between the sample week and now.
    for case in Case.objects.all():
        acted = list(
            case.events.filter(actor__isnull=False)
            .order_by("pk")
            .values_list("occurred_at", flat=True)
        )
        assert acted == sorted(acted), case.pk
        assert all(at <= started for at in acted)
    for reply in replies.select_related("parent"):
        assert reply.parent.direction == "inbound"
        assert reply.sent_at > reply.parent.sent_at, reply.pk
    first_answers = sorted(
        case.first_response_at - case.first_inbound_at
        for case in Case.objects.filter(first_response_at__isnull=False)
    )
    assert first_answers[0] > timedelta(0)
    assert first_answers[len(first_answers) // 2] < timedelta(hours=12)
    span = CaseEvent.objects.aggregate(first=Min("occurred_at"), last=Max("occurred_at"))
    assert span["last"] - span["first"] < timedelta(days=4)
    # What is done is not done again.
    assert sum(Simulation(seed=3).step(until=started).values()) == 0
    assert CaseEvent.objects.count() == sum(counts.values())


def test_an_answered_case_the_dice_hand_off_goes_to_a_colleague(polled, monkeypatch):
    monkeypatch.setattr(simulation, "RESOLVE_SHARE", 0.0)
    monkeypatch.setattr(simulation, "PENDING_SHARE", 0.0)
    monkeypatch.setattr(simulation, "HAND_OFF_SHARE", 1.0)

    done = Simulation(seed=3).step(until=timezone.now())

    hand_offs = CaseEvent.objects.filter(kind=CaseEvent.Kind.HANDED_OFF)
    assert hand_offs.count() == done["handed_off"] > 0
    for event in hand_offs:
        assert event.actor_id != int(event.data["to"])
    # A case is handed on at most MAX_HAND_OFFS times, then resolved.
    per_case = Counter(hand_offs.values_list("case_id", flat=True))
    assert max(per_case.values()) <= simulation.MAX_HAND_OFFS


def test_the_bots_leave_alone_every_case_a_person_touched(polled, agent, other_agent, supervisor):
    start = Message.objects.aggregate(first=Min("sent_at"))["first"]
    Simulation(seed=3).step(until=start + timedelta(hours=6))
    waiting = Case.objects.filter(status="new", assignee=None, spam=False).order_by("pk")
    held = Case.objects.filter(
        status__in=["open", "pending"], assignee__username__in=BOT_USERNAMES
    ).order_by("pk")
    claimed, replied, noted = waiting[:3]
    reassigned = held[0]
    # People act now, in the real time, after the bots' work in the customers' time.
    actions.claim_case(case_id=claimed.pk, agent=agent)
    actions.reply_to_case(case_id=replied.pk, agent=other_agent, text="Priya here, on it.")
    actions.reassign_case(case_id=reassigned.pk, by=supervisor, to_user_id=agent.pk)
    actions.add_note(case_id=noted.pk, author=other_agent, text="I know this customer.")
    people_done = CaseEvent.objects.aggregate(last=Max("pk"))["last"]

    # Two hours on: long enough for the bots to answer anything waiting.
    done = Simulation(seed=3).step(until=timezone.now() + timedelta(hours=2))

    assert done["replied"] > 0  # the bots worked on, elsewhere
    touched = [claimed.pk, replied.pk, reassigned.pk, noted.pk]
    bots_after = CaseEvent.objects.filter(
        case_id__in=touched, pk__gt=people_done, actor__username__in=BOT_USERNAMES
    )
    assert list(bots_after.values_list("case_id", "kind")) == []
    held_by = dict(Case.objects.filter(pk__in=touched).values_list("pk", "assignee__username"))
    assert held_by == {
        claimed.pk: "jo",
        replied.pk: "priya",
        reassigned.pk: "jo",
        noted.pk: None,  # a note claims nothing: still, the bots leave it to Priya
    }


def test_nothing_is_done_before_it_is_due(polled):
    first = CaseEvent.objects.aggregate(first=Min("occurred_at"))["first"]

    done = Simulation(seed=3).step(until=first)

    assert sum(done.values()) == 0


def test_an_installation_with_its_own_policies_keeps_them():
    SLAPolicy.objects.create(name="Ours", first_response_minutes=30)

    ensure_sla_policy()

    assert list(SLAPolicy.objects.values_list("name", flat=True)) == ["Ours"]


def test_the_simulated_clock_is_this_thread_s_only():
    then = timezone.now() - timedelta(days=5)
    seen = {}

    with clock_at(then):
        seen["here"] = timezone.now()
        other = threading.Thread(target=lambda: seen.update(there=timezone.now()))
        other.start()
        other.join()

    assert seen["here"] == then
    assert seen["there"] - then > timedelta(days=4)
    assert timezone.now() - then > timedelta(days=4)
