from django.apps import AppConfig
from django.db.models.signals import post_migrate


class StaffConfig(AppConfig):
    name = "staff"
    verbose_name = "Staff"

    def ready(self) -> None:
        from staff.roles import ensure_roles

        # Every app's permissions exist by the time the last app has migrated.
        post_migrate.connect(ensure_roles, sender=self)
