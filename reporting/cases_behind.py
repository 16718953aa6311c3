"""The cases behind a figure: the cases any cell of a dashboard counts, from its selection."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import models
from django.db.models import ExpressionWrapper, F, QuerySet

from cases.models import Case
from reporting.agents import AGENT_MEASURES, activity, holding_cases
from reporting.backlog import (
    AGE_LABELS,
    BACKLOG_STATUSES,
    _age_bucket,
    backlog_cases,
    resolved_events,
)
from reporting.figures import (
    NO_TEAM,
    STATUS_LABELS,
    BadSelection,
    Filters,
    channel_label,
    opened_cases,
)
from reporting.service_levels import NO_POLICY, SLA_TARGETS, sla_cases


@dataclass
class CasesBehind:
    """The cases one figure counts: their description, and the cases; for a time figure,
    each annotated with its time as ``measure`` (a timedelta)."""

    title: str
    cases: QuerySet[Case]
    measure: str = ""


def _cases(ids: QuerySet) -> QuerySet[Case]:
    return Case.objects.filter(pk__in=ids)


def _with_times(cases: QuerySet[Case], until: str) -> QuerySet[Case]:
    """The cases, each with the time from its opening to the roll-up's ``until`` as
    ``measure``."""
    return cases.annotate(
        measure=ExpressionWrapper(
            F(f"rollup__{until}") - F("rollup__opened_at"), output_field=models.DurationField()
        )
    )


def _day(selection: Mapping[str, str]) -> date:
    try:
        return date.fromisoformat(selection["day"])
    except (KeyError, ValueError):
        raise BadSelection(f"Not a day: {selection.get('day')!r}.") from None


def _int(selection: Mapping[str, str], name: str) -> int:
    try:
        return int(selection[name])
    except (KeyError, ValueError):
        raise BadSelection(f"Not a number: {name}={selection.get(name)!r}.") from None


def cases_behind(filters: Filters, selection: Mapping[str, str]) -> CasesBehind:
    """The cases a table cell counts, from the cell's ``selection``. A ``team`` in the
    selection stands in for the filters' team; a ``day``, for their range. Raises
    ``BadSelection``."""
    figure = selection.get("figure", "")
    if "team" in selection:
        team = selection["team"]
        if team and team != NO_TEAM and not team.isdigit():
            raise BadSelection(f"Not a team: {team!r}.")
        filters = Filters(filters.start, filters.end, team)
    if "day" in selection:
        day = _day(selection)
        filters = Filters(day, day, filters.team)
    if figure == "backlog":
        return _backlog_behind(filters, selection)
    if figure == "opened":
        return CasesBehind("Opened", _cases(opened_cases(filters).values("case_id")))
    if figure == "resolved":
        return CasesBehind("Resolved", _cases(resolved_events(filters).values("case_id")))
    if figure in ("cohort", "first-response", "resolution"):
        return _times_behind(filters, figure, selection)
    if figure in ("sla", "sla-breached"):
        return _sla_behind(filters, figure, selection)
    if figure == "holding":
        return CasesBehind(
            "Holding now", holding_cases(filters).filter(assignee_id=_int(selection, "agent"))
        )
    measure = next((m for m in AGENT_MEASURES if m.figure == figure), None)
    if measure is not None:
        rows = activity(filters, measure.figure).filter(agent_id=_int(selection, "agent"))
        return CasesBehind(measure.title, _cases(rows.values("case_id")))
    raise BadSelection(f"No figure {figure!r}.")


def _backlog_behind(filters: Filters, selection: Mapping[str, str]) -> CasesBehind:
    cases = backlog_cases(filters)
    title = "Backlog"
    if "status" in selection:
        if selection["status"] not in BACKLOG_STATUSES:
            raise BadSelection(f"Not a backlog status: {selection['status']!r}.")
        cases = cases.filter(status=selection["status"])
        title = f"Backlog: {STATUS_LABELS[selection['status']].lower()}"
    if "channel" in selection:
        channel = selection["channel"]
        cases = cases.filter(first_channel=channel or None)
        title = f"Backlog: {channel_label(channel)}"
    if "age" in selection:
        try:
            now = datetime.fromisoformat(selection["now"])
        except (KeyError, ValueError):
            raise BadSelection("An age needs the moment it was measured at.") from None
        if selection["age"] not in AGE_LABELS:
            raise BadSelection(f"Not an age: {selection['age']!r}.")
        cases = cases.annotate(age=_age_bucket(now)).filter(age=selection["age"])
        title = f"Backlog: {AGE_LABELS[selection['age']].lower()} old"
    return CasesBehind(title, cases)


def _sla_behind(filters: Filters, figure: str, selection: Mapping[str, str]) -> CasesBehind:
    policy = selection.get("policy", "")
    rows = sla_cases(filters)
    if policy == NO_POLICY:
        rows = rows.filter(policy__isnull=True)
    else:
        rows = rows.filter(policy=_int(selection, "policy"))
    title = "Opened under the policy"
    if figure == "sla-breached":
        target = next((t for t in SLA_TARGETS if t[0].value == selection.get("target")), None)
        if target is None:
            raise BadSelection(f"Not an SLA target: {selection.get('target')!r}.")
        rows = rows.filter(**{target[0].value: True}, **({"answered": True} if target[3] else {}))
        title = f"{target[1]} target missed"
    return CasesBehind(title, _cases(rows.values("case_id")))


def _times_behind(filters: Filters, figure: str, selection: Mapping[str, str]) -> CasesBehind:
    """The cases of the cohort (``response_times.cohort``) a time figure counts, selected on
    the case rows joined to their roll-ups, so that the list, longest first, reads its page
    from the roll-ups' index of that time (``caserollup_reply_time``,
    ``caserollup_resolution_time``) instead of sorting every case of the range."""
    rows: dict[str, Any] = {
        "rollup__opened_at__gte": filters.since,
        "rollup__opened_at__lt": filters.until,
    }
    if "channel" in selection:
        rows["rollup__first_channel"] = selection["channel"] or None
    if figure == "first-response":
        rows["rollup__first_reply_at__isnull"] = False
    elif figure == "resolution":
        rows["rollup__first_resolved_at__isnull"] = False
    cases = Case.objects.filter(filters.counted_q(), **rows)
    if figure == "first-response":
        return CasesBehind(
            "First response", _with_times(cases, "first_reply_at"), "First response"
        )
    if figure == "resolution":
        return CasesBehind("Resolution", _with_times(cases, "first_resolved_at"), "Resolution")
    return CasesBehind("Opened", cases)
