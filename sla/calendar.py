"""Business-hours arithmetic: pure functions of aware datetimes and a calendar's hours; results
are in UTC. ``None`` hours mean around the clock."""

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sla.models import BusinessCalendar

# An open calendar is searched this far ahead; a calendar closed for longer is a mistake.
SEARCH_DAYS = 3 * 366


@dataclass(frozen=True)
class Hours:
    """A calendar as the arithmetic needs it: local opening periods by weekday (Monday is 0;
    a period closing at or before it opens ends the next day) and closed local dates."""

    zone: ZoneInfo
    periods: Mapping[int, Sequence[tuple[time, time]]]
    holidays: frozenset[date] = frozenset()
    # Each local day's open pieces (``_day_pieces``), worked out once: the due times of a
    # batch's cases walk the same few days.
    pieces: dict[date, list[tuple[datetime, datetime]]] = field(
        default_factory=dict, compare=False, repr=False
    )


def hours_of(calendar: BusinessCalendar) -> Hours:
    """Load a calendar's hours and holidays (two queries)."""
    periods: dict[int, list[tuple[time, time]]] = {}
    for weekday, opens, closes in calendar.hours.values_list("weekday", "opens", "closes"):
        periods.setdefault(weekday, []).append((opens, closes))
    return Hours(
        zone=ZoneInfo(calendar.time_zone),
        periods=periods,
        holidays=frozenset(calendar.holidays.values_list("date", flat=True)),
    )


def _local(day: date, at: time, zone: ZoneInfo) -> datetime:
    # A local time skipped by a DST change is read with the offset before the change.
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def _day_pieces(hours: Hours, day: date) -> list[tuple[datetime, datetime]]:
    """The periods opening on local ``day``, split at local midnight, without holidays."""
    pieces = hours.pieces.get(day)
    if pieces is None:
        pieces = hours.pieces[day] = _pieces_of(hours, day)
    return pieces


def _pieces_of(hours: Hours, day: date) -> list[tuple[datetime, datetime]]:
    pieces = []
    for opens, closes in hours.periods.get(day.weekday(), ()):
        ends_on = day if closes > opens else day + timedelta(days=1)
        begin, end = _local(day, opens, hours.zone), _local(ends_on, closes, hours.zone)
        if ends_on != day and closes != time(0):
            midnight = _local(ends_on, time(0), hours.zone)
            parts = [(begin, midnight, day), (midnight, end, ends_on)]
        else:
            parts = [(begin, end, day)]
        pieces += [(b, e) for b, e, on in parts if on not in hours.holidays and b < e]
    return pieces


def open_periods(hours: Hours, since: datetime) -> Iterator[tuple[datetime, datetime]]:
    """The calendar's open periods that end after ``since``, in time order and without
    overlaps (periods may touch). Raises ``ValueError`` for a calendar without opening hours,
    or one closed for ``SEARCH_DAYS`` on end."""
    if not any(hours.periods.values()):
        raise ValueError("The calendar has no opening hours; add some, or use none for 24/7.")
    # The day before: a night shift that opened then may still be open.
    day = since.astimezone(hours.zone).date() - timedelta(days=1)
    pending: list[tuple[datetime, datetime]] = []
    last_end = datetime.min.replace(tzinfo=UTC)
    for _ in range(SEARCH_DAYS):
        pending = sorted(pending + _day_pieces(hours, day))
        day += timedelta(days=1)
        # Every piece of a later day starts at or after this local midnight, so the pieces
        # starting before it are final and in order.
        horizon = _local(day, time(0), hours.zone)
        while pending and pending[0][0] < horizon:
            begin, end = pending.pop(0)
            begin = max(begin, last_end)  # overlapping periods count once
            if begin < end and end > since:
                yield begin, end
            last_end = max(last_end, end)
    raise ValueError(f"The calendar is closed for {SEARCH_DAYS} days after {since}.")


def add_business_time(start: datetime, duration: timedelta, hours: Hours | None) -> datetime:
    """The moment ``duration`` of open time after ``start``; ``hours`` None is 24/7."""
    if hours is None:
        return start.astimezone(UTC) + duration
    remaining = duration
    for begin, end in open_periods(hours, start):
        begin = max(begin, start)
        if begin + remaining <= end:
            return begin + remaining
        remaining -= end - begin
    raise AssertionError("open_periods never ends without raising")  # pragma: no cover


def business_time_between(start: datetime, end: datetime, hours: Hours | None) -> timedelta:
    """Open time from ``start`` to ``end`` (zero if ``end`` is not later)."""
    if end <= start:
        return timedelta(0)
    if hours is None:
        return end - start
    total = timedelta(0)
    for begin, close in open_periods(hours, start):
        if begin >= end:
            break
        total += min(close, end) - max(begin, start)
    return total


def due_time(
    start: datetime,
    target: timedelta,
    hours: Hours | None,
    pauses: Sequence[tuple[datetime, datetime]] = (),
) -> datetime:
    """When ``target`` of open time has run from ``start``, not counting ``pauses`` (closed
    intervals in time order): each pause moves the due time by the open time it held."""
    cursor, remaining = start, target
    for paused_from, paused_until in pauses:
        if paused_until <= cursor:
            continue
        if paused_from > cursor:
            candidate = add_business_time(cursor, remaining, hours)
            if candidate <= paused_from:
                return candidate
            remaining -= business_time_between(cursor, paused_from, hours)
        cursor = max(cursor, paused_until)
    return add_business_time(cursor, remaining, hours)


# Applying policies to cases.
