"""The service levels dashboard: per SLA policy, the cases opened in the range that missed
each target, and the share that met it."""

from typing import Any

from django.db.models import (
    BooleanField,
    Count,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce

from cases.models import SLABreach
from reporting.figures import Cell, Column, Filters, Table, _count, opened_cases
from sla.models import SLAPolicy

NO_POLICY = "none"

SLA_TARGETS = [
    # (breach target, column title, the policy's field, whether only answered cases count)
    (SLABreach.Target.FIRST_RESPONSE, "First response", "first_response_minutes", False),
    (SLABreach.Target.NEXT_RESPONSE, "Next response", "next_response_minutes", True),
    (SLABreach.Target.RESOLUTION, "Resolution", "resolution_minutes", False),
]


def _case_policy() -> Coalesce:
    """The policy of the case of a roll-up: the one its clocks follow; for a closed
    case, whose policy is cleared with its clocks, the one its team and priority choose by
    the rule of ``cases.clocks.policy_for`` (team and priority, team, priority, every case).
    Read from the roll-up's copy of the case's policy, team and priority."""
    chosen = SLAPolicy.objects.filter(
        Q(team__isnull=True) | Q(team=OuterRef("team_id")),
        Q(priority="") | Q(priority=OuterRef("priority")),
    ).order_by(F("team_id").asc(nulls_last=True), "-priority")
    return Coalesce("sla_policy_id", Subquery(chosen.values("pk")[:1]))


def sla_cases(filters: Filters) -> QuerySet[Any, Any]:
    """The counted cases opened in the range, each with its ``policy`` (id or ``None``),
    whether it was ``answered``, and whether each target was breached (``<target>``)."""
    return _measured(filters).annotate(policy=_case_policy())


def _measured(filters: Filters) -> QuerySet[Any, Any]:
    """The counted cases opened in the range, each with whether it was ``answered`` and
    whether each target was breached (``<target>``)."""
    return opened_cases(filters).annotate(
        answered=ExpressionWrapper(Q(first_reply_at__isnull=False), output_field=BooleanField()),
        **{target.value: F(f"{target.value}_breached") for target, _, _, _ in SLA_TARGETS},
    )


def _policy_of(policies: list[SLAPolicy], team: int | None, priority: str) -> int | None:
    """``_case_policy``'s rule for a case without its own policy, over the policies read
    once: the first of team and priority, team, priority, every case."""
    for policy in policies:
        if policy.team_id in (None, team) and policy.priority in ("", priority):
            return policy.pk
    return None


def sla_attainment(filters: Filters) -> Table:
    """Per SLA policy, of the cases opened in the range: how many missed each target (the
    breach check recorded a breach) and the share that met it. The cases are counted per
    own policy, team and priority (their roll-ups' copy) in one statement, and each of those
    few groups given its policy by ``_case_policy``'s rule here, rather than looking it up for
    every case."""
    counts = {
        "cases": Count("pk"),
        "answered_cases": Count("pk", filter=Q(answered=True)),
        **{
            f"{target.value}_breached": Count(
                "pk", filter=Q(**{target.value: True}, **({"answered": True} if answered else {}))
            )
            for target, _, _, answered in SLA_TARGETS
        },
    }
    groups: QuerySet[Any, Any] = (
        _measured(filters)
        .values("sla_policy_id", "team_id", "priority")
        .annotate(**counts)
        .order_by()
    )
    chosen = list(SLAPolicy.objects.order_by(F("team_id").asc(nulls_last=True), "-priority"))
    found: dict[int | None, dict[str, int]] = {}
    for group in groups:
        policy = group["sla_policy_id"] or _policy_of(chosen, group["team_id"], group["priority"])
        total = found.setdefault(policy, dict.fromkeys(counts, 0))
        for name in counts:
            total[name] += group[name]
    policies = {p.pk: p for p in chosen if p.pk in found}
    ordered = sorted(policies.values(), key=lambda p: p.name.lower())
    rows = []
    for policy in [*ordered, None]:
        group = found.get(policy.pk if policy else None)
        if group is None:
            continue
        key = {"policy": str(policy.pk) if policy else NO_POLICY}
        row = [
            Cell(policy.name if policy else "No policy"),
            _count(group["cases"], {"figure": "sla", **key}),
        ]
        for target, _, field_name, answered in SLA_TARGETS:
            of = group["answered_cases"] if answered else group["cases"]
            breached = group[f"{target.value}_breached"]
            has_target = policy is not None and getattr(policy, field_name) is not None
            row += [
                _count(breached, {"figure": "sla-breached", "target": target.value, **key}),
                Cell(100 * (of - breached) / of if has_target and of else None),
            ]
        rows.append(row)
    columns = [Column("Policy"), Column("Cases", "count")]
    for _, title, _, _ in SLA_TARGETS:
        columns += [Column(f"{title} missed", "count"), Column(f"{title} met", "percent")]
    return Table(
        "sla",
        "SLA attainment per policy",
        columns,
        rows,
        note=(
            "Cases opened in the range, by the policy they follow. Missed: the breach check "
            "recorded a breach of that target. Met: the share of the cases (for the next "
            "response, of the answered cases) without one, including cases whose clock still "
            "runs."
        ),
    )
