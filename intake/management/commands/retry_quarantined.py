from django.core.management.base import BaseCommand, CommandError

from careinbox.progress import progress
from intake.models import QuarantinedPayload
from intake.services import retry_quarantined


class Command(BaseCommand):
    help = (
        "Run the quarantined payloads waiting for a retry through their normalisers and ingest "
        "again, e.g. after a normaliser is fixed. Each one that fails again stays quarantined "
        "with its new error."
    )

    def add_arguments(self, parser):
        parser.add_argument("--source", help="only payloads from this source (x, facebook, …)")

    def handle(self, *args, source: str | None, **options):
        waiting = QuarantinedPayload.objects.filter(status=QuarantinedPayload.Status.PENDING)
        if source:
            waiting = waiting.filter(source=source)
        items = list(waiting.select_related("channel_account").order_by("pk"))
        if not items:
            self.stdout.write("No quarantined payload is waiting for a retry.")
            return
        stored, failed = 0, []
        try:
            for item in progress(items, total=len(items), unit="payloads", desc="Retry"):
                if retry_quarantined(item=item):
                    stored += 1
                else:
                    failed.append(item.pk)
        except KeyboardInterrupt:
            # Each retry commits whole; those not reached are still waiting, as they were.
            raise CommandError(
                f"Stopped after {stored + len(failed)} of {len(items)} payloads ({stored} "
                "stored); run the command again to retry the rest."
            ) from None
        self.stdout.write(
            f"retried: {len(items)}\nstored: {stored}\nstill quarantined: {len(failed)}"
        )
        for item in QuarantinedPayload.objects.filter(pk__in=failed).order_by("pk"):
            self.stderr.write(f"quarantined #{item.pk}: {item.error}")
