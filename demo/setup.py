"""Setting up a demo on a database, new or used before: the logins, the simulated agents,
the seeds, and the sandbox's traffic replayed anew with its last event now."""

import time
from collections.abc import Sequence
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from channels.models import ChannelAccount
from demo.connect import connect_sandbox
from demo.sample import DEMO_TRAFFIC
from demo.sandbox.server import Sandbox
from demo.seeds import STORES_TEAM, seed_demo
from demo.simulation import ReplayClock, Simulation, ensure_bots, ensure_sla_policy
from staff import roles
from staff.models import AgentProfile, Team

# The demo runs on a developer's machine, on 127.0.0.1 only; these logins are printed for them.
DEMO_PASSWORD = "careinbox-demo"
DEMO_USERS = [
    # username, display name, signature, role
    ("priya", "Priya Shah", "^PS", roles.AGENT),
    ("jo", "Jo Lee", "^JL", roles.AGENT),
    ("sam", "Sam Ortiz", "^SO", roles.SUPERVISOR),
    ("mo", "Mo Reyes", "^MR", roles.MANAGER),
    ("admin", "Admin", "^AD", roles.ADMIN),
]
DEMO_TEAM = "Care team"
DEMO_POLL_SECONDS = 5


@dataclass(frozen=True)
class Demo:
    """A demo set up: its simulated agents (none when left out) and its replay's clock."""

    simulation: Simulation | None
    replay: ReplayClock


def set_up_demo(
    *, sandbox: Sandbox, speed: float, agents: bool = True, traffic: Sequence[bytes] = ()
) -> Demo:
    """Ready the database for a demo on ``sandbox`` (just started, empty) and load it with
    ``traffic`` (the demo's week when empty) at ``speed``, its last event now.

    Safe to repeat on the same database: logins and seeds are created once, and each run
    replays the traffic anew under fresh platform ids, so it arrives as new messages.
    """
    team = create_demo_users()
    ensure_sla_policy()
    seed_demo(team=team)
    now = timezone.now()
    sandbox.state.load(
        traffic or DEMO_TRAFFIC.read_bytes().splitlines(),
        speed=speed,
        rebase_to=now,
        replay=f"{now:%Y%m%dT%H%M%S%f}",
    )
    replay = ReplayClock(first=sandbox.state.events[0].at, speed=speed, started=time.monotonic())
    simulation = None
    if agents:
        ensure_bots(team=team)
        simulation = Simulation()
    accounts = connect_sandbox(url=sandbox.url)
    ChannelAccount.objects.filter(pk__in=[a.pk for a in accounts]).update(
        poll_interval_seconds=DEMO_POLL_SECONDS
    )
    return Demo(simulation=simulation, replay=replay)


@transaction.atomic
def create_demo_users() -> Team:
    """The people's logins, created once, in the care team and the stores team. Returns the
    care team."""
    team, _ = Team.objects.get_or_create(name=DEMO_TEAM)
    stores, _ = Team.objects.get_or_create(name=STORES_TEAM)
    User = get_user_model()
    for username, display_name, signature, role in DEMO_USERS:
        user, created = User.objects.get_or_create(
            username=username, defaults={"is_staff": role == roles.ADMIN}
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        user.groups.add(Group.objects.get(name=role))
        profile, _ = AgentProfile.objects.get_or_create(
            user=user,
            defaults={
                "display_name": display_name,
                "signature": signature,
                "sign_off": f"Best wishes,\n{display_name}\nCare team",
            },
        )
        # The manager manages both teams: what they see is narrowed to them (cases.visibility).
        profile.teams.add(team, stores)
    return team
