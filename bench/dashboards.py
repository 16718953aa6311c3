"""Dashboards on PostgreSQL: server time of each dashboard next to the bare SQL behind it.

On the agent workspace's generated data set (``bench/workspace.py``: by default 200,000 cases
and 1,000,000 messages over 180 days, written with COPY), completed with the history that
generator leaves out (each resolved or closed case's status changes, hand-offs on one case in
twelve, and an SLA policy with the breaches its check would have recorded), measures every
dashboard for the last 30 days as a care manager opens it, a manager on every team of the
data set, so each figure counts the cases a manager sees: the backlog and flow, response
times, agents, service levels, the hand-off log and a random sample of it, and the cases
behind a figure. For each it prints the median time of the whole request (the test client:
middleware, sessions, view, templates), the median time of the bare SQL behind it (the
statements the request ran, captured once and replayed on a plain cursor in the same round,
fetching every row), their ratio and the number of statements. Target: every dashboard within
3x its bare SQL. Compare ratios within a run: absolute times move with the machine's load.

    DATABASE_URL=postgres://careinbox:careinbox@127.0.0.1:5432/careinbox \\
        .venv/bin/python -m bench.dashboards --cases 200000 --messages 1000000 --keep

The URL gives the server and the role. The data set lives in the database named after it with
``_bench_dash`` appended (the role needs CREATEDB); the database the URL names is never
touched. Without ``--keep`` it is dropped at the end; with it, the next run with the same
sizes and seed reuses it.
"""

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from psycopg2 import sql

from bench import workspace
from bench.ingest import (
    BenchmarkFailed,
    _server_connection,
    bench_url,
    check_code_unchanged,
    drop_database,
    postgres_config,
    server_version,
    setup_django,
)

DATABASE_SUFFIX = "_dash"  # after bench_url's "_bench"
TARGET_RATIO = 3.0
RANGE_DAYS = 30
# One case in this many (of those answered by an agent with a teammate) was handed off.
HAND_OFF_EVERY = 12
# One policy for every case, around the clock; its misses become breach events.
POLICY = {
    "name": "Standard",
    "first_response_minutes": 240,
    "next_response_minutes": 480,
    "resolution_minutes": 3 * 24 * 60,
}

# What bench/workspace.py leaves out of the history, written from the cases it generated:
# the status changes behind each resolved_at and closed_at, hand-offs to the assignee from a
# teammate after the first reply, and the breaches of POLICY the breach check would have
# recorded (first response and resolution). Deterministic: no randomness beyond the case ids.
HISTORY_SQL = [
    """
    INSERT INTO tickets_caseevent (case_id, kind, occurred_at, recorded_at, actor_id, data)
    SELECT id, 'status_changed', resolved_at, resolved_at, assignee_id,
        jsonb_build_object('from', 'open', 'to', 'resolved', 'reason', 'Set by hand.')
    FROM tickets_case WHERE resolved_at IS NOT NULL
    """,
    """
    INSERT INTO tickets_caseevent (case_id, kind, occurred_at, recorded_at, actor_id, data)
    SELECT id, 'status_changed', closed_at, closed_at, NULL,
        jsonb_build_object('from', 'resolved', 'to', 'closed',
            'reason', 'The reopen window passed before the customer wrote again.')
    FROM tickets_case WHERE closed_at IS NOT NULL
    """,
    """
    INSERT INTO tickets_caseevent (case_id, kind, occurred_at, recorded_at, actor_id, data)
    SELECT c.id, 'handed_off', h.at, h.at, mate.user_id,
        jsonb_build_object('from', mate.user_id, 'from_name', mate.display_name,
            'to', c.assignee_id, 'to_name', holder.display_name, 'team', NULL,
            'team_name', '', 'note', 'Over to you: the customer needs a follow-up.')
    FROM tickets_case c
    CROSS JOIN LATERAL (SELECT c.first_response_at + (5 + c.id %% 55) * interval '1 minute'
        AS at) h
    JOIN tickets_agentprofile holder ON holder.user_id = c.assignee_id
    CROSS JOIN LATERAL (
        SELECT p.user_id, p.display_name FROM tickets_agentprofile p
        JOIN tickets_agentprofile_teams t ON t.agentprofile_id = p.id
        WHERE t.team_id = c.team_id AND p.user_id <> c.assignee_id
        ORDER BY p.user_id OFFSET c.id %% 5 LIMIT 1) mate
    WHERE c.id %% %(every)s = 0 AND c.first_response_at IS NOT NULL
        AND h.at < coalesce(c.resolved_at, %(now)s)
    """,
    """
    INSERT INTO tickets_caseevent (case_id, kind, occurred_at, recorded_at, actor_id, data)
    SELECT c.id, 'sla_breached', due.at, due.at, NULL,
        jsonb_build_object('target', due.target, 'due_at', due.at, 'policy', %(policy)s,
            'policy_name', %(policy_name)s, 'escalated', '{}'::jsonb)
    FROM tickets_case c
    CROSS JOIN LATERAL (VALUES
        ('first_response', c.opened_at + %(first)s * interval '1 minute', c.first_response_at),
        ('resolution', c.opened_at + %(resolution)s * interval '1 minute', c.resolved_at)
    ) AS due (target, at, done)
    WHERE due.at < coalesce(due.done, %(now)s)
    """,
]


