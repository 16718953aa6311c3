from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction

from channels_in import sample
from tickets.models import AgentProfile, Team

# The demo runs on a developer's machine, on 127.0.0.1 only; these logins are printed for them.
DEMO_PASSWORD = "careinbox-demo"
DEMO_AGENTS = [
    # username, display name, signature, superuser
    ("admin", "Admin", "^AD", True),
    ("priya", "Priya Shah", "^PS", False),
    ("jo", "Jo Lee", "^JL", False),
]


class Command(BaseCommand):
    help = (
        "Start CareInbox on this machine with demo data: migrate, create demo logins, load the "
        "demo traffic through the ingest service, and serve on 127.0.0.1."
    )

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--no-serve", action="store_true", help="prepare everything, then exit"
        )

    def handle(self, *args, port: int, no_serve: bool, **options):
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("Database ready.")
        _create_demo_agents()
        call_command("ingest_sample", str(sample.DEMO_TRAFFIC), stdout=self.stdout)
        url = f"http://127.0.0.1:{port}/"
        self.stdout.write(
            self.style.SUCCESS(f"\nCareInbox is at {url}  (stop with Ctrl-C)\n")
            + "Demo logins (username / password):\n"
            + "".join(f"  {username} / {DEMO_PASSWORD}\n" for username, *_ in DEMO_AGENTS)
        )
        if not no_serve:
            call_command("runserver", f"127.0.0.1:{port}", use_reloader=False)


@transaction.atomic
def _create_demo_agents() -> None:
    team, _ = Team.objects.get_or_create(name="Care team")
    # Until the agent workspace lands, agents read cases in the admin.
    agents, _ = Group.objects.get_or_create(name="Demo agents")
    agents.permissions.set(
        Permission.objects.filter(
            content_type__app_label__in=["tickets", "channels_in"], codename__startswith="view_"
        )
    )
    User = get_user_model()
    for username, display_name, signature, superuser in DEMO_AGENTS:
        user, created = User.objects.get_or_create(
            username=username, defaults={"is_staff": True, "is_superuser": superuser}
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        profile, _ = AgentProfile.objects.get_or_create(
            user=user,
            defaults={
                "display_name": display_name,
                "signature": signature,
                "sign_off": f"Best wishes,\n{display_name}\nCare team",
            },
        )
        profile.teams.add(team)
        user.groups.add(agents)
