"""Work that must run once at a time across every worker process: a poll, a send."""

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import redis
from django.conf import settings

_local_locks: dict[str, threading.Lock] = {}
_local_guard = threading.Lock()


@contextmanager
def exclusive(name: str, *, seconds: int) -> Iterator[bool]:
    """Yield whether this caller holds the lock called ``name``; never waits for it. The lock
    expires after ``seconds`` if its holder dies without releasing it.

    With REDIS_URL the lock lives in Redis and holds across processes and hosts; without it
    (the embedded default, one process) a process-local lock does the same job.
    """
    if settings.REDIS_URL:
        client = redis.Redis.from_url(settings.REDIS_URL)
        lock = client.lock(f"careinbox:{name}", timeout=seconds)
        acquired = lock.acquire(blocking=False)
        try:
            yield acquired
        finally:
            if acquired and lock.owned():
                lock.release()
        return
    with _local_guard:
        local = _local_locks.setdefault(name, threading.Lock())
    acquired = local.acquire(blocking=False)
    try:
        yield acquired
    finally:
        if acquired:
            local.release()
