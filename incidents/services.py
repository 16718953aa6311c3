"""What supervisors do with an incident: confirm or dismiss a proposed one, add or remove a
case's messages, merge two. Each is its own transaction and locks the incidents it changes,
in id order."""

from django.db import transaction
from django.db.models import Max, Min
from django.utils import timezone

from cases.models import Case, Message
from incidents.models import Incident, IncidentMessage


class IncidentRefused(ValueError):
    """A change the incident's state does not allow; the message says what to do instead."""


def confirm_incident(*, incident_id: int) -> Incident:
    """Make a proposed incident open. ``IncidentRefused`` unless it is proposed."""
    with transaction.atomic():
        incident = _locked(incident_id)
        _require_proposed(incident, "confirmed")
        incident.status = Incident.Status.OPEN
        incident.save(update_fields=["status"])
    return incident


def dismiss_incident(*, incident_id: int) -> Incident:
    """Mark a proposed incident as none. Its messages stay linked to it, so detection does not
    propose them again. ``IncidentRefused`` unless it is proposed."""
    with transaction.atomic():
        incident = _locked(incident_id)
        _require_proposed(incident, "dismissed")
        incident.status = Incident.Status.DISMISSED
        incident.save(update_fields=["status"])
    return incident


def add_case(*, incident_id: int, case_id: int) -> int:
    """Link the customer messages of case ``case_id`` (not spam, in no incident yet) to the
    incident; returns how many. ``IncidentRefused`` for an incident that is not live, a case
    that does not exist, or one with no such message."""
    with transaction.atomic():
        incident = _locked(incident_id)
        _require_live(incident)
        if not Case.objects.filter(pk=case_id).exists():
            raise IncidentRefused(f"There is no case {case_id}; check the case number.")
        free = list(
            Message.objects.filter(
                case_id=case_id,
                direction=Message.Direction.INBOUND,
                spam_reason="",
                incident_link__isnull=True,
            ).values_list("pk", flat=True)
        )
        if not free:
            raise IncidentRefused(
                f"Case {case_id} has no customer message outside an incident to add; "
                "remove it from its other incident first."
            )
        now = timezone.now()
        IncidentMessage.objects.bulk_create(
            [IncidentMessage(incident=incident, message_id=pk, added_at=now) for pk in free]
        )
        _refresh_times(incident)
    return len(free)


def remove_case(*, incident_id: int, case_id: int) -> int:
    """Unlink case ``case_id``'s messages from the incident; returns how many. Safe to
    repeat."""
    with transaction.atomic():
        incident = _locked(incident_id)
        removed, _ = IncidentMessage.objects.filter(
            incident=incident, message__case_id=case_id
        ).delete()
        if removed:
            _refresh_times(incident)
    return removed


def merge_incidents(*, incident_id: int, other_id: int) -> Incident:
    """Move every message of incident ``other_id`` into incident ``incident_id`` and mark the
    other merged into it. The kept incident is open if either was. ``IncidentRefused`` for an
    incident merged into itself or one that is not live."""
    if incident_id == other_id:
        raise IncidentRefused(f"Incident {incident_id} cannot be merged into itself.")
    with transaction.atomic():
        locked = {
            incident.pk: incident
            for incident in Incident.objects.select_for_update()
            .filter(pk__in=[incident_id, other_id])
            .order_by("pk")
        }
        for pk in (incident_id, other_id):
            if pk not in locked:
                raise IncidentRefused(f"There is no incident {pk}; check its number.")
            _require_live(locked[pk])
        kept, other = locked[incident_id], locked[other_id]
        IncidentMessage.objects.filter(incident=other).update(incident=kept)
        if Incident.Status.OPEN in (kept.status, other.status):
            kept.status = Incident.Status.OPEN
        kept.places = [*kept.places, *(p for p in other.places if p not in kept.places)]
        kept.save(update_fields=["status", "places"])
        _refresh_times(kept)
        other.status = Incident.Status.MERGED
        other.merged_into = kept
        other.save(update_fields=["status", "merged_into"])
    return kept


LIVE = (Incident.Status.PROPOSED, Incident.Status.OPEN)


def _locked(incident_id: int) -> Incident:
    try:
        return Incident.objects.select_for_update().get(pk=incident_id)
    except Incident.DoesNotExist:
        raise IncidentRefused(f"There is no incident {incident_id}; check its number.") from None


def _require_proposed(incident: Incident, change: str) -> None:
    if incident.status != Incident.Status.PROPOSED:
        raise IncidentRefused(
            f"Incident {incident.pk} is {incident.get_status_display().lower()}; "
            f"only a proposed incident can be {change}."
        )


def _require_live(incident: Incident) -> None:
    if incident.status not in LIVE:
        raise IncidentRefused(
            f"Incident {incident.pk} is {incident.get_status_display().lower()}; "
            "only a proposed or open incident can change its cases."
        )


def _refresh_times(incident: Incident) -> None:
    """Set the incident's first and last message times from its linked messages (kept as
    they were when it has none left)."""
    span = incident.links.aggregate(first=Min("message__sent_at"), last=Max("message__sent_at"))
    if span["first"] is None:
        return
    incident.first_message_at, incident.last_message_at = span["first"], span["last"]
    incident.save(update_fields=["first_message_at", "last_message_at"])
