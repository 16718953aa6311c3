import django.db.models.deletion
import sla.models
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('tickets', '0008_inbox_indexes'),
    ]

    operations = [
        migrations.CreateModel(
            name='BusinessCalendar',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=100, unique=True)),
                ('time_zone', models.CharField(default='Europe/London', max_length=64, validators=[sla.models.validate_time_zone])),
            ],
        ),
        migrations.CreateModel(
            name='BusinessHours',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('weekday', models.PositiveSmallIntegerField(choices=[(0, 'Monday'), (1, 'Tuesday'), (2, 'Wednesday'), (3, 'Thursday'), (4, 'Friday'), (5, 'Saturday'), (6, 'Sunday')])),
                ('opens', models.TimeField()),
                ('closes', models.TimeField(help_text='At or before the opening time: closes the next day.')),
                ('calendar', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='hours', to='tickets.businesscalendar')),
            ],
            options={
                'verbose_name_plural': 'business hours',
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
                ('calendar', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='holidays', to='tickets.businesscalendar')),
            ],
            options={
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
                ('calendar', models.ForeignKey(blank=True, help_text='Empty: the clock runs around the clock.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='policies', to='tickets.businesscalendar')),
                ('escalate_to_team', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='tickets.team')),
                ('team', models.ForeignKey(blank=True, help_text='Empty: every team, and cases without one.', null=True, on_delete=django.db.models.deletion.CASCADE, related_name='sla_policies', to='tickets.team')),
            ],
            options={
                'verbose_name': 'SLA policy',
                'verbose_name_plural': 'SLA policies',
                'constraints': [
                    models.UniqueConstraint(condition=models.Q(('team__isnull', False)), fields=('team', 'priority'), name='slapolicy_unique_team_priority'),
                    models.UniqueConstraint(condition=models.Q(('team__isnull', True)), fields=('priority',), name='slapolicy_unique_priority'),
                ],
            },
        ),
        migrations.CreateModel(
            name='SLABreach',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('target', models.CharField(choices=[('first_response', 'First response'), ('next_response', 'Next response'), ('resolution', 'Resolution')], max_length=16)),
                ('clock_started_at', models.DateTimeField()),
                ('due_at', models.DateTimeField()),
                ('recorded_at', models.DateTimeField(auto_now_add=True)),
                ('case', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='sla_breaches', to='tickets.case')),
                ('policy', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='breaches', to='tickets.slapolicy')),
            ],
            options={
                'verbose_name': 'SLA breach',
                'verbose_name_plural': 'SLA breaches',
                'constraints': [models.UniqueConstraint(fields=('case', 'target', 'clock_started_at'), name='slabreach_once_per_clock')],
            },
        ),
        migrations.AddField(
            model_name='case',
            name='sla_policy',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='tickets.slapolicy'),
        ),
        migrations.AddField(
            model_name='case',
            name='awaiting_reply_since',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name='notification',
            name='kind',
            field=models.CharField(choices=[('handed_off', 'Handed off to you'), ('mentioned', 'Mentioned you'), ('new_message', 'New message on your case'), ('sla_breached', 'SLA breached')], max_length=16),
        ),
    ]
