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
            name='Attachment',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('filename', models.CharField(max_length=255)),
                ('content_type', models.CharField(max_length=255)),
                ('size', models.PositiveBigIntegerField()),
                ('content', models.BinaryField(blank=True, default=b'')),
                ('skipped_reason', models.CharField(blank=True, max_length=200)),
            ],
            options={
                'db_table': 'tickets_attachment',
            },
        ),
        migrations.CreateModel(
            name='CaseEvent',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('created', 'Case created'), ('message_received', 'Message received'), ('reply_sent', 'Reply sent'), ('note_added', 'Note added'), ('claimed', 'Claimed'), ('released', 'Released'), ('handed_off', 'Handed off'), ('reassigned', 'Reassigned'), ('status_changed', 'Status changed'), ('priority_changed', 'Priority changed'), ('tags_changed', 'Tags changed'), ('customers_merged', 'Customers merged'), ('sla_breached', 'SLA breached'), ('marked_spam', 'Marked as spam'), ('unmarked_spam', 'Marked as not spam'), ('routed', 'Routed by rules'), ('auto_assigned', 'Assigned automatically')], max_length=32)),
                ('occurred_at', models.DateTimeField()),
                ('recorded_at', models.DateTimeField(auto_now_add=True)),
                ('data', models.JSONField(blank=True, default=dict)),
            ],
            options={
                'db_table': 'tickets_caseevent',
            },
        ),
        migrations.CreateModel(
            name='Message',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('direction', models.CharField(choices=[('inbound', 'Inbound'), ('outbound', 'Outbound'), ('note', 'Internal note')], max_length=16)),
                ('channel', models.CharField(blank=True, max_length=32)),
                ('external_id', models.CharField(blank=True, max_length=500, null=True)),
                ('in_reply_to_external_id', models.CharField(blank=True, max_length=500)),
                ('text', models.TextField(blank=True)),
                ('html', models.TextField(blank=True, help_text='Sanitised HTML (email).')),
                ('automated', models.CharField(blank=True, max_length=16)),
                ('needs_reply', models.BooleanField(default=True)),
                ('no_reply_reason', models.CharField(blank=True, max_length=300)),
                ('subject', models.CharField(blank=True, max_length=500)),
                ('sent_at', models.DateTimeField(help_text='When the platform says it was sent.')),
                ('received_at', models.DateTimeField(auto_now_add=True)),
                ('raw_payload', models.BinaryField(blank=True, default=b'')),
                ('delivery_status', models.CharField(blank=True, choices=[('queued', 'Queued'), ('sending', 'Sending'), ('sent', 'Sent'), ('failed', 'Failed')], max_length=16)),
                ('delivery_error', models.TextField(blank=True)),
                ('delivery_attempts', models.PositiveIntegerField(default=0)),
                ('delivery_next_attempt_at', models.DateTimeField(blank=True, db_index=True, null=True)),
            ],
            options={
                'db_table': 'tickets_message',
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
            ],
            options={
                'verbose_name': 'SLA breach',
                'verbose_name_plural': 'SLA breaches',
                'db_table': 'tickets_slabreach',
            },
        ),
        migrations.CreateModel(
            name='Tag',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=50, unique=True)),
            ],
            options={
                'db_table': 'tickets_tag',
            },
        ),
        migrations.CreateModel(
            name='CannedResponse',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('title', models.CharField(max_length=100, unique=True)),
                ('text', models.TextField()),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'db_table': 'tickets_cannedresponse',
                'ordering': ['title'],
            },
        ),
        migrations.CreateModel(
            name='Case',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('status', models.CharField(choices=[('new', 'New'), ('open', 'Open'), ('pending', 'Pending on customer'), ('resolved', 'Resolved'), ('closed', 'Closed')], default='new', max_length=16)),
                ('priority', models.CharField(choices=[('low', 'Low'), ('normal', 'Normal'), ('high', 'High'), ('urgent', 'Urgent')], default='normal', max_length=16)),
                ('subject', models.CharField(blank=True, max_length=300)),
                ('spam', models.BooleanField(default=False)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('opened_at', models.DateTimeField()),
                ('first_inbound_at', models.DateTimeField(blank=True, null=True)),
                ('last_inbound_at', models.DateTimeField(blank=True, null=True)),
                ('first_response_at', models.DateTimeField(blank=True, null=True)),
                ('resolved_at', models.DateTimeField(blank=True, null=True)),
                ('closed_at', models.DateTimeField(blank=True, null=True)),
                ('first_response_due_at', models.DateTimeField(blank=True, db_index=True, null=True)),
                ('next_response_due_at', models.DateTimeField(blank=True, db_index=True, null=True)),
                ('resolution_due_at', models.DateTimeField(blank=True, db_index=True, null=True)),
                ('awaiting_reply_since', models.DateTimeField(blank=True, null=True)),
                ('assignee', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='assigned_cases', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'db_table': 'tickets_case',
                'permissions': [('work_case', 'Can claim, reply to, note and hand off cases'), ('reassign_case', "Can reassign anyone's cases and see every team's queue"), ('merge_customer', 'Can merge customers'), ('view_dashboards', 'Can view the dashboards')],
            },
        ),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=state_operations),
    ]
