"""Incident detection at ingest against labelled traffic.

Ingests a sample traffic file (default ``demo/sample_data/traffic.jsonl``) in time order with
the ``ingest_sample`` command, a few messages a batch (``CAREINBOX_INGEST_CHUNK``, 20 unless
set) so that detection sees the week arrive over time, into a fresh SQLite database (or the
empty one ``DATABASE_URL`` names); reads each customer message's incident back with
``export_cases`` and scores it against the file's ``truth.topic`` labels, which only this
scorer reads:

- for each labelled topic, the incident holding most of its messages and the share it holds
  (goal at least 0.8);
- the share of that incident's messages from outside the topic (goal at most 0.1);
- the incidents proposed from unlabelled traffic (goal 0).

    .venv/bin/python -m bench.incidents [--traffic FILE]
"""

import argparse
import json
import os
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from bench.identity import SAMPLE_TRAFFIC, _ingest_and_export, _ratio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--traffic", type=Path, default=SAMPLE_TRAFFIC)
    args = parser.parse_args()
    os.environ.setdefault("CAREINBOX_INGEST_CHUNK", "20")
    os.environ.setdefault("CAREINBOX_INCIDENTS", "1")
    with tempfile.TemporaryDirectory() as scratch:
        os.environ.setdefault("DATABASE_URL", f"sqlite:///{scratch}/incidents.sqlite3")
        rows = _ingest_and_export(args.traffic)
    for name, value in score(found(rows), topics(args.traffic)).items():
        print(f"{name}: {value}")


def found(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Each customer message's incident, by its event id (the external id)."""
    return {
        message["external_id"]: message["incident"]
        for row in rows
        for message in row["messages"]
        if message["direction"] == "inbound"
    }


def topics(traffic: Path) -> dict[str, str | None]:
    events = (json.loads(line) for line in traffic.read_text().splitlines() if line.strip())
    return {event["id"]: event["truth"].get("topic") for event in events}


def score(incident_of: dict[str, Any], topic_of: dict[str, str | None]) -> dict[str, str]:
    members: dict[Any, list[str]] = defaultdict(list)
    for event_id, incident in incident_of.items():
        if incident is not None:
            members[incident].append(event_id)
    figures = {}
    matched = set()
    for topic in sorted({t for t in topic_of.values() if t}):
        ids = [i for i, t in topic_of.items() if t == topic]
        held = Counter(incident_of.get(i) for i in ids if incident_of.get(i) is not None)
        if not held:
            figures[f"{topic}: held by one incident"] = _ratio(0, len(ids))
            continue
        incident, count = held.most_common(1)[0]
        matched.add(incident)
        outside = [i for i in members[incident] if topic_of.get(i) != topic]
        figures[f"{topic}: incident"] = str(incident)
        figures[f"{topic}: held by that incident"] = _ratio(count, len(ids))
        figures[f"{topic}: that incident's messages from outside"] = _ratio(
            len(outside), len(members[incident])
        )
    unlabelled = [
        incident
        for incident, ids in members.items()
        if incident not in matched and not any(topic_of.get(i) for i in ids)
    ]
    figures["incidents from unlabelled traffic"] = str(len(unlabelled))
    figures["incidents"] = str(len(members))
    return figures


def scores(rows: list[dict[str, Any]], traffic: Path) -> dict[str, str]:
    return score(found(rows), topics(traffic))


if __name__ == "__main__":
    sys.exit(main())
