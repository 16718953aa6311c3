import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('tickets', '0012_inbox_mine_index'),
        ('channels_in', '0002_poll_failures'),
        ('channels', '0001_initial'),
    ]

    # The tables exist already: the migrations of the apps in legacy/ created them.
    state_operations = [
        migrations.CreateModel(
            name='QuarantinedPayload',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('source', models.CharField(max_length=32)),
                ('raw_payload', models.BinaryField()),
                ('sha256', models.CharField(max_length=64)),
                ('error', models.TextField()),
                ('status', models.CharField(choices=[('pending', 'Waiting for a decision'), ('ingested', 'Ingested on retry'), ('discarded', 'Discarded')], default='pending', max_length=16)),
                ('first_seen_at', models.DateTimeField(auto_now_add=True)),
                ('last_seen_at', models.DateTimeField(auto_now=True)),
                ('attempts', models.PositiveIntegerField(default=1)),
                ('channel_account', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='quarantined_payloads', to='channels.channelaccount')),
            ],
            options={
                'db_table': 'channels_in_quarantinedpayload',
                'constraints': [models.UniqueConstraint(fields=('source', 'sha256'), name='quarantinedpayload_unique_source_sha256')],
            },
        ),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=state_operations),
    ]
