"""Reads of the service-level configuration."""

from django.db.models import Q

from sla.models import SLAPolicy


def policy_for(*, team_id: int | None, priority: str) -> SLAPolicy | None:
    """The most specific policy for a case of this team and priority (one query)."""
    candidates = SLAPolicy.objects.filter(
        Q(team__isnull=True) | Q(team=team_id), priority__in=["", priority]
    ).select_related("calendar")
    return min(candidates, key=lambda p: (p.team_id is None, p.priority == ""), default=None)
