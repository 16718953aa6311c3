from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from careinbox.progress import progress
from demo import sample
from intake.services import BatchResult, ingest_payloads


class Command(BaseCommand):
    help = (
        "Ingest a file of sample traffic (one JSON event a line) through the ingest service. "
        "Safe to repeat: events already stored count as duplicates."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="a JSON Lines file of sample events")

    def handle(self, *args, file: Path, **options):
        try:
            lines = [line for line in file.read_bytes().splitlines() if line.strip()]
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}.") from None
        accounts = sample.accounts()
        result = BatchResult()
        size = settings.CAREINBOX_INGEST_CHUNK
        chunks = range(0, len(lines), size)
        try:
            for start in progress(chunks, total=len(chunks), unit="chunks", desc="Ingest"):
                chunk = ingest_payloads(
                    source="sample", payloads=lines[start : start + size], accounts=accounts
                )
                result.stored += chunk.stored
                result.duplicates += chunk.duplicates
                result.quarantined += chunk.quarantined
        except KeyboardInterrupt:
            # Each chunk commits whole: what was stored stays, and a new run skips it.
            raise CommandError(
                f"Stopped after {result.stored + result.duplicates} of {len(lines)} events; "
                "run the command again to ingest the rest (stored events count as duplicates)."
            ) from None
        accounted = result.stored + result.duplicates + len(result.quarantined)
        self.stdout.write(
            f"events read: {len(lines)}\n"
            f"messages stored: {result.stored}\n"
            f"duplicates: {result.duplicates}\n"
            f"quarantined: {len(result.quarantined)}"
        )
        for item in result.quarantined:
            self.stderr.write(f"quarantined #{item.pk}: {item.error}")
        if accounted != len(lines):
            raise CommandError(
                f"{len(lines) - accounted} events were neither stored nor quarantined."
            )
