"""Identity linking against labelled traffic: how often one customer is one person.

Ingests a sample traffic file (default ``demo/sample_data/traffic.jsonl``) with the
``ingest_sample`` command into a fresh SQLite database (or the one ``DATABASE_URL`` names,
which must be empty), reads the result back with ``export_cases``, and scores it against the
file's ``truth.person`` labels, which only this scorer reads:

- automatic links: precision and recall over pairs of identities put in one customer;
- suggestions (each customer's top 3 open suggestions): precision over suggested pairs of
  customers, and recall over the cross-channel pairs of a person's identities that automatic
  links left apart;
- coverage: the share of cross-channel pairs found by automatic links plus suggestions.

    .venv/bin/python -m bench.identity [--traffic FILE]
"""

import argparse
import io
import json
import os
import sys
import tempfile
from collections import Counter, defaultdict
from itertools import combinations
from pathlib import Path
from typing import Any

SAMPLE_TRAFFIC = Path(__file__).resolve().parent.parent / "demo/sample_data/traffic.jsonl"
TOP_SUGGESTIONS = 3

IdentityKey = tuple[str, str]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--traffic", type=Path, default=SAMPLE_TRAFFIC)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        os.environ.setdefault("DATABASE_URL", f"sqlite:///{scratch}/identity.sqlite3")
        rows = _ingest_and_export(args.traffic)
    figures = score(rows, _persons(args.traffic))
    for name, value in figures.items():
        print(f"{name}: {value}")


def _ingest_and_export(traffic: Path) -> list[dict[str, Any]]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "careinbox.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from cases.export import export_cases

    call_command("migrate", verbosity=0)
    call_command("ingest_sample", str(traffic), stdout=io.StringIO())
    return list(export_cases())


def _persons(traffic: Path) -> dict[IdentityKey, str]:
    """Each identity's person, by the labels (the most frequent, should one disagree)."""
    votes: dict[IdentityKey, Counter[str]] = defaultdict(Counter)
    for line in traffic.read_text().splitlines():
        if not line.strip():
            continue
        event = json.loads(line)
        author, platform = event["author"], event["channel"].split(".")[0]
        external_id = author["email"].lower() if platform == "email" else str(author["id"])
        votes[(platform, external_id)][event["truth"]["person"]] += 1
    return {key: counter.most_common(1)[0][0] for key, counter in votes.items()}


def score(rows: list[dict[str, Any]], persons: dict[IdentityKey, str]) -> dict[str, str]:
    customer_of: dict[IdentityKey, str] = {}
    suggested: set[frozenset[str]] = set()
    for row in rows:
        customer = row["customer"]
        top = customer["suggestions"][:TOP_SUGGESTIONS]
        suggested |= {frozenset((customer["key"], s["customer"])) for s in top}
        for identity in customer["identities"]:
            customer_of[(identity["platform"], identity["external_id"])] = customer["key"]
    known = [key for key in customer_of if key in persons]
    pairs = [frozenset(p) for p in combinations(known, 2)]
    true_pairs = {p for p in pairs if len({persons[k] for k in p}) == 1}
    linked = {p for p in pairs if len({customer_of[k] for k in p}) == 1}
    cross = {p for p in true_pairs if len({platform for platform, _ in p}) == 2}

    people_of: dict[int, Counter[str]] = defaultdict(Counter)
    for key in known:
        people_of[customer_of[key]][persons[key]] += 1
    good_suggestions = {pair for pair in suggested if _person(people_of, pair) is not None}
    apart = {p for p in cross if p not in linked}
    found = {p for p in apart if frozenset(customer_of[k] for k in p) in suggested}
    return {
        "identities": str(len(known)),
        "people with more than one identity": str(
            len({persons[k] for p in true_pairs for k in p})
        ),
        "cross-channel pairs": str(len(cross)),
        "automatic links: linked pairs": str(len(linked)),
        "automatic links: precision": _ratio(len(linked & true_pairs), len(linked)),
        "automatic links: recall": _ratio(len(linked & true_pairs), len(true_pairs)),
        "suggestions (top 3): suggested pairs of customers": str(len(suggested)),
        "suggestions (top 3): precision": _ratio(len(good_suggestions), len(suggested)),
        "suggestions (top 3): recall over cross-channel pairs not linked": _ratio(
            len(found), len(apart)
        ),
        "automatic links + suggestions: cross-channel pairs found": _ratio(
            len((cross & linked) | found), len(cross)
        ),
    }


def _person(people_of: dict[int, Counter[str]], pair: frozenset[int]) -> str | None:
    """The person both customers of a pair mostly are, if they are the same one."""
    a, b = (people_of[c].most_common(1)[0][0] if people_of[c] else None for c in pair)
    return a if a is not None and a == b else None


def _ratio(part: int, whole: int) -> str:
    return f"{part / whole:.2f} ({part}/{whole})" if whole else "n/a (0/0)"


if __name__ == "__main__":
    sys.exit(main())
