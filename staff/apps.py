from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import post_migrate


class StaffConfig(AppConfig):
    name = "staff"
    verbose_name = "Staff"

    def ready(self) -> None:
        from staff.roles import ensure_roles
        from staff.two_factor import on_sign_in

        # Every app's permissions exist by the time the last app has migrated.
        post_migrate.connect(ensure_roles, sender=self)
        user_logged_in.connect(on_sign_in, dispatch_uid="staff.two_factor")
