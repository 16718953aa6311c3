"""What every dashboard shares: the filters, the tables, and the rules of every figure.

Every figure over time is computed from the case history (``CaseEvent``), the single source of
truth, or from its per-case roll-up (``CaseRollup``: each case's opening, channel, first reply,
first resolution and breaches, which each event's transaction keeps in step, and a copy of its
case row's team, priority and policy, which a trigger on the case table keeps); the backlog
"now" reads the case rows, whose channel each event's transaction keeps in step too. The rules
every figure shares:

- A case counts unless it is marked spam or was folded into another by a merge.
- A case's channel is the channel of its earliest customer message; its team is its current
  team; the team filter selects by it.
- Days are calendar days in the current time zone; durations are wall-clock time from the
  case's creation (its ``created`` event).
- Each cell of a table carries a ``Selection``: the query, understood by ``cases_behind``, for
  exactly the cases the cell counts, so a figure and its list of cases always agree.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from cases import visibility
from cases.models import Case, CaseEvent, CaseRollup
from channels.kinds import label_of

DEFAULT_DAYS = 30
MAX_DAYS = 366
NO_TEAM = "none"
STATUS_LABELS = dict(Case.Status.choices)

Selection = dict[str, str]


class BadSelection(ValueError):
    """A cases-behind query names no figure, or a value the figure does not have."""


# Filters.


@dataclass(frozen=True)
class Filters:
    """The date range (whole days, both ends included) and the team a dashboard shows."""

    start: date
    end: date
    # "" for every team, NO_TEAM for cases without one, else a team id.
    team: str = ""
    # The user whose visible cases (cases.visibility) are counted; None for every case.
    viewer: int | None = None

    @classmethod
    def default(cls, *, today: date | None = None, team: str = "") -> "Filters":
        end = today or timezone.localdate()
        return cls(start=end - timedelta(days=DEFAULT_DAYS - 1), end=end, team=team)

    @property
    def since(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.start, time.min))

    @property
    def until(self) -> datetime:
        """The first moment after the range."""
        return timezone.make_aware(datetime.combine(self.end + timedelta(days=1), time.min))

    def days(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range((self.end - self.start).days + 1)]

    def query(self) -> dict[str, str]:
        """The filters as query parameters."""
        params = {"start": self.start.isoformat(), "end": self.end.isoformat()}
        if self.team:
            params["team"] = self.team
        return params

    def team_q(self, prefix: str = "") -> Q:
        if not self.team:
            return Q()
        if self.team == NO_TEAM:
            return Q(**{f"{prefix}team__isnull": True})
        return Q(**{f"{prefix}team_id": int(self.team)})

    def counted_q(self, prefix: str = "") -> Q:
        """The cases every figure counts, within the team filter and what the viewer sees."""
        q = Q(**{f"{prefix}spam": False, f"{prefix}merged_into__isnull": True}) & self.team_q(
            prefix
        )
        return q if self.viewer is None else q & visibility.visible_to(self.viewer, prefix)

    def counted_rows_q(self) -> Q:
        """On rows of a model with a ``case`` (its history, its roll-ups): the rows of the
        cases ``counted_q`` counts. Without a team or a viewer to look up, the rows of the few
        cases left out (spam, folded) are dropped by id, read from the short index of those
        (``case_not_counted``), rather than joining every case."""
        if self.team or self.viewer is not None:
            return self.counted_q("case__")
        left_out = Case.objects.filter(Q(spam=True) | Q(merged_into__isnull=False))
        return ~Q(case_id__in=left_out.values("pk"))

    def events(self, *kinds: str) -> QuerySet[CaseEvent]:
        """Events of these kinds in the range, on counted cases."""
        return CaseEvent.objects.filter(
            self.counted_rows_q(),
            kind__in=kinds,
            occurred_at__gte=self.since,
            occurred_at__lt=self.until,
        )


# Tables: what a dashboard shows, what its CSV holds, and the cases behind each cell.


@dataclass(frozen=True)
class Column:
    title: str
    # "text", "count", "duration" (seconds), "percent" or "time" (an aware datetime).
    kind: str = "text"


@dataclass(frozen=True)
class Cell:
    value: Any
    selection: Selection | None = None
    # Shown instead of the value where it reads better (a name for an id, say).
    text: str | None = None
    # Where the cell leads when it is not a set of cases (a single case, say).
    case_id: int | None = None
    # The inbox query showing the same cases, where the inbox can.
    inbox: dict[str, str] | None = None
    # The hand-off log query showing the hand-offs a cell counts.
    log: dict[str, str] | None = None


@dataclass
class Table:
    key: str
    title: str
    columns: list[Column]
    rows: list[list[Cell]] = field(default_factory=list)
    note: str = ""

    def column(self, title: str) -> list[Cell]:
        index = [c.title for c in self.columns].index(title)
        return [row[index] for row in self.rows]


def _count(value: int, selection: Selection) -> Cell:
    return Cell(value, selection if value else None)


# A case's channel: the channel of its earliest customer message, as its roll-up holds it
# (``CaseRollup.first_channel``) and its case row keeps it (``Case.first_channel``).


def channel_label(channel: str | None) -> str:
    return label_of(channel) if channel else "No customer message"


# The cases opened in the range: the cohort of the flow, response times and SLAs.


def opened_cases(filters: Filters) -> QuerySet[CaseRollup]:
    """The roll-ups of the counted cases opened in the range."""
    return CaseRollup.objects.filter(
        filters.counted_rows_q(), opened_at__gte=filters.since, opened_at__lt=filters.until
    )