def _comment(sizes: workspace.Sizes) -> str:
    return json.dumps({"bench": "dashboards", **asdict(sizes)})


def reusable(config: dict[str, Any], sizes: workspace.Sizes) -> bool:
    """Whether the bench database holds a complete data set of these sizes, history included."""
    connection = _server_connection(config)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
                [config["NAME"]],
            )
            row = cursor.fetchone()
    finally:
        connection.close()
    return row is not None and row[0] == _comment(sizes)


def add_history(config: dict[str, Any], sizes: workspace.Sizes) -> dict[str, int]:
    """Write the history the workspace generator leaves out; returns events by kind."""
    from django.db import connection, transaction
    from django.utils import timezone

    from cases import rollup
    from sla.models import SLAPolicy

    started = time.monotonic()
    with transaction.atomic(), connection.cursor() as cursor:
        policy = SLAPolicy.objects.create(**POLICY)
        params = {
            "every": HAND_OFF_EVERY,
            "now": timezone.now(),
            "policy": policy.pk,
            "policy_name": policy.name,
            "first": policy.first_response_minutes,
            "resolution": policy.resolution_minutes,
        }
        for statement in HISTORY_SQL:
            cursor.execute(statement, params)
        # Statistics that know of the events just written (ANALYZE samples this transaction's
        # own rows): planned without them, each roll-up's search for its case's resolution
        # and breaches scans every event of that kind instead of the case's few.
        cursor.execute("ANALYZE tickets_caseevent")
        rollup.refresh_all()
        cursor.execute(
            sql.SQL("COMMENT ON DATABASE {} IS {}").format(
                sql.Identifier(config["NAME"]), sql.Literal(_comment(sizes))
            )
        )
    print(f"  history: {time.monotonic() - started:.0f} s", flush=True)
    return event_counts()


