from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('tickets', '0010_routing'),
    ]

    operations = [
        migrations.AddField(
            model_name='team',
            name='auto_assign',
            field=models.BooleanField(default=False, help_text="Give new cases to the team's online agents in turn, up to each one's capacity."),
        ),
        migrations.AddField(
            model_name='agentprofile',
            name='max_active_cases',
            field=models.PositiveSmallIntegerField(default=8, help_text='Auto-assignment gives no more cases once this many are held.'),
        ),
        migrations.AddField(
            model_name='agentprofile',
            name='assignment_paused',
            field=models.BooleanField(default=False, help_text='Paused agents get no cases automatically; claiming still works.'),
        ),
        migrations.AddField(
            model_name='agentprofile',
            name='last_seen_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='agentprofile',
            name='assignment_turn',
            field=models.PositiveBigIntegerField(default=0, editable=False),
        ),
        migrations.AlterField(
            model_name='caseevent',
            name='kind',
            field=models.CharField(choices=[('created', 'Case created'), ('message_received', 'Message received'), ('reply_sent', 'Reply sent'), ('note_added', 'Note added'), ('claimed', 'Claimed'), ('released', 'Released'), ('handed_off', 'Handed off'), ('reassigned', 'Reassigned'), ('status_changed', 'Status changed'), ('priority_changed', 'Priority changed'), ('tags_changed', 'Tags changed'), ('customers_merged', 'Customers merged'), ('sla_breached', 'SLA breached'), ('marked_spam', 'Marked as spam'), ('unmarked_spam', 'Marked as not spam'), ('routed', 'Routed by rules'), ('auto_assigned', 'Assigned automatically')], max_length=32),
        ),
        migrations.AlterField(
            model_name='notification',
            name='kind',
            field=models.CharField(choices=[('handed_off', 'Handed off to you'), ('mentioned', 'Mentioned you'), ('new_message', 'New message on your case'), ('sla_breached', 'SLA breached'), ('assigned', 'Assigned to you')], max_length=16),
        ),
    ]
