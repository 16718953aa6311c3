"""The former ``tickets`` app's models now belong to the domain apps. Their content types move
with them, so permissions given to users and groups, and the admin's log, stay attached."""

from django.db import migrations

MOVED = {'team': 'staff', 'agentprofile': 'staff', 'customer': 'customers', 'identity': 'customers', 'evidence': 'customers', 'mergesuggestion': 'customers', 'tag': 'cases', 'case': 'cases', 'message': 'cases', 'attachment': 'cases', 'caseevent': 'cases', 'cannedresponse': 'cases', 'slabreach': 'cases', 'notification': 'notifications', 'businesscalendar': 'sla', 'businesshours': 'sla', 'holiday': 'sla', 'slapolicy': 'sla', 'store': 'routing', 'routingrule': 'routing'}


def _move(apps, old_label, *, forwards):
    content_type = apps.get_model("contenttypes", "ContentType")
    for model, new_label in MOVED.items():
        source, target = (old_label, new_label) if forwards else (new_label, old_label)
        # A content type the new app made already (a database migrated back and forth) wins.
        if not content_type.objects.filter(app_label=target, model=model).exists():
            content_type.objects.filter(app_label=source, model=model).update(app_label=target)


def move_content_types(apps, schema_editor):
    _move(apps, "tickets", forwards=True)


def move_content_types_back(apps, schema_editor):
    _move(apps, "tickets", forwards=False)


