import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand

from cases.export import export_cases


class Command(BaseCommand):
    help = "Write every case, with its customer, messages and history, as JSON Lines."

    def add_arguments(self, parser):
        parser.add_argument("--output", type=Path, help="file to write (default: standard output)")

    def handle(self, *args, output: Path | None, **options):
        out = output.open("w", encoding="utf-8") if output else sys.stdout
        try:
            for row in export_cases():
                out.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
        finally:
            if output:
                out.close()
