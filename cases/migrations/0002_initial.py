import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('cases', '0001_initial'),
        ('channels', '0001_initial'),
        ('customers', '0001_initial'),
        ('sla', '0001_initial'),
        ('staff', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    # The tables exist already: the migrations of the apps in legacy/ created them.
    state_operations = [
        migrations.AddField(
            model_name='case',
            name='customer',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='cases', to='customers.customer'),
        ),
        migrations.AddField(
            model_name='case',
            name='merged_into',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='merged_from', to='cases.case'),
        ),
        migrations.AddField(
            model_name='case',
            name='sla_policy',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='sla.slapolicy'),
        ),
        migrations.AddField(
            model_name='case',
            name='team',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='cases', to='staff.team'),
        ),
        migrations.AddField(
            model_name='caseevent',
            name='actor',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='case_events', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='caseevent',
            name='case',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='events', to='cases.case'),
        ),
        migrations.AddField(
            model_name='message',
            name='author_identity',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='messages', to='customers.identity'),
        ),
        migrations.AddField(
            model_name='message',
            name='author_user',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='messages', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='message',
            name='case',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='messages', to='cases.case'),
        ),
        migrations.AddField(
            model_name='message',
            name='channel_account',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='messages', to='channels.channelaccount'),
        ),
        migrations.AddField(
            model_name='message',
            name='parent',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='replies', to='cases.message'),
        ),
        migrations.AddField(
            model_name='caseevent',
            name='message',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='events', to='cases.message'),
        ),
        migrations.AddField(
            model_name='attachment',
            name='message',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='attachments', to='cases.message'),
        ),
        migrations.AddField(
            model_name='slabreach',
            name='case',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='sla_breaches', to='cases.case'),
        ),
        migrations.AddField(
            model_name='slabreach',
            name='policy',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='breaches', to='sla.slapolicy'),
        ),
        migrations.AddField(
            model_name='case',
            name='tags',
            field=models.ManyToManyField(blank=True, db_table='tickets_case_tags', related_name='cases', to='cases.tag'),
        ),
        migrations.AddIndex(
            model_name='message',
            index=models.Index(fields=['case', 'sent_at'], name='message_case_sent_at'),
        ),
        migrations.AddIndex(
            model_name='message',
            index=models.Index(condition=models.Q(('parent__isnull', True), models.Q(('in_reply_to_external_id', ''), _negated=True)), fields=['channel_account', 'in_reply_to_external_id'], name='message_orphan_replies'),
        ),
        migrations.AddConstraint(
            model_name='message',
            constraint=models.UniqueConstraint(fields=('channel_account', 'external_id'), name='message_unique_external_id'),
        ),
        migrations.AddIndex(
            model_name='caseevent',
            index=models.Index(fields=['case', 'occurred_at'], name='caseevent_case_occurred_at'),
        ),
        migrations.AddIndex(
            model_name='caseevent',
            index=models.Index(fields=['kind', 'occurred_at'], name='caseevent_kind_occurred_at'),
        ),
        migrations.AddConstraint(
            model_name='slabreach',
            constraint=models.UniqueConstraint(fields=('case', 'target', 'clock_started_at'), name='slabreach_once_per_clock'),
        ),
        migrations.AddIndex(
            model_name='case',
            index=models.Index(fields=['status', 'last_inbound_at'], name='case_status_last_inbound'),
        ),
        migrations.AddConstraint(
            model_name='case',
            constraint=models.UniqueConstraint(condition=models.Q(('status', 'closed'), _negated=True), fields=('customer',), name='case_one_active_per_customer'),
        ),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=state_operations),
    ]