def event_counts() -> dict[str, int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT kind, count(*) FROM tickets_caseevent GROUP BY kind ORDER BY kind")
        return dict(cursor.fetchall())


MANAGER_LOGIN = "care-manager"


def care_manager() -> str:
    """The viewer of the dashboards: a manager on every team of the data set, who sees (under
    ``cases.visibility``) every team's cases as a care manager does. Safe to repeat, so a
    kept data set gains it too; returns the login."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group

    from staff import roles
    from staff.models import AgentProfile, Team

    user, _ = get_user_model().objects.get_or_create(
        username=MANAGER_LOGIN, defaults={"password": make_password(None)}
    )
    user.groups.add(Group.objects.get(name=roles.MANAGER))
    profile, _ = AgentProfile.objects.get_or_create(
        user=user, defaults={"display_name": "Morgan Reyes", "signature": "^MR"}
    )
    profile.teams.set(Team.objects.all())
    return MANAGER_LOGIN


def dashboard_pages(start: date, end: date) -> list[workspace.Page]:
    query = urlencode({"start": start.isoformat(), "end": end.isoformat()})
    figure = urlencode({"figure": "first-response", "channel": "x.mention"})
    return [
        workspace.Page("backlog and flow", f"/dashboards/?{query}"),
        workspace.Page("response times", f"/dashboards/response-times/?{query}"),
        workspace.Page("agents", f"/dashboards/agents/?{query}"),
        workspace.Page("service levels", f"/dashboards/service-levels/?{query}"),
        workspace.Page("hand-off log", f"/dashboards/hand-offs/?{query}"),
        workspace.Page("hand-off sample", f"/dashboards/hand-offs/?{query}&sample=7"),
        workspace.Page("cases behind a figure", f"/dashboards/cases/?{query}&{figure}"),
    ]


def report(results: Sequence[workspace.PageTimes]) -> None:
    header = f"{'dashboard':<24} {'server ms':>10} {'bare SQL ms':>12} {'ratio':>7}"
    print(f"{header} {'queries':>8}  target")
    for r in results:
        verdict = "met" if r.ratio <= TARGET_RATIO else "MISSED"
        print(
            f"{r.page.name:<24} {r.server:>10.1f} {r.sql:>12.1f} {r.ratio:>7.2f} "
            f"{r.queries:>8}  {verdict}"
        )


def report_slowest(results: Sequence[workspace.PageTimes], *, every: bool) -> None:
    for r in results:
        if r.ratio <= TARGET_RATIO and not every:
            continue
        statement, ms = r.slowest_statement()
        print(
            f"\n{r.page.name}: ratio {r.ratio:.2f}, {r.queries} queries. Its slowest statement "
            f"({ms:.1f} ms median):\n{statement}\n{workspace.explain(statement)}"
        )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=9, help="timed requests per dashboard")
    return workspace.parse_data_set_args(parser, argv, suffix="_bench_dash")


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    if not args.database_url:
        raise SystemExit("Pass --database-url or set DATABASE_URL to a PostgreSQL server.")
    postgres_config(args.database_url)
    url = bench_url(args.database_url) + DATABASE_SUFFIX
    config = postgres_config(url)
    sizes = workspace.Sizes(args.cases, args.messages, args.seed)
    setup_django(url)
    restore_settings = workspace.web_settings()
    try:
        if args.keep and reusable(config, sizes):
            print(f"Reusing {config['NAME']}: {sizes.cases} cases, {sizes.messages} messages.")
            workspace.migrate()
            counts = event_counts()
        else:
            print(
                f"Generating {config['NAME']}: {sizes.cases} cases, {sizes.messages} messages, "
                f"{sizes.customers} customers, seed {sizes.seed}.",
                flush=True,
            )
            workspace.generate(config, sizes)
            counts = add_history(config, sizes)
        workspace.vacuum_analyze()
        from django.utils import timezone

        end = timezone.localdate()
        start = end - timedelta(days=RANGE_DAYS - 1)
        pages = dashboard_pages(start, end)
        print(
            f"History events: {sum(counts.values())} "
            f"({', '.join(f'{n} {kind}' for kind, n in counts.items())}). "
            f"Range {start} to {end}, {args.rounds} rounds.",
            flush=True,
        )
        client = workspace.signed_in_client(care_manager())
        results = workspace.measure(client, pages, args.rounds)
        version = server_version()
        check_code_unchanged()
        print(
            f"{date.today()}, {os.cpu_count()} CPUs, PostgreSQL {version}, "
            f"Python {platform.python_version()}"
        )
        for page in pages:
            print(f"  {page.name}: {page.url}")
        report(results)
        report_slowest(results, every=args.explain)
    except BenchmarkFailed as exc:
        raise SystemExit(f"FAILED: {exc}") from None
    finally:
        restore_settings()
        if not args.keep:
            drop_database(config)


if __name__ == "__main__":
    main(sys.argv[1:])
