"""The admin's commands, run as an admin runs them: in their own process, on a fresh database."""

import json
import os
import random
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import DatabaseError, connection

from demo.sample import DEMO_TRAFFIC

ROOT = Path(settings.BASE_DIR)


DROP_ATTEMPTS = 30


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory, django_db_blocker):
    """A database of the kind the suite runs on, migrated once: the fresh ones are its copies."""
    if connection.vendor != "postgresql":
        path = tmp_path_factory.mktemp("migrated") / "migrated.sqlite3"
        manage(f"sqlite:///{path}", "migrate")
        yield path
        return
    name = f"careinbox_scratch_{uuid.uuid4().hex[:8]}"
    create_database(name, django_db_blocker)
    manage(postgres_url(name), "migrate")
    yield name
    drop_database(name, django_db_blocker)


@pytest.fixture
def fresh_database(migrated_database, tmp_path, django_db_blocker):
    """A URL for a new, migrated database of the kind the suite runs on; dropped afterwards."""
    if connection.vendor != "postgresql":
        copy = tmp_path / "scratch.sqlite3"
        shutil.copyfile(migrated_database, copy)
        yield f"sqlite:///{copy}"
        return
    name = f"careinbox_scratch_{uuid.uuid4().hex[:8]}"
    create_database(name, django_db_blocker, template=migrated_database)
    yield postgres_url(name)
    drop_database(name, django_db_blocker)


def postgres_url(name: str) -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{name}"


def create_database(name, django_db_blocker, template="template1"):
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')


def drop_database(name, django_db_blocker):
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        for attempt in range(DROP_ATTEMPTS):
            try:
                cursor.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
                break
            except DatabaseError:
                # Autovacuum is still at work on the rows the test wrote, and a role that
                # may create databases may not stop it; it is done in moments.
                if attempt == DROP_ATTEMPTS - 1:
                    raise
                time.sleep(1)


def manage(database_url, *args, check=True):
    env = os.environ | {"DATABASE_URL": database_url, "DEBUG": "1"}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=check,
    )


def export(database_url):
    return manage(database_url, "export_cases").stdout


def test_ingesting_sample_twice_changes_nothing(fresh_database):
    first = manage(fresh_database, "ingest_sample", str(DEMO_TRAFFIC))
    exported = export(fresh_database)
    again = manage(fresh_database, "ingest_sample", str(DEMO_TRAFFIC))

    assert "messages stored: 414" in first.stdout
    assert "duplicates: 414" in again.stdout and "messages stored: 0" in again.stdout
    assert export(fresh_database) == exported
    rows = [json.loads(line) for line in exported.splitlines()]
    assert sum(len(row["messages"]) for row in rows) == 414


def test_ingesting_sample_in_shuffled_order_exports_the_same(fresh_database, tmp_path):
    lines = DEMO_TRAFFIC.read_bytes().splitlines()
    random.Random(7).shuffle(lines)
    shuffled = tmp_path / "shuffled.jsonl"
    shuffled.write_bytes(b"\n".join(lines) + b"\n")
    manage(fresh_database, "ingest_sample", str(shuffled))
    in_shuffled_order = export(fresh_database)

    manage(fresh_database, "flush", "--no-input")
    manage(fresh_database, "ingest_sample", str(DEMO_TRAFFIC))

    assert export(fresh_database) == in_shuffled_order


def test_ingest_sample_reports_quarantine_and_loses_nothing(fresh_database, tmp_path):
    broken = tmp_path / "broken.jsonl"
    good = DEMO_TRAFFIC.read_bytes().splitlines()[:3]
    broken.write_bytes(b"\n".join([good[0], b'{"id": "e-bad"', *good[1:]]) + b"\n")

    run = manage(fresh_database, "ingest_sample", str(broken))

    assert "events read: 4" in run.stdout
    assert "messages stored: 3" in run.stdout
    assert "quarantined: 1" in run.stdout
    assert "Not a JSON event" in run.stderr


def test_ingest_sample_of_a_missing_file_is_a_clear_error(fresh_database, tmp_path):
    run = manage(fresh_database, "ingest_sample", str(tmp_path / "nope.jsonl"), check=False)

    assert run.returncode != 0
    assert "Cannot read" in run.stderr
