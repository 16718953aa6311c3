"""First run on the command line: the first admin, a team, agents invited, and channel
accounts connected after a test through the real client (``staff.onboarding``)."""

import getpass
import json
import os

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from channels.models import ChannelAccount, Platform
from staff import onboarding, roles
from staff.models import Team


class Command(BaseCommand):
    help = (
        "Set up a new install: its first admin (asked for when missing), a team, agents "
        "invited by email, and channel accounts, each tested before it is saved."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", help="the admin's user name")
        parser.add_argument("--email", help="the admin's email address")
        parser.add_argument("--name", help="the admin's name, as colleagues see it")
        parser.add_argument(
            "--password-env",
            default="CAREINBOX_SETUP_PASSWORD",
            help="the environment variable holding the admin's password (else it is asked)",
        )
        parser.add_argument("--team", help="a team to create; the admin and invitees join it")
        parser.add_argument(
            "--invite",
            action="append",
            default=[],
            metavar="'NAME, EMAIL, ROLE'",
            help="invite a person (role: agent, supervisor or manager); repeat for more",
        )
        parser.add_argument(
            "--base-url",
            default="http://localhost:8000",
            help="where the invitation links point",
        )
        parser.add_argument(
            "--connect",
            nargs=3,
            action="append",
            default=[],
            metavar=("PLATFORM", "SETTINGS_JSON", "CREDENTIALS_JSON"),
            help="test, then connect, a channel account (x, facebook or email)",
        )

    def handle(self, *args, **options) -> None:
        admin = self._admin(options) if onboarding.needs_setup() else None
        team = None
        if options["team"]:
            team, _ = Team.objects.get_or_create(name=options["team"])
            if admin is not None:
                admin.agent_profile.teams.add(team)
            self.stdout.write(f"Team {team.name} is ready.")
        for line in options["invite"]:
            self._invite(line, team=team, base_url=options["base_url"])
        for platform, settings_json, credentials_json in options["connect"]:
            self._connect(platform, settings_json, credentials_json)

    def _admin(self, options: dict):
        username = options["username"] or input("Admin user name: ").strip()
        email = options["email"] or input("Admin email address: ").strip()
        name = options["name"] or input("Admin name, as colleagues see it: ").strip()
        password = os.environ.get(options["password_env"]) or getpass.getpass("Password: ")
        try:
            validate_password(password)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        admin = onboarding.add_member(
            username=username, email=email, display_name=name, role=roles.ADMIN, password=password
        )
        self.stdout.write(f"Admin {username} created; sign in with that name and password.")
        return admin

    def _invite(self, line: str, *, team: Team | None, base_url: str) -> None:
        parts = [part.strip() for part in line.split(",")]
        if len(parts) != 3 or parts[2] not in (roles.AGENT, roles.SUPERVISOR, roles.MANAGER):
            raise CommandError(f"--invite {line!r}: write 'name, email, role' (agent, ...).")
        name, email, role = parts
        if get_user_model().objects.filter(username=email).exists():
            raise CommandError(f"{email} already has an account.")
        with transaction.atomic():
            user = onboarding.add_member(
                username=email, email=email, display_name=name, role=role, team=team
            )
        onboarding.invite(user, base_url=base_url)
        self.stdout.write(f"Invited {name} <{email}> as {role}.")

    def _connect(self, platform: str, settings_json: str, credentials_json: str) -> None:
        if platform not in Platform.values:
            raise CommandError(f"{platform!r} is not x, facebook or email.")
        try:
            settings, credentials = json.loads(settings_json), json.loads(credentials_json)
        except json.JSONDecodeError as exc:
            raise CommandError(f"--connect {platform}: not JSON ({exc}).") from None
        account = ChannelAccount(
            platform=platform,
            name=onboarding.account_name(platform, settings),
            settings=settings,
            credentials=credentials,
        )
        test = onboarding.test_connection(account)
        if not test.ok:
            raise CommandError(f"{account.name} was not connected: {test.said}")
        account.save()
        self.stdout.write(f"Connected {account.name}. {test.said}")
