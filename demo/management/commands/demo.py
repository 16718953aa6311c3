import logging
import shutil
import threading
import time
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import close_old_connections
from django.utils import timezone

from casework.tasks import retry_due_replies_task
from demo.sandbox import mail
from demo.sandbox.server import Sandbox
from demo.setup import DEMO_PASSWORD, DEMO_USERS, set_up_demo
from demo.simulation import BOTS, ReplayClock, Simulation
from intake.tasks import poll_due_accounts_task
from webhooks.tasks import deliver_due_webhooks_task

logger = logging.getLogger(__name__)

# The sample week replayed this many times faster than it happened: about ten minutes.
DEMO_SPEED = 1000.0


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
        # The sandbox starts empty, its mail spool too; each run replays the week anew.
        maildir = Path(settings.BASE_DIR) / "var" / "demo-maildir"
        shutil.rmtree(maildir, ignore_errors=True)
        sandbox = Sandbox(port=sandbox_port, maildir=maildir, smtp_port=smtp_port).start()
        demo = set_up_demo(sandbox=sandbox, speed=0 if no_serve else speed, agents=not no_agents)
        simulation, replay = demo.simulation, demo.replay
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
            + (
                "Simulated agents, who leave alone any case you touch: "
                + ", ".join(name for _, name, _ in BOTS)
                + "\n"
                if simulation is not None
                else ""
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
