"""``{% incident_actions incident as actions %}``: what the incident page's actions panel
shows, so the panel can be included wherever an incident is in the context."""

from django import template

from casework.incident_updates import IncidentActions
from casework.incident_updates import incident_actions as read_actions
from incidents.models import Incident

register = template.Library()


@register.simple_tag
def incident_actions(incident: Incident) -> IncidentActions:
    return read_actions(incident)
