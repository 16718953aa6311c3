"""Run sample ingestion in separate OS processes that start at the same moment.

Each child sets Django up, connects, prints ``ready`` and waits for a line on stdin before it
ingests, so the work of all children overlaps instead of following process start-up times.
It prints its counts as one JSON line at the end. Used by the concurrency tests as::

    python -m tests.processes batch FILE   # the ingest_sample command: one sorted batch
    python -m tests.processes each FILE    # one event per call in file order, like webhooks
    python -m tests.processes merge FILE   # merge each [source, target] customer id pair
    python -m tests.processes drain -      # claim and ingest webhook deliveries until none wait

It also starts the long-running children of the fault tests: a Celery worker and beat
(``start_celery``) on a private redis-server (``RedisServer``).
"""

import io
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT_SECONDS = 300
WAIT_SECONDS = 60


def child_database_url() -> str:
    """The URL of the database this test runs on, for child processes."""
    from django.db import connection

    s = connection.settings_dict
    credentials = f"{quote(s['USER'], safe='')}:{quote(s['PASSWORD'], safe='')}"
    address = f"{s['HOST']}:{s['PORT']}" if s["PORT"] else s["HOST"]
    return f"postgres://{credentials}@{address}/{quote(s['NAME'], safe='')}"


def child_env(**extra: str) -> dict[str, str]:
    """The environment of a child process on this test's database."""
    return os.environ | {"DATABASE_URL": child_database_url(), "DEBUG": "1", **extra}


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"Timed out waiting until {what}.")
        time.sleep(0.05)


def start_celery(role: str, *args: str, log: Path, **env: str) -> subprocess.Popen:
    """A Celery ``worker`` or ``beat`` of the project, as a child process on this test's
    database, logging to the file ``log``."""
    with log.open("a") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "careinbox", role, "--loglevel=WARNING", *args],
            cwd=ROOT,
            env=child_env(**env),
            stdout=output,
            stderr=subprocess.STDOUT,
        )


# A test's Redis keeps nothing on disk: a restart loses every queued task, as the worst one does.
NOT_SAVED = ("--save", "", "--appendonly", "no")


class RedisServer:
    """A redis-server of the test's own on ``port``, saving nothing, stopped and started
    again at will: stopping it disturbs no other user of Redis."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self._process: subprocess.Popen | None = None

    def start(self) -> "RedisServer":
        import redis

        self._process = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), *NOT_SAVED],
            stdout=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_timeout=1)

        def answers() -> bool:
            try:
                return bool(client.ping())
            except redis.ConnectionError:
                return False

        wait_until(answers, f"redis-server answers on port {self.port}")
        return self

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=WAIT_SECONDS)
            self._process = None


def run_together(jobs: Sequence[tuple[str, Path]], *, database_url: str) -> list[dict[str, int]]:
    """Start one child per ``(mode, file)``, release them together once all are ready, and
    return each child's counts. Raises ``AssertionError`` with its output if a child fails."""
    env = os.environ | {
        "DATABASE_URL": database_url,
        "DEBUG": "1",
        "DJANGO_SETTINGS_MODULE": "careinbox.settings",
    }
    children = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.processes", mode, str(file)],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for mode, file in jobs
    ]
    try:
        for child in children:
            line = child.stdout.readline()
            if line.strip() != "ready":
                _, err = child.communicate(timeout=TIMEOUT_SECONDS)
                raise AssertionError(f"Ingest process did not start: {line}{err}")
        for child in children:
            child.stdin.write("go\n")
            child.stdin.flush()
        outputs = [child.communicate(timeout=TIMEOUT_SECONDS) for child in children]
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait()
    counts = []
    for child, (out, err) in zip(children, outputs, strict=True):
        if child.returncode != 0:
            raise AssertionError(f"Ingest process exited with {child.returncode}:\n{out}{err}")
        counts.append(json.loads(out.strip().splitlines()[-1]))
    return counts


def _ingest(mode: str, file: Path) -> dict[str, int]:
    from django.core.management import call_command

    from demo import sample
    from intake.services import BatchResult, ingest_payloads

    accounts = sample.accounts()  # also opens the connection before the start
    lines = [line for line in file.read_bytes().splitlines() if line.strip()]
    print("ready", flush=True)
    if sys.stdin.readline().strip() != "go":
        raise SystemExit("No go signal on stdin.")
    if mode == "batch":
        report = io.StringIO()
        call_command("ingest_sample", str(file), stdout=report)
        # "messages stored: 12" and so on, as the command reports them.
        counts = dict(line.rsplit(": ", 1) for line in report.getvalue().splitlines())
        return {
            "stored": int(counts["messages stored"]),
            "duplicates": int(counts["duplicates"]),
            "quarantined": int(counts["quarantined"]),
        }
    total = BatchResult()
    for line in lines:
        result = ingest_payloads(source="sample", payloads=[line], accounts=accounts)
        total.stored += result.stored
        total.duplicates += result.duplicates
        total.quarantined += result.quarantined
    return {
        "stored": total.stored,
        "duplicates": total.duplicates,
        "quarantined": len(total.quarantined),
    }


def _merge(file: Path) -> dict[str, int]:
    from casework.merge import merge_customers
    from customers.models import Customer

    pairs = json.loads(file.read_text())
    Customer.objects.exists()  # opens the connection before the start
    print("ready", flush=True)
    if sys.stdin.readline().strip() != "go":
        raise SystemExit("No go signal on stdin.")
    for source_id, target_id in pairs:
        merge_customers(
            source=Customer.objects.get(pk=source_id), target=Customer.objects.get(pk=target_id)
        )
    return {"merged": len(pairs)}


def _drain() -> dict[str, int]:
    from intake.models import WebhookDelivery
    from intake.webhooks.deliveries import claim_deliveries, ingest_claimed

    WebhookDelivery.objects.exists()  # opens the connection before the start
    print("ready", flush=True)
    if sys.stdin.readline().strip() != "go":
        raise SystemExit("No go signal on stdin.")
    counts = {"deliveries": 0, "stored": 0, "duplicates": 0, "quarantined": 0}
    while claim := claim_deliveries():
        if not claim.deliveries:
            break
        result = ingest_claimed(claim.deliveries)
        counts["deliveries"] += len(claim.deliveries)
        counts["stored"] += result.stored
        counts["duplicates"] += result.duplicates
        counts["quarantined"] += len(result.quarantined)
    return counts


def main(argv: list[str]) -> None:
    import django

    mode, file = argv
    django.setup()
    if mode == "merge":
        counts = _merge(Path(file))
    elif mode == "drain":
        counts = _drain()
    else:
        counts = _ingest(mode, Path(file))
    print(json.dumps(counts), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
