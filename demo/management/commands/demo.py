import logging
import shutil
import threading
import time
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import close_old_connections, transaction
from django.utils import timezone

from casework.tasks import retry_due_replies_task
from channels.models import ChannelAccount
from demo.connect import connect_sandbox
from demo.sample import DEMO_TRAFFIC
from demo.sandbox import mail
from demo.sandbox.server import Sandbox
from demo.simulation import ReplayClock, Simulation, ensure_sla_policy
from intake.tasks import poll_due_accounts_task
from staff import roles
from staff.models import AgentProfile, Team
from webhooks.tasks import deliver_due_webhooks_task

logger = logging.getLogger(__name__)

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
# The sample week replayed this many times faster than it happened: about ten minutes.
DEMO_SPEED = 1000.0
DEMO_POLL_SECONDS = 5


class Command(BaseCommand):
    help = (
        "Start CareInbox on this machine with demo data: migrate, create demo logins, start the "
        "platform sandbox replaying a week of customer traffic, poll it, and serve on 127.0.0.1."
    )

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--sandbox-port", type=int, default=8765)
        parser.add_argument("--smtp-port", type=int, default=8025)
        parser.add_argument("--speed", type=float, default=DEMO_SPEED)
        parser.add_argument(
            "--no-serve",
            action="store_true",
            help="set up, poll everything once with the whole week visible, then exit",
        )
        parser.add_argument(
            "--no-agents",
            action="store_true",
            help="no simulated agents: leave every case for you to work",
        )

    def handle(self, *args, port, sandbox_port, smtp_port, speed, no_serve, no_agents, **options):
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("Database ready.")
        _create_demo_users()
        # The sandbox's mail spool starts empty like the rest of its state; what CareInbox
        # already stored from an earlier demo is recognised and not stored again.
        maildir = Path(settings.BASE_DIR) / "var" / "demo-maildir"
        shutil.rmtree(maildir, ignore_errors=True)
        sandbox = Sandbox(port=sandbox_port, maildir=maildir, smtp_port=smtp_port).start()
        sandbox.state.load(
            DEMO_TRAFFIC.read_bytes().splitlines(),
            speed=0 if no_serve else speed,
            rebase_to=timezone.now(),
        )
        replay = ReplayClock(
            first=sandbox.state.events[0].at, speed=speed, started=time.monotonic()
        )
        simulation = None
        if not no_agents:
            ensure_sla_policy()
            simulation = Simulation()
        accounts = connect_sandbox(url=sandbox.url)
        ChannelAccount.objects.filter(pk__in=[a.pk for a in accounts]).update(
            poll_interval_seconds=DEMO_POLL_SECONDS
        )
        self.stdout.write(f"Platform sandbox at {sandbox.url}, replaying the demo traffic.")
        if no_serve:
            mail.deliver_visible(sandbox)
            call_command("poll", once=True, stdout=self.stdout)
            if simulation is not None:
                done = simulation.step(until=timezone.now())
                self.stdout.write(
                    "Simulated agents: "
                    + ", ".join(f"{n} {kind}" for kind, n in sorted(done.items()))
                )
            sandbox.stop()
            return
        threading.Thread(
            target=_poll_forever, args=(simulation, replay), name="demo-poller", daemon=True
        ).start()
        url = f"http://127.0.0.1:{port}/"
        self.stdout.write(
            self.style.SUCCESS(f"\nCareInbox is at {url}  (stop with Ctrl-C)\n")
            + "Demo logins (username / password, role):\n"
            + "".join(
                f"  {username} / {DEMO_PASSWORD}  ({role})\n"
                for username, _, _, role in DEMO_USERS
            )
        )
        call_command("runserver", f"127.0.0.1:{port}", use_reloader=False)


def _poll_forever(simulation: Simulation | None, replay: ReplayClock) -> None:
    """Stand in for Celery beat: without Redis, tasks run here, in this process. The
    simulated agents work what has arrived, up to the replay's clock."""
    while True:
        close_old_connections()
        poll_due_accounts_task.delay()
        retry_due_replies_task.delay()
        deliver_due_webhooks_task.delay()
        if simulation is not None:
            try:
                simulation.step(until=replay.now(time.monotonic()))
            except Exception:
                # The demo keeps polling: a failing simulation must not stop the inbox.
                logger.exception("The simulated agents failed; they try again in a second.")
        time.sleep(1)


@transaction.atomic
def _create_demo_users() -> None:
    team, _ = Team.objects.get_or_create(name="Care team")
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
        # The manager manages the team: what they see is narrowed to it (cases.visibility).
        profile.teams.add(team)
