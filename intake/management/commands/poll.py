from django.core.management.base import BaseCommand, CommandError

from careinbox.progress import progress
from channels.models import ChannelAccount
from intake.polling import poll_account


class Command(BaseCommand):
    help = "Poll enabled channel accounts once and print what each fetched."

    def add_arguments(self, parser):
        parser.add_argument(
            "--once", action="store_true", required=True, help="poll once, then exit"
        )
        parser.add_argument("--account", help="poll only the account with this name")

    def handle(self, *args, account: str | None, **options):
        accounts = ChannelAccount.objects.filter(enabled=True).order_by("platform", "name")
        if account:
            accounts = ChannelAccount.objects.filter(name=account)
            if not accounts:
                raise CommandError(f"No channel account is named {account!r}.")
        if not accounts:
            raise CommandError("No enabled channel account to poll; connect one first.")
        failed, skipped = [], []
        for item in progress(accounts, total=len(accounts), unit="accounts", desc="Poll"):
            result = poll_account(account=item, force=True)
            line = (
                f"{item}: fetched {result.fetched}, stored {result.stored}, "
                f"duplicates {result.duplicates}, quarantined {result.quarantined}"
            )
            if result.skipped:
                line = f"{item}: skipped, {result.skipped}"
                skipped.append(str(item))
            if result.failed:
                line += f"; FAILED: {result.error}"
                failed.append(str(item))
            self.stdout.write(line)
            for error in result.quarantine_errors:
                self.stderr.write(f"  quarantined: {error}")
        problems = [f"failed for {', '.join(failed)}"] if failed else []
        problems += [f"skipped {', '.join(skipped)}"] if skipped else []
        if problems:
            raise CommandError(f"Polling {'; '.join(problems)}.")
