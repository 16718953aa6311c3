import django.db.models.deletion
import routing.models
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('tickets', '0012_inbox_mine_index'),
        ('channels_in', '0002_poll_failures'),
        ('channels', '0001_initial'),
        ('staff', '0001_initial'),
    ]

    # The tables exist already: the migrations of the apps in legacy/ created them.
    state_operations = [
        migrations.CreateModel(
            name='RoutingRule',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=100, unique=True)),
                ('position', models.PositiveIntegerField(default=0)),
                ('enabled', models.BooleanField(default=True)),
                ('stop_processing', models.BooleanField(default=False, help_text='When this rule matches, later rules are not looked at.')),
                ('platform', models.CharField(blank=True, choices=[('x', 'X'), ('facebook', 'Facebook'), ('email', 'Email')], max_length=16)),
                ('keywords', models.CharField(blank=True, help_text='Comma-separated words or phrases: any one of them, as whole words.', max_length=500)),
                ('pattern', models.CharField(blank=True, help_text='A Python regular expression searched in the text, ignoring case.', max_length=500, validators=[routing.models.validate_regex])),
                ('language', models.CharField(blank=True, choices=[('en', 'English'), ('fr', 'French'), ('de', 'German'), ('es', 'Spanish'), ('it', 'Italian'), ('nl', 'Dutch'), ('pt', 'Portuguese'), ('ar', 'Arabic'), ('ru', 'Russian'), ('ja', 'Japanese'), ('ko', 'Korean'), ('zh', 'Chinese')], max_length=8)),
                ('closing_thanks', models.BooleanField(default=False, help_text='The message only thanks us or says all is well, and asks nothing.')),
                ('names_store', models.BooleanField(default=False, help_text='The message names a store of the store list.')),
                ('team_from_store', models.BooleanField(default=False, help_text='Send the case to the team of the store the message names.')),
                ('set_priority', models.CharField(blank=True, choices=[('low', 'Low'), ('normal', 'Normal'), ('high', 'High'), ('urgent', 'Urgent')], max_length=16)),
                ('add_tags', models.CharField(blank=True, help_text='Comma-separated.', max_length=300)),
                ('mark_no_reply', models.BooleanField(default=False, help_text='The message needs no reply: it stays shown, marked, and starts no clock.')),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('channel_account', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='routing_rules', to='channels.channelaccount')),
                ('set_team', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='staff.team')),
            ],
            options={
                'db_table': 'tickets_routingrule',
                'ordering': ['position', 'pk'],
            },
        ),
        migrations.CreateModel(
            name='Store',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(help_text='As customers say it, e.g. White Rose.', max_length=100)),
                ('city', models.CharField(max_length=100)),
                ('aliases', models.CharField(blank=True, help_text='Other names, comma-separated, e.g. Crown Point.', max_length=300)),
                ('team', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='stores', to='staff.team')),
            ],
            options={
                'db_table': 'tickets_store',
                'ordering': ['city', 'name'],
                'constraints': [models.UniqueConstraint(fields=('city', 'name'), name='store_unique_city_name')],
            },
        ),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=state_operations),
    ]
