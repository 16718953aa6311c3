#!/usr/bin/env python3
"""The two commands of CareInbox: ``python3 run.py demo`` and ``python3 run.py test``.

Creates ``.venv`` on first use with a Python new enough for Django 6 (3.12+), keeps it in
step with the lock file, then runs the demo or the test suite inside it. Any Python 3 can
start this script; it finds a suitable interpreter on PATH or in pyenv when it is not one.
"""

from __future__ import annotations

import glob
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
VENV_PYTHON = VENV / "bin" / "python"
LOCK = ROOT / "requirements-dev.lock"
STAMP = VENV / ".lock-sha256"
MIN_VERSION = (3, 12)

USAGE = """usage: python3 run.py COMMAND [ARGS...]

  demo [ARGS...]   start CareInbox on the embedded default (SQLite, tasks in-process)
  test [ARGS...]   run the whole test suite (ARGS go to pytest)
  manage ARGS...   run a manage.py command inside the virtual environment
"""


def _version_of(python: str) -> tuple[int, int] | None:
    try:
        out = subprocess.run(
            [python, "-c", "import sys; print(*sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    major, minor = out.split()
    return int(major), int(minor)


def _candidate_pythons() -> list[str]:
    candidates = [sys.executable]
    for name in ("python3.14", "python3.13", "python3.12", "python3"):
        found = shutil.which(name)
        if found:
            candidates.append(found)
    # pyenv keeps versions that are installed but not selected out of PATH.
    pyenv_root = os.environ.get("PYENV_ROOT", str(Path.home() / ".pyenv"))
    candidates += sorted(glob.glob(f"{pyenv_root}/versions/3.1[2-9]*/bin/python3"), reverse=True)
    return candidates


def _find_python() -> str:
    for python in _candidate_pythons():
        version = _version_of(python)
        if version and version >= MIN_VERSION:
            return python
    sys.exit(
        "CareInbox needs Python 3.12 or newer (Django 6 does), and none was found on PATH "
        "or in pyenv. Install one, then run this command again."
    )


def ensure_venv() -> None:
    """Create .venv if missing and install the lock file whenever it changed."""
    if not VENV_PYTHON.exists():
        python = _find_python()
        print(f"Creating .venv with {python} ...", flush=True)
        subprocess.run([python, "-m", "venv", str(VENV)], check=True)
    lock_hash = hashlib.sha256(LOCK.read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == lock_hash:
        return
    print("Installing dependencies from requirements-dev.lock ...", flush=True)
    pip = [str(VENV_PYTHON), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "--require-hashes", "-r", str(LOCK)], check=True)
    STAMP.write_text(lock_hash)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"demo", "test", "manage"}:
        print(USAGE, file=sys.stderr)
        return 2
    command, args = argv[0], argv[1:]
    ensure_venv()
    # The demo and the tests run on a developer's machine: development settings, unless the
    # caller says otherwise.
    env = {"DEBUG": "1"} | os.environ
    if command == "test":
        cmd = [str(VENV_PYTHON), "-m", "pytest", *args]
    elif command == "demo":
        # The demo's one process ingests alone, so incident detection (off by default, see the
        # README) shows the sample week's two incidents.
        env = {"CAREINBOX_INCIDENTS": "1"} | env
        cmd = [str(VENV_PYTHON), "manage.py", "demo", *args]
    else:
        cmd = [str(VENV_PYTHON), "manage.py", *args]
    return subprocess.run(cmd, cwd=ROOT, env=env).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
