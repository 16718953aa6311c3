"""The care stages of ingest against labelled traffic: spam, sentiment, praise and closers.

Ingests a sample traffic file (default ``demo/sample_data/traffic.jsonl``, the week whose
labels ``../shared/data/traffic.jsonl`` also holds) with the ``ingest_sample`` command into a
fresh SQLite database (or the empty one ``DATABASE_URL`` names), reads what each customer
message was found to be back with ``export_cases``, and scores it against the file's
``truth`` labels, which only this scorer reads:

- spam: precision and recall of the messages marked spam;
- sentiment: agreement, and each class's recall;
- praise: the praising messages whose praise reached the right person, store or team, and
  the other messages praise was claimed for;
- closers (messages that need no reply, spam aside): precision and recall.

    .venv/bin/python -m bench.care [--traffic FILE]
"""

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.identity import SAMPLE_TRAFFIC, _ingest_and_export, _ratio

SENTIMENTS = ("neg", "neu", "pos")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--traffic", type=Path, default=SAMPLE_TRAFFIC)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        os.environ.setdefault("DATABASE_URL", f"sqlite:///{scratch}/care.sqlite3")
        rows = _ingest_and_export(args.traffic)
    for name, value in score(_found(rows), _truth(args.traffic)).items():
        print(f"{name}: {value}")


def _found(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """What ingest found of each customer message, by its event id (the external id)."""
    return {
        message["external_id"]: message
        for row in rows
        for message in row["messages"]
        if message["direction"] == "inbound"
    }


def _truth(traffic: Path) -> dict[str, dict[str, Any]]:
    events = (json.loads(line) for line in traffic.read_text().splitlines() if line.strip())
    return {event["id"]: event["truth"] for event in events}


def score(found: dict[str, dict[str, Any]], truth: dict[str, dict[str, Any]]) -> dict[str, str]:
    ids = [event_id for event_id in truth if event_id in found]
    figures = {"labelled messages found": _ratio(len(ids), len(truth))}

    spam = {i for i in ids if found[i]["spam"]}
    true_spam = {i for i in ids if truth[i]["spam"]}
    figures["spam: precision"] = _ratio(len(spam & true_spam), len(spam))
    figures["spam: recall"] = _ratio(len(spam & true_spam), len(true_spam))

    agreed = [i for i in ids if found[i]["sentiment"] == truth[i]["sentiment"]]
    figures["sentiment: agreement"] = _ratio(len(agreed), len(ids))
    for label in SENTIMENTS:
        labelled = [i for i in ids if truth[i]["sentiment"] == label]
        hits = [i for i in labelled if found[i]["sentiment"] == label]
        figures[f"sentiment: {label} recall"] = _ratio(len(hits), len(labelled))

    praising = [i for i in ids if truth[i]["praise_for"]]
    right = [i for i in praising if _praises(found[i]["praise_for"], truth[i]["praise_for"])]
    others = [i for i in ids if not truth[i]["praise_for"]]
    claimed = [i for i in others if found[i]["praise_for"]]
    figures["praise: reached the right person, store or team"] = _ratio(len(right), len(praising))
    figures["praise: claimed for other messages"] = _ratio(len(claimed), len(others))

    closers = {i for i in ids if not found[i]["needs_reply"] and not found[i]["spam"]}
    true_closers = {i for i in ids if not truth[i]["needs_reply"] and not truth[i]["spam"]}
    figures["closers: precision"] = _ratio(len(closers & true_closers), len(closers))
    figures["closers: recall"] = _ratio(len(closers & true_closers), len(true_closers))
    return figures


def _praises(found: str | None, truth: str) -> bool:
    """Whether the praise found names the one labelled: "Lindsey (Leeds store)" is reached
    by any praise_for naming Lindsey; "delivery team" by one naming that team."""
    if not found:
        return False
    name = truth.split(" (")[0].strip().lower()
    return name in found.lower()


if __name__ == "__main__":
    sys.exit(main())
