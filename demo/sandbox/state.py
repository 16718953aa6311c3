"""What the sandbox knows: the customer events it replays, what the brand sent, and faults."""

import itertools
import json
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class SandboxEvent:
    """One customer event of the sample format, without its ``truth`` labels."""

    seq: int  # position in time order, from 1
    data: dict[str, Any]
    at: datetime

    @property
    def id(self) -> str:
        return self.data["id"]

    @property
    def channel(self) -> str:
        return self.data["channel"]

    @property
    def platform(self) -> str:
        return self.channel.split(".")[0]


@dataclass
class Fault:
    """An injected failure for the next ``count`` requests to ``platform``'s API.

    Kinds: ``rate_limit`` (429 with reset headers), ``server_error`` (500), ``timeout``
    (answers only after ``seconds``), ``lost_answer`` (does what was asked, then answers only
    after ``seconds``: the client gives up although the platform accepted), ``malformed``
    (200 with broken JSON), ``duplicate`` (pages repeat items already served) and
    ``out_of_order`` (items of a page reversed).

    The mail servers are the platforms ``imap`` and ``smtp``, and each request is one IMAP
    command or one mail submitted. Kinds: ``disconnect`` (the connection drops), ``timeout``
    (nothing, then the connection drops after ``seconds``) and, for SMTP, ``temporary_failure``
    (a 451 answer) and ``permanent_failure`` (a 554 answer).
    """

    platform: str
    kind: str
    count: int = 1
    seconds: float = 0.0
    after: int = 0  # requests to let through before the fault strikes


FAULT_KINDS = {
    "rate_limit",
    "server_error",
    "timeout",
    "lost_answer",
    "malformed",
    "duplicate",
    "out_of_order",
    "disconnect",
    "temporary_failure",
    "permanent_failure",
}
# Faults the server core applies to any platform route; the others each route applies itself.
CORE_FAULTS = {"rate_limit", "server_error", "timeout", "lost_answer", "malformed"}


@dataclass
class Outbound:
    """Something the brand posted, sent or mailed through the sandbox."""

    id: str
    platform: str
    kind: str  # e.g. "x.tweet", "x.dm", "facebook.comment", "facebook.message", "email"
    payload: dict[str, Any]
    at: float = field(default_factory=time.time)


class SandboxState:
    """Thread-safe state shared by every request the sandbox serves."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.events: list[SandboxEvent] = []
        self.outbox: list[Outbound] = []
        self.faults: list[Fault] = []
        self.page_size = 20
        self.speed = 0.0
        self._started = time.monotonic()
        self._ids = itertools.count(1)

    def load(
        self,
        lines: Iterable[bytes | str],
        *,
        speed: float = 0.0,
        rebase_to: datetime | None = None,
        replay: str = "",
    ) -> int:
        """Add sample events and restart the replay clock at the earliest of them.

        ``speed`` 0 shows every event at once; a positive speed replays them that many times
        faster than they happened. ``rebase_to`` moves the events so the last one happens at
        that time: every one is in the past and the latest are recent, so ages read true and
        the platforms' reply windows (a day on Messenger) are open for them. ``replay`` names
        this loading: it is added to every event id (and to the ids events reply to), so the
        same traffic loaded again reaches the platforms as new posts, messages and mails.
        Returns how many were added.
        """
        loaded = []
        for line in lines:
            if not line.strip():
                continue
            data = json.loads(line)
            data.pop("truth", None)
            if replay:
                data["id"] = f"{data['id']}-{replay}"
                if data.get("reply_to"):
                    data["reply_to"] = f"{data['reply_to']}-{replay}"
            loaded.append(data)
        if rebase_to is not None and loaded:
            last = max(datetime.fromisoformat(d["at"]) for d in loaded)
            offset = rebase_to - last
            for data in loaded:
                shifted = datetime.fromisoformat(data["at"]) + offset
                data["at"] = shifted.isoformat().replace("+00:00", "Z")
        with self.lock:
            known = {e.id for e in self.events}
            merged = [e.data for e in self.events] + [d for d in loaded if d["id"] not in known]
            merged.sort(key=lambda d: (datetime.fromisoformat(d["at"]), d["id"]))
            self.events = [
                SandboxEvent(seq=i, data=d, at=datetime.fromisoformat(d["at"]))
                for i, d in enumerate(merged, start=1)
            ]
            self.speed = speed
            self._started = time.monotonic()
            return len(merged) - len(known)

    def visible_events(self, platform: str) -> list[SandboxEvent]:
        """The platform's events that have happened on the replay clock, oldest first."""
        with self.lock:
            events = [e for e in self.events if e.platform == platform]
            if self.speed <= 0 or not self.events:
                return events
            elapsed = (time.monotonic() - self._started) * self.speed
            first = self.events[0].at
            return [e for e in events if (e.at - first).total_seconds() <= elapsed]

    def event(self, sample_id: str) -> SandboxEvent | None:
        with self.lock:
            return next((e for e in self.events if e.id == sample_id), None)

    def record(self, *, platform: str, kind: str, payload: dict[str, Any]) -> Outbound:
        with self.lock:
            item = Outbound(id=str(next(self._ids)), platform=platform, kind=kind, payload=payload)
            self.outbox.append(item)
            return item

    def sent(self, platform: str | None = None) -> list[Outbound]:
        with self.lock:
            return [o for o in self.outbox if platform is None or o.platform == platform]

    def add_fault(self, fault: Fault) -> None:
        if fault.kind not in FAULT_KINDS:
            raise ValueError(f"Unknown fault {fault.kind!r}; one of {sorted(FAULT_KINDS)}.")
        with self.lock:
            self.faults.append(fault)

    def take_fault(self, platform: str, kinds: set[str] = FAULT_KINDS) -> Fault | None:
        """Consume one use of the first pending fault of these kinds for the platform."""
        with self.lock:
            for fault in self.faults:
                if fault.platform == platform and fault.kind in kinds:
                    if fault.after > 0:
                        fault.after -= 1
                        return None
                    fault.count -= 1
                    if fault.count <= 0:
                        self.faults.remove(fault)
                    return fault
            return None
