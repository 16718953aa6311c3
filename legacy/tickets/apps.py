from django.apps import AppConfig


class TicketsConfig(AppConfig):
    """The migrations of the former ``tickets`` app (cases, customers, staff, SLA, routing)."""

    name = "legacy.tickets"
    label = "tickets"
    verbose_name = "Tickets (before the re-layout)"
