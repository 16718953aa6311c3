"""The long commands stop cleanly on Ctrl-C: an export leaves no half file, an import keeps
only whole chunks and says how to go on."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from cases.management.commands import export_cases as export_command
from cases.models import Message
from demo.management.commands import ingest_sample as ingest_command

pytestmark = pytest.mark.django_db


@pytest.fixture
def sample_file(tmp_path, demo_traffic_lines):
    path = tmp_path / "week.jsonl"
    path.write_bytes(b"\n".join(demo_traffic_lines[:120]))
    return path


def test_an_export_is_written_whole_and_counted(tmp_path, sample_file):
    call_command("ingest_sample", sample_file, stdout=io.StringIO())
    output, said = tmp_path / "cases.jsonl", io.StringIO()

    call_command("export_cases", output=output, stderr=said)

    rows = [json.loads(line) for line in output.read_text().splitlines()]
    assert said.getvalue().strip() == f"Exported {len(rows)} cases to {output}."
    assert sum(len(row["messages"]) for row in rows) == Message.objects.count()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cases.jsonl", "week.jsonl"]


def test_an_export_stopped_midway_leaves_the_last_one_as_it_was(
    tmp_path, sample_file, monkeypatch
):
    call_command("ingest_sample", sample_file, stdout=io.StringIO())
    output = tmp_path / "cases.jsonl"
    output.write_text("yesterday's export\n")

    def stopped_after_one():
        yield {"key": "x.mention:1"}
        raise KeyboardInterrupt

    monkeypatch.setattr(export_command, "export_cases", stopped_after_one)
    with pytest.raises(CommandError, match=f"Stopped: {output} was not written."):
        call_command("export_cases", output=output)

    assert output.read_text() == "yesterday's export\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cases.jsonl", "week.jsonl"]


def test_an_import_stopped_midway_keeps_whole_chunks_and_a_rerun_finishes(
    sample_file, monkeypatch, settings
):
    settings.CAREINBOX_INGEST_CHUNK = 50
    real = ingest_command.ingest_payloads
    calls = []

    def stopped_at_the_second_chunk(**kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(**kwargs)

    monkeypatch.setattr(ingest_command, "ingest_payloads", stopped_at_the_second_chunk)
    with pytest.raises(
        CommandError, match="Stopped after 50 of 120 events; run the command again"
    ):
        call_command("ingest_sample", sample_file, stdout=io.StringIO())
    assert Message.objects.count() == 50

    monkeypatch.setattr(ingest_command, "ingest_payloads", real)
    said = io.StringIO()
    call_command("ingest_sample", sample_file, stdout=said)
    assert "messages stored: 70\nduplicates: 50" in said.getvalue()
