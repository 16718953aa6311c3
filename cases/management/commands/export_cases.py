import json
import os
import sys
import tempfile
from pathlib import Path
from typing import TextIO

from django.core.management.base import BaseCommand, CommandError

from careinbox.progress import progress
from cases.export import export_cases
from cases.models import Case


class Command(BaseCommand):
    help = (
        "Write every case, with its customer, messages and history, as JSON Lines. A file is "
        "written whole or not at all: stopped (Ctrl-C) or failing, the export leaves nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--output", type=Path, help="file to write (default: standard output)")

    def handle(self, *args, output: Path | None, **options):
        if output is None:
            self._write(sys.stdout)
            return
        # Written beside the target, then renamed over it: a reader never sees half an export.
        fd, partial = tempfile.mkstemp(dir=output.parent or ".", prefix=f".{output.name}.")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                count = self._write(out)
            os.replace(partial, output)
        except KeyboardInterrupt:
            raise CommandError(f"Stopped: {output} was not written.") from None
        finally:
            if os.path.exists(partial):
                os.unlink(partial)
        self.stderr.write(f"Exported {count} cases to {output}.")

    def _write(self, out: TextIO) -> int:
        count = 0
        rows = progress(export_cases(), total=Case.objects.count(), unit="cases", desc="Export")
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
            count += 1
        return count
