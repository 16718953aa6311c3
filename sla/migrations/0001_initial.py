import django.db.models.deletion
import sla.models
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('tickets', '0012_inbox_mine_index'),
        ('channels_in', '0002_poll_failures'),
        ('staff', '0001_initial'),
    ]

    # The tables exist already: the migrations of the apps in legacy/ created them.
    state_operations = [
        migrations.CreateModel(
            name='BusinessCalendar',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=100, unique=True)),
                ('time_zone', models.CharField(default='Europe/London', max_length=64, validators=[sla.models.validate_time_zone])),
            ],
            options={
                'db_table': 'tickets_businesscalendar',
            },
        ),
        migrations.CreateModel(
            name='BusinessHours',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('weekday', models.PositiveSmallIntegerField(choices=[(0, 'Monday'), (1, 'Tuesday'), (2, 'Wednesday'), (3, 'Thursday'), (4, 'Friday'), (5, 'Saturday'), (6, 'Sunday')])),
                ('opens', models.TimeField()),
                ('closes', models.TimeField(help_text='At or before the opening time: closes the next day.')),
                ('calendar', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='hours', to='sla.businesscalendar')),
            ],
            options={
                'verbose_name_plural': 'business hours',
                'db_table': 'tickets_businesshours',
                'ordering': ['weekday', 'opens'],
                'constraints': [models.CheckConstraint(condition=models.Q(('weekday__lte', 6)), name='businesshours_weekday')],
            },
        ),
        migrations.CreateModel(
            name='Holiday',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('date', models.DateField()),
                ('name', models.CharField(blank=True, max_length=100)),
                ('calendar', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='holidays', to='sla.businesscalendar')),
            ],
            options={
                'db_table': 'tickets_holiday',
                'ordering': ['date'],
                'constraints': [models.UniqueConstraint(fields=('calendar', 'date'), name='holiday_unique_date')],
            },
        ),
        migrations.CreateModel(
            name='SLAPolicy',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=100, unique=True)),
                ('priority', models.CharField(blank=True, choices=[('low', 'Low'), ('normal', 'Normal'), ('high', 'High'), ('urgent', 'Urgent')], help_text='Empty: every priority.', max_length=16)),
                ('first_response_minutes', models.PositiveIntegerField(blank=True, null=True)),
                ('next_response_minutes', models.PositiveIntegerField(blank=True, null=True)),
                ('resolution_minutes', models.PositiveIntegerField(blank=True, null=True)),
                ('escalate_to_priority', models.CharField(blank=True, choices=[('low', 'Low'), ('normal', 'Normal'), ('high', 'High'), ('urgent', 'Urgent')], max_length=16)),
                ('calendar', models.ForeignKey(blank=True, help_text='Empty: the clock runs around the clock.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='policies', to='sla.businesscalendar')),
                ('escalate_to_team', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='staff.team')),
                ('team', models.ForeignKey(blank=True, help_text='Empty: every team, and cases without one.', null=True, on_delete=django.db.models.deletion.CASCADE, related_name='sla_policies', to='staff.team')),
            ],
            options={
                'verbose_name': 'SLA policy',
                'verbose_name_plural': 'SLA policies',
                'db_table': 'tickets_slapolicy',
                'constraints': [models.UniqueConstraint(condition=models.Q(('team__isnull', False)), fields=('team', 'priority'), name='slapolicy_unique_team_priority'), models.UniqueConstraint(condition=models.Q(('team__isnull', True)), fields=('priority',), name='slapolicy_unique_priority')],
            },
        ),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=state_operations),
    ]
