"""Reading a user's notifications one case at a time: the bell's panel and the notifications
page show each case once, with its newest notice and how many more there are."""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Max, Q, QuerySet

from notifications.models import Notification

# How the rest of a case's notices are summed up after "+N more".
KIND_WORDS: dict[str, str] = {
    Notification.Kind.HANDED_OFF: "hand-off to you",
    Notification.Kind.MENTIONED: "@mention",
    Notification.Kind.NEW_MESSAGE: "new message on your case",
    Notification.Kind.SLA_BREACHED: "SLA breach",
    Notification.Kind.ASSIGNED: "assigned to you",
    Notification.Kind.PRAISED: "praise",
    Notification.Kind.INCIDENT: "incident",
}


@dataclass(frozen=True)
class CaseNotifications:
    """One case's notices for one user: the newest shown in full, the rest counted."""

    newest: Notification
    count: int
    unread: int
    more: tuple[tuple[str, int], ...]  # the rest, by kind in words: ("@mention", 2)

    @property
    def more_count(self) -> int:
        return self.count - 1


def notifications_of(*, recipient_id: int, unread_only: bool = False) -> QuerySet[Notification]:
    notifications = Notification.objects.filter(recipient_id=recipient_id)
    if unread_only:
        notifications = notifications.filter(read_at__isnull=True)
    return notifications


def case_groups(notifications: QuerySet[Notification]) -> QuerySet[Notification, Any]:
    """One row per case among ``notifications``, the case with the newest notice first:
    ``case_id``, ``count``, ``unread`` and ``newest_id`` (ids grow with time)."""
    return (
        notifications.values("case_id")
        .annotate(
            count=Count("pk"),
            unread=Count("pk", filter=Q(read_at__isnull=True)),
            newest_id=Max("pk"),
        )
        .order_by("-newest_id")
    )


def describe_groups(
    *, notifications: QuerySet[Notification], groups: Sequence[dict]
) -> list[CaseNotifications]:
    """The cases of ``groups`` (rows of ``case_groups``), each with its newest notice, its case
    and customer, and the kinds of the rest: two queries, however many cases."""
    if not groups:
        return []
    newest = Notification.objects.select_related("case__customer", "actor").in_bulk(
        [group["newest_id"] for group in groups]
    )
    kinds: dict[int, dict[str, int]] = defaultdict(dict)
    rows = (
        notifications.filter(case_id__in=[group["case_id"] for group in groups])
        .values("case_id", "kind")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for row in rows:
        kinds[row["case_id"]][row["kind"]] = row["n"]
    described = []
    for group in groups:
        notification = newest[group["newest_id"]]
        rest = dict(kinds[group["case_id"]])
        rest[notification.kind] = rest.get(notification.kind, 1) - 1
        more = tuple(
            (KIND_WORDS.get(kind, kind), n)
            for kind, n in sorted(rest.items(), key=lambda item: (-item[1], item[0]))
            if n > 0
        )
        described.append(
            CaseNotifications(
                newest=notification, count=group["count"], unread=group["unread"], more=more
            )
        )
    return described


def unread_by_case(*, recipient_id: int, limit: int) -> list[CaseNotifications]:
    """The bell's panel: the ``limit`` cases with the newest unread notices for the user."""
    unread = notifications_of(recipient_id=recipient_id, unread_only=True)
    return describe_groups(notifications=unread, groups=list(case_groups(unread)[:limit]))
