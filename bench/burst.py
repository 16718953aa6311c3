"""A webhook burst through the real path: how long messages take to reach the inbox.

The sandbox's pusher (``demo.sandbox.push``) posts ``--messages`` customer messages from
``--customers`` authors, half X mentions and half Facebook comments, to the webhook URLs of an
X and a Facebook channel account at a steady ``--rate`` a second, each platform delivering
every 0.1 s what became due, signed as the platforms sign. It posts to gunicorn (``--web``
processes) over HTTP; ``--workers`` Celery workers, through Redis, ingest the deliveries; one
more worker, at the lowest CPU priority, links identities (its own queue, as
``docs/scaling.md`` advises). The database is configured as ``bench.ingest`` configures it: three
routing rules, a business-hours SLA policy, an auto-assigning team.

A watcher reads newly committed messages every 0.1 s. A message's lag is from the time the
platform stamped on it (when it was sent) to the watcher first seeing it stored: from then it
is in the inbox. Reports the lag's p50, p99 and maximum.

    DATABASE_URL=postgres://careinbox:careinbox@127.0.0.1:5432/careinbox \\
        .venv/bin/python -m bench.burst --messages 50000 --rate 500

Runs on the database the URL names with ``_bench`` appended (dropped, created and migrated
first, dropped at the end) and on Redis database 15 of ``--redis`` (flushed first).
"""

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg2
import redis

from bench.ingest import (
    PROJECT,
    bench_url,
    drop_database,
    fresh_database,
    load_sample,
    postgres_config,
    server_version,
    setup_django,
)

if TYPE_CHECKING:
    from demo.sandbox.push import Hook, Pushed

WATCH_SECONDS = 0.1
START_TIMEOUT_SECONDS = 60
# How long after the last push the run waits for the inbox to catch up.
DRAIN_TIMEOUT_SECONDS = 900
X_SECRET = "bench-consumer-secret"
FACEBOOK_SECRET = "bench-app-secret"


