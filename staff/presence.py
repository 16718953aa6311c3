"""Who is looking at a case right now, so two agents do not answer one customer twice.

Each open case page reports every few seconds what its agent is doing ("viewing", or
"replying" while the composer has text); an entry lapses when its page stops reporting. Kept in
the cache (Redis across web processes), never in the database.
"""

import time

from django.core.cache import cache

ACTIVITIES = ("viewing", "replying")
# Pages report every HEARTBEAT_SECONDS; an agent missing two reports has left.
HEARTBEAT_SECONDS = 5
LAPSE_SECONDS = 2 * HEARTBEAT_SECONDS + 2


def _key(case_id: int) -> str:
    return f"careinbox:presence:case:{case_id}"


def report(*, case_id: int, user_id: int, name: str, activity: str) -> None:
    """Record that ``user_id`` is on the case doing ``activity``."""
    if activity not in ACTIVITIES:
        activity = "viewing"
    now = time.time()
    # Read-modify-write can lose a racing report; the next heartbeat restores it.
    present = {
        uid: entry
        for uid, entry in cache.get(_key(case_id), {}).items()
        if now - entry[2] < LAPSE_SECONDS and uid != user_id
    }
    present[user_id] = (name, activity, now)
    cache.set(_key(case_id), present, LAPSE_SECONDS)


def others(*, case_id: int, user_id: int) -> list[tuple[str, str]]:
    """(name, activity) of everyone else on the case, repliers first."""
    now = time.time()
    entries = [
        (name, activity)
        for uid, (name, activity, seen) in cache.get(_key(case_id), {}).items()
        if uid != user_id and now - seen < LAPSE_SECONDS
    ]
    return sorted(entries, key=lambda e: (e[1] != "replying", e[0]))
