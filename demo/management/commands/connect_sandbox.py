from django.core.management.base import BaseCommand, CommandError

from demo.connect import SandboxUnreachable, connect_sandbox


class Command(BaseCommand):
    help = "Create the X, Facebook and email channel accounts, pointing at a running sandbox."

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8765")

    def handle(self, *args, url: str, **options):
        try:
            accounts = connect_sandbox(url=url)
        except SandboxUnreachable as exc:
            raise CommandError(str(exc)) from None
        for account in accounts:
            self.stdout.write(f"Connected {account} to the sandbox at {url}.")
