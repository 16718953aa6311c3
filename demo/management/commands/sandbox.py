from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from demo.sandbox.server import Sandbox


class Command(BaseCommand):
    help = (
        "Run the platform sandbox on 127.0.0.1: X API v2, Graph API, a Maildir and an SMTP "
        "port, answering from sample traffic."
    )

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8765)
        parser.add_argument("--replay", type=Path, help="sample traffic to load (JSON Lines)")
        parser.add_argument(
            "--speed",
            type=float,
            default=0.0,
            help="0 shows every event at once; N replays them N times faster than real time",
        )
        parser.add_argument(
            "--maildir", type=Path, default=Path(settings.BASE_DIR) / "var" / "sandbox-maildir"
        )
        parser.add_argument("--smtp-port", type=int, default=8025)
        parser.add_argument(
            "--rebase",
            action="store_true",
            help="move the traffic so that its last event happens now",
        )

    def handle(self, *args, port, replay, speed, maildir, smtp_port, rebase, **options):
        sandbox = Sandbox(port=port, maildir=maildir, smtp_port=smtp_port)
        if replay:
            try:
                lines = replay.read_bytes().splitlines()
            except OSError as exc:
                raise CommandError(f"Cannot read {replay}: {exc.strerror}.") from None
            added = sandbox.state.load(
                lines, speed=speed, rebase_to=timezone.now() if rebase else None
            )
            self.stdout.write(f"Loaded {added} events at speed {speed:g}.")
        self.stdout.write(
            f"Sandbox at {sandbox.url} (SMTP on 127.0.0.1:{smtp_port}, Maildir {maildir}).\n"
            f"Connect CareInbox to it with: python manage.py connect_sandbox --url {sandbox.url}"
        )
        try:
            sandbox.serve_forever()
        except KeyboardInterrupt:
            sandbox.stop()
