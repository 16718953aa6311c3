import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('tickets', '0012_inbox_mine_index'),
        ('channels_in', '0002_poll_failures'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    # The tables exist already: the migrations of the apps in legacy/ created them.
    state_operations = [
        migrations.CreateModel(
            name='Team',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=100, unique=True)),
                ('auto_assign', models.BooleanField(default=False, help_text="Give new cases to the team's online agents in turn, up to each one's capacity.")),
            ],
            options={
                'db_table': 'tickets_team',
            },
        ),
        migrations.CreateModel(
            name='AgentProfile',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('display_name', models.CharField(max_length=100)),
                ('signature', models.CharField(blank=True, max_length=20)),
                ('sign_off', models.TextField(blank=True)),
                ('max_active_cases', models.PositiveSmallIntegerField(default=8, help_text='Auto-assignment gives no more cases once this many are held.')),
                ('assignment_paused', models.BooleanField(default=False, help_text='Paused agents get no cases automatically; claiming still works.')),
                ('last_seen_at', models.DateTimeField(blank=True, null=True)),
                ('assignment_turn', models.PositiveBigIntegerField(default=0, editable=False)),
                ('user', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='agent_profile', to=settings.AUTH_USER_MODEL)),
                ('teams', models.ManyToManyField(blank=True, db_table='tickets_agentprofile_teams', related_name='agents', to='staff.team')),
            ],
            options={
                'db_table': 'tickets_agentprofile',
            },
        ),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=state_operations),
    ]
