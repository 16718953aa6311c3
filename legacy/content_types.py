"""Moving content types with their models, for the migrations that end the old apps: the
permissions given to users and groups, and the admin's log, point at content types."""

from django.db import migrations


def moving(old_label: str, moved: dict[str, str]) -> migrations.RunPython:
    """An operation that moves the content types of ``moved`` (model name: new app label)
    from ``old_label`` to their new apps, and back when unapplied."""

    def move(apps, schema_editor, *, forwards: bool = True) -> None:
        content_type = apps.get_model("contenttypes", "ContentType")
        for model, new_label in moved.items():
            source, target = (old_label, new_label) if forwards else (new_label, old_label)
            # A content type the new app made already (a database migrated back and forth)
            # wins.
            if not content_type.objects.filter(app_label=target, model=model).exists():
                content_type.objects.filter(app_label=source, model=model).update(app_label=target)

    def move_back(apps, schema_editor) -> None:
        move(apps, schema_editor, forwards=False)

    return migrations.RunPython(move, move_back)
