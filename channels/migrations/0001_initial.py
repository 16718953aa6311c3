from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('tickets', '0012_inbox_mine_index'),
        ('channels_in', '0002_poll_failures'),
    ]

    # The tables exist already: the migrations of the apps in legacy/ created them.
    state_operations = [
        migrations.CreateModel(
            name='ChannelAccount',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('platform', models.CharField(choices=[('x', 'X'), ('facebook', 'Facebook'), ('email', 'Email')], max_length=16)),
                ('name', models.CharField(max_length=200)),
                ('settings', models.JSONField(blank=True, default=dict)),
                ('credentials', models.JSONField(blank=True, default=dict)),
                ('poll_cursors', models.JSONField(blank=True, default=dict)),
                ('enabled', models.BooleanField(default=True)),
                ('poll_interval_seconds', models.PositiveIntegerField(default=60)),
                ('last_polled_at', models.DateTimeField(blank=True, null=True)),
                ('last_success_at', models.DateTimeField(blank=True, null=True)),
                ('last_error', models.TextField(blank=True)),
                ('poll_failures', models.PositiveIntegerField(default=0)),
                ('backoff_until', models.DateTimeField(blank=True, null=True)),
            ],
            options={
                'db_table': 'channels_in_channelaccount',
                'constraints': [models.UniqueConstraint(fields=('platform', 'name'), name='channelaccount_unique_platform_name')],
            },
        ),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=state_operations),
    ]
