from django.apps import AppConfig
from django.db.models import Field, ForeignObject


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = "Cases"

    def ready(self) -> None:
        from cases.bulk import AnyOf

        # Foreign keys take their lookups from their own class, not Field's.
        for fields in (Field, ForeignObject):
            fields.register_lookup(AnyOf)