def connect_accounts(base_url: str) -> dict[str, "Hook"]:
    """An X and a Facebook account set up for webhooks, and the hooks the pusher posts to."""
    from django.urls import reverse

    from channels.models import ChannelAccount
    from demo.sandbox.graph_api import PAGE_ID
    from demo.sandbox.push import Hook
    from demo.sandbox.x_api import BRAND

    x = ChannelAccount.objects.create(
        platform="x",
        name="@acme_care (webhooks)",
        settings={"user_id": BRAND["id"], "handle": BRAND["username"]},
        credentials={"bearer_token": "unused", "consumer_secret": X_SECRET},
    )
    facebook = ChannelAccount.objects.create(
        platform="facebook",
        name="Acme Home (webhooks)",
        settings={"page_id": PAGE_ID},
        credentials={
            "page_access_token": "unused",
            "app_secret": FACEBOOK_SECRET,
            "verify_token": "unused",
        },
    )
    return {
        "x": Hook("x", base_url + reverse("intake:webhook-x", args=[x.pk]), X_SECRET),
        "facebook": Hook(
            "facebook",
            base_url + reverse("intake:webhook-facebook", args=[facebook.pk]),
            FACEBOOK_SECRET,
        ),
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Services:
    """gunicorn and the Celery workers, started on the bench database and Redis."""

    def __init__(self, *, database_url: str, redis_url: str, web: int, workers: int) -> None:
        self.port = free_port()
        env = os.environ | {
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "DEBUG": "0",
            "CAREINBOX_DEMO": "0",
            "SECRET_KEY": "bench-only-secret-key",
            "ALLOWED_HOSTS": "127.0.0.1",
            "LOG_LEVEL": "WARNING",
        }
        bin_dir = Path(sys.executable).parent
        celery = [str(bin_dir / "celery"), "-A", "careinbox", "worker", "-l", "warning"]
        gunicorn = [str(bin_dir / "gunicorn"), "careinbox.wsgi", "-w", str(web)]
        commands = [
            [*gunicorn, "-b", f"127.0.0.1:{self.port}", "--log-level", "warning"],
            *([*celery, "-Q", "celery", "-c", "1", "-n", f"ingest{n}@%h"] for n in range(workers)),
            ["nice", "-n", "19", *celery, "-Q", "linking", "-c", "1", "-n", "linking@%h"],
        ]
        # Their output (warnings included) goes to one log, named if a process fails; it is
        # open as long as they run, and closed by stop().
        self.log = tempfile.NamedTemporaryFile(  # noqa: SIM115
            prefix="bench-burst-", suffix=".log", delete=False
        )
        self.processes = [
            subprocess.Popen(command, cwd=PROJECT, env=env, stdout=self.log, stderr=self.log)
            for command in commands
        ]
        self.expected_workers = workers + 1

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_until_ready(self, redis_url: str) -> None:
        from celery import Celery

        app = Celery(broker=redis_url)
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            for process in self.processes:
                if process.poll() is not None:
                    raise SystemExit(
                        f"{process.args[0]} exited with {process.returncode}; see {self.log.name}"
                    )
            answered = app.control.ping(timeout=1.0) or []
            if len(answered) >= self.expected_workers and self._web_answers():
                return
            time.sleep(0.5)
        raise SystemExit(f"gunicorn or the workers did not start in time; see {self.log.name}")

    def _web_answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return True
        except OSError:
            return False

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        self.log.close()


class Watcher(threading.Thread):
    """Notes when each pushed customer message is first seen committed.

    It asks for the messages pushed and not yet seen, by platform id: two workers commit
    their batches in any order, so message ids do not grow in the order they become visible.
    """

    def __init__(self, config: dict) -> None:
        super().__init__(daemon=True)
        self.connection = psycopg2.connect(
            dbname=config["NAME"],
            user=config["USER"],
            password=config["PASSWORD"],
            host=config["HOST"] or None,
            port=config["PORT"] or None,
        )
        self.connection.autocommit = True
        self.seen: dict[str, float] = {}
        self.pending: set[str] = set()
        self.lock = threading.Lock()
        self.stopping = threading.Event()

    def expect(self, external_ids: Sequence[str]) -> None:
        with self.lock:
            self.pending.update(external_ids)

    def run(self) -> None:
        with self.connection.cursor() as cursor:
            # The webhook accounts: their ids and the platform ids make the unique key's index.
            cursor.execute("SELECT array_agg(id) FROM channels_in_channelaccount WHERE enabled")
            (accounts,) = cursor.fetchone()
            while not self.stopping.is_set():
                with self.lock:
                    wanted = list(self.pending)
                cursor.execute(
                    "SELECT external_id FROM tickets_message"
                    " WHERE channel_account_id = ANY(%s) AND external_id = ANY(%s)",
                    [accounts, wanted],
                )
                now = time.time()
                found = [external_id for (external_id,) in cursor.fetchall()]
                with self.lock:
                    self.pending.difference_update(found)
                for external_id in found:
                    self.seen.setdefault(external_id, now)
                time.sleep(WATCH_SECONDS)
        self.connection.close()


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def external_id(message: "Pushed") -> str:
    from demo.sandbox.push import PAGE_POST_ID

    if message.platform == "x":
        return message.message_id
    return f"{PAGE_POST_ID}_{message.message_id}"


def stored_counts() -> tuple[int, int, int]:
    """Customer messages stored, distinct platform ids among them, and payloads quarantined."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), count(DISTINCT external_id) FROM tickets_message"
            " WHERE direction = 'inbound'"
        )
        stored, distinct = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM channels_in_quarantinedpayload")
        (quarantined,) = cursor.fetchone()
    return stored, distinct, quarantined


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=500, help="messages pushed a second")
    parser.add_argument("--workers", type=int, default=2, help="Celery workers ingesting")
    parser.add_argument("--web", type=int, default=2, help="gunicorn processes")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    args = parser.parse_args(argv)

    config = postgres_config(bench_url(args.database_url))
    database_url = bench_url(args.database_url)
    redis_url = f"{args.redis.rstrip('/')}/15"
    setup_django(database_url)
    fresh_database(config)
    redis.Redis.from_url(redis_url).flushdb()

    from django.db import connections

    from demo.sandbox.push import messages_of, push_steadily

    texts = [event["text"] for event in load_sample() if event.get("text")]
    messages = messages_of(texts, count=args.messages, customers=args.customers)
    services = Services(
        database_url=database_url, redis_url=redis_url, web=args.web, workers=args.workers
    )
    try:
        services.wait_until_ready(redis_url)
        hooks = connect_accounts(services.base_url)
        connections.close_all()
        sent: dict[str, float] = {}
        deliveries = 0

        def record(group: Sequence["Pushed"], at: float) -> None:
            nonlocal deliveries
            deliveries += 1
            keys = [external_id(message) for message in group]
            sent.update(dict.fromkeys(keys, at))
            watcher.expect(keys)

        watcher = Watcher(config)
        watcher.start()
        started = time.time()
        push_steadily(messages, hooks, per_second=args.rate, sent=record)
        pushed_seconds = time.time() - started
        deadline = time.time() + DRAIN_TIMEOUT_SECONDS
        while len(watcher.seen) < len(sent) and time.time() < deadline:
            time.sleep(0.5)
        watcher.stopping.set()
        watcher.join()
    finally:
        services.stop()

    stored, distinct, quarantined = stored_counts()
    lags = [watcher.seen[key] - at for key, at in sent.items() if key in watcher.seen]
    missing = len(sent) - len(lags)
    print(
        json.dumps(
            {
                "messages": len(messages),
                "customers": args.customers,
                "rate asked": args.rate,
                "rate pushed": round(len(messages) / pushed_seconds, 1),
                "deliveries": deliveries,
                "web processes": args.web,
                "ingest workers": args.workers,
                "not in the inbox": missing,
                "stored": stored,
                "stored twice": stored - distinct,
                "quarantined": quarantined,
                "lag p50 s": round(statistics.median(lags), 2),
                "lag p99 s": round(percentile(lags, 0.99), 2),
                "lag max s": round(max(lags), 2),
                "cpus": os.cpu_count(),
                "postgresql": server_version(),
                "python": platform.python_version(),
            },
            indent=2,
        )
    )
    drop_database(config)


if __name__ == "__main__":
    main()
