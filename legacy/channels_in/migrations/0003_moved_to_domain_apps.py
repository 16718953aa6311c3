"""The former ``channels_in`` app's models now belong to the domain apps. Their content types move
with them, so permissions given to users and groups, and the admin's log, stay attached."""

from django.db import migrations

from legacy.content_types import moving

MOVED = {'channelaccount': 'channels', 'quarantinedpayload': 'intake'}


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
        moving("channels_in", MOVED),
    ]