class Migration(migrations.Migration):

    dependencies = [
        ('channels', '0001_initial'),
        ('staff', '0001_initial'),
        ('customers', '0001_initial'),
        ('sla', '0001_initial'),
        ('routing', '0001_initial'),
        ('cases', '0002_initial'),
        ('notifications', '0001_initial'),
        ('intake', '0001_initial'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('tickets', '0012_inbox_mine_index'),
    ]

    # The models moved to the domain apps, which own their tables from now on; only the state changes.
    state_operations = [
        migrations.RemoveField(
            model_name='agentprofile',
            name='teams',
        ),
        migrations.RemoveField(
            model_name='agentprofile',
            name='user',
        ),
        migrations.RemoveField(
            model_name='attachment',
            name='message',
        ),
        migrations.RemoveConstraint(
            model_name='businesshours',
            name='businesshours_weekday',
        ),
        migrations.RemoveField(
            model_name='cannedresponse',
            name='created_by',
        ),
        migrations.RemoveIndex(
            model_name='case',
            name='case_status_last_inbound',
        ),
        migrations.RemoveConstraint(
            model_name='case',
            name='case_one_active_per_customer',
        ),
        migrations.RemoveIndex(
            model_name='caseevent',
            name='caseevent_case_occurred_at',
        ),
        migrations.RemoveIndex(
            model_name='caseevent',
            name='caseevent_kind_occurred_at',
        ),
        migrations.RemoveField(
            model_name='customer',
            name='merged_into',
        ),
        migrations.RemoveIndex(
            model_name='evidence',
            name='evidence_kind_value',
        ),
        migrations.RemoveConstraint(
            model_name='evidence',
            name='evidence_unique_per_message',
        ),
        migrations.RemoveConstraint(
            model_name='holiday',
            name='holiday_unique_date',
        ),
        migrations.RemoveConstraint(
            model_name='identity',
            name='identity_unique_platform_external_id',
        ),
        migrations.RemoveIndex(
            model_name='mergesuggestion',
            name='mergesuggestion_b_status',
        ),
        migrations.RemoveConstraint(
            model_name='mergesuggestion',
            name='mergesuggestion_ordered_pair',
        ),
        migrations.RemoveConstraint(
            model_name='mergesuggestion',
            name='mergesuggestion_unique_pair',
        ),
        migrations.RemoveIndex(
            model_name='message',
            name='message_case_sent_at',
        ),
        migrations.RemoveIndex(
            model_name='message',
            name='message_orphan_replies',
        ),
        migrations.RemoveConstraint(
            model_name='message',
            name='message_unique_external_id',
        ),
        migrations.RemoveIndex(
            model_name='notification',
            name='notification_unread',
        ),
        migrations.RemoveField(
            model_name='routingrule',
            name='channel_account',
        ),
        migrations.RemoveField(
            model_name='routingrule',
            name='set_team',
        ),
        migrations.RemoveConstraint(
            model_name='slabreach',
            name='slabreach_once_per_clock',
        ),
        migrations.RemoveConstraint(
            model_name='slapolicy',
            name='slapolicy_unique_team_priority',
        ),
        migrations.RemoveConstraint(
            model_name='slapolicy',
            name='slapolicy_unique_priority',
        ),
        migrations.RemoveConstraint(
            model_name='store',
            name='store_unique_city_name',
        ),
        migrations.DeleteModel(
            name='AgentProfile',
        ),
        migrations.DeleteModel(
            name='Attachment',
        ),
        migrations.RemoveField(
            model_name='businesshours',
            name='calendar',
        ),
        migrations.DeleteModel(
            name='CannedResponse',
        ),
        migrations.RemoveField(
            model_name='case',
            name='assignee',
        ),
        migrations.RemoveField(
            model_name='case',
            name='customer',
        ),
        migrations.RemoveField(
            model_name='case',
            name='merged_into',
        ),
        migrations.RemoveField(
            model_name='case',
            name='sla_policy',
        ),
        migrations.RemoveField(
            model_name='case',
            name='tags',
        ),
        migrations.RemoveField(
            model_name='case',
            name='team',
        ),
        migrations.RemoveField(
            model_name='caseevent',
            name='actor',
        ),
        migrations.RemoveField(
            model_name='caseevent',
            name='case',
        ),
        migrations.RemoveField(
            model_name='caseevent',
            name='message',
        ),
        migrations.RemoveField(
            model_name='evidence',
            name='identity',
        ),
        migrations.RemoveField(
            model_name='evidence',
            name='message',
        ),
        migrations.RemoveField(
            model_name='holiday',
            name='calendar',
        ),
        migrations.RemoveField(
            model_name='identity',
            name='customer',
        ),
        migrations.RemoveField(
            model_name='mergesuggestion',
            name='customer_a',
        ),
        migrations.RemoveField(
            model_name='mergesuggestion',
            name='customer_b',
        ),
        migrations.RemoveField(
            model_name='mergesuggestion',
            name='decided_by',
        ),
        migrations.RemoveField(
            model_name='message',
            name='author_identity',
        ),
        migrations.RemoveField(
            model_name='message',
            name='author_user',
        ),
        migrations.RemoveField(
            model_name='message',
            name='case',
        ),
        migrations.RemoveField(
            model_name='message',
            name='channel_account',
        ),
        migrations.RemoveField(
            model_name='message',
            name='parent',
        ),
        migrations.RemoveField(
            model_name='notification',
            name='actor',
        ),
        migrations.RemoveField(
            model_name='notification',
            name='case',
        ),
        migrations.RemoveField(
            model_name='notification',
            name='recipient',
        ),
        migrations.DeleteModel(
            name='RoutingRule',
        ),
        migrations.RemoveField(
            model_name='slabreach',
            name='case',
        ),
        migrations.RemoveField(
            model_name='slabreach',
            name='policy',
        ),
        migrations.RemoveField(
            model_name='slapolicy',
            name='calendar',
        ),
        migrations.RemoveField(
            model_name='slapolicy',
            name='escalate_to_team',
        ),
        migrations.RemoveField(
            model_name='slapolicy',
            name='team',
        ),
        migrations.RemoveField(
            model_name='store',
            name='team',
        ),
        migrations.DeleteModel(
            name='BusinessHours',
        ),
        migrations.DeleteModel(
            name='Tag',
        ),
        migrations.DeleteModel(
            name='CaseEvent',
        ),
        migrations.DeleteModel(
            name='Evidence',
        ),
        migrations.DeleteModel(
            name='Holiday',
        ),
        migrations.DeleteModel(
            name='Customer',
        ),
        migrations.DeleteModel(
            name='MergeSuggestion',
        ),
        migrations.DeleteModel(
            name='Identity',
        ),
        migrations.DeleteModel(
            name='Message',
        ),
        migrations.DeleteModel(
            name='Notification',
        ),
        migrations.DeleteModel(
            name='Case',
        ),
        migrations.DeleteModel(
            name='SLABreach',
        ),
        migrations.DeleteModel(
            name='BusinessCalendar',
        ),
        migrations.DeleteModel(
            name='SLAPolicy',
        ),
        migrations.DeleteModel(
            name='Store',
        ),
        migrations.DeleteModel(
            name='Team',
        ),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=state_operations),
        migrations.RunPython(move_content_types, move_content_types_back),
    ]
