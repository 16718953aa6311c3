from django.apps import AppConfig
from django.db.models.signals import post_migrate


class TicketsConfig(AppConfig):
    name = "tickets"

    def ready(self) -> None:
        from tickets.roles import ensure_roles

        # After auth's own handler has created this app's permissions.
        post_migrate.connect(ensure_roles, sender=self)
