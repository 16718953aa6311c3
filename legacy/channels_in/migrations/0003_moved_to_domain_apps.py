"""The former ``channels_in`` app's models now belong to the domain apps. Their content types move
with them, so permissions given to users and groups, and the admin's log, stay attached."""

from django.db import migrations

MOVED = {'channelaccount': 'channels', 'quarantinedpayload': 'intake'}


def _move(apps, old_label, *, forwards):
    content_type = apps.get_model("contenttypes", "ContentType")
    for model, new_label in MOVED.items():
        source, target = (old_label, new_label) if forwards else (new_label, old_label)
        # A content type the new app made already (a database migrated back and forth) wins.
        if not content_type.objects.filter(app_label=target, model=model).exists():
            content_type.objects.filter(app_label=source, model=model).update(app_label=target)


def move_content_types(apps, schema_editor):
    _move(apps, "channels_in", forwards=True)


def move_content_types_back(apps, schema_editor):
    _move(apps, "channels_in", forwards=False)


class Migration(migrations.Migration):

    dependencies = [
        ('channels_in', '0002_poll_failures'),
        ('tickets', '0013_moved_to_domain_apps'),
    ]

    # The models moved to the channels and intake apps; only the state changes.
    state_operations = [
        migrations.RemoveConstraint(
            model_name='channelaccount',
            name='channelaccount_unique_platform_name',
        ),
        migrations.RemoveConstraint(
            model_name='quarantinedpayload',
            name='quarantinedpayload_unique_source_sha256',
        ),
        migrations.RemoveField(
            model_name='quarantinedpayload',
            name='channel_account',
        ),
        migrations.DeleteModel(
            name='ChannelAccount',
        ),
        migrations.DeleteModel(
            name='QuarantinedPayload',
        ),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=state_operations),
        migrations.RunPython(move_content_types, move_content_types_back),
    ]
