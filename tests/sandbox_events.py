"""Sample-format customer events for tests that show them to the platform sandbox."""

import json
from datetime import UTC, datetime, timedelta


def event(event_id, channel, text, *, ago=timedelta(hours=1), author=None, **fields):
    """One line of sample traffic, ``ago`` before now."""
    at = (datetime.now(UTC) - ago).strftime("%Y-%m-%dT%H:%M:%SZ")
    author = author or {"id": "100066745989389", "name": "Bernadette Quinn"}
    return json.dumps(
        {"id": event_id, "at": at, "channel": channel, "author": author, "text": text, **fields}
    )
