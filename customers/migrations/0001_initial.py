import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('tickets', '0012_inbox_mine_index'),
        ('channels_in', '0002_poll_failures'),
        ('cases', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    # The tables exist already: the migrations of the apps in legacy/ created them.
    state_operations = [
        migrations.CreateModel(
            name='Customer',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('display_name', models.CharField(max_length=200)),
                ('notes', models.TextField(blank=True)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('merged_into', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='merged_from', to='customers.customer')),
            ],
            options={
                'db_table': 'tickets_customer',
            },
        ),
        migrations.CreateModel(
            name='Identity',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('platform', models.CharField(choices=[('x', 'X'), ('facebook', 'Facebook'), ('email', 'Email')], max_length=16)),
                ('external_id', models.CharField(max_length=320)),
                ('handle', models.CharField(blank=True, max_length=100)),
                ('display_name', models.CharField(blank=True, max_length=200)),
                ('follower_count', models.PositiveIntegerField(blank=True, null=True)),
                ('avatar_url', models.URLField(blank=True, max_length=1000)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('last_seen_at', models.DateTimeField()),
                ('customer', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='identities', to='customers.customer')),
            ],
            options={
                'verbose_name_plural': 'identities',
                'db_table': 'tickets_identity',
            },
        ),
        migrations.CreateModel(
            name='Evidence',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(max_length=16)),
                ('value', models.CharField(max_length=320)),
                ('message', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='evidence', to='cases.message')),
                ('identity', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='evidence', to='customers.identity')),
            ],
            options={
                'verbose_name_plural': 'evidence',
                'db_table': 'tickets_evidence',
            },
        ),
        migrations.CreateModel(
            name='MergeSuggestion',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('score', models.FloatField()),
                ('evidence', models.JSONField(default=list)),
                ('status', models.CharField(choices=[('open', 'Open'), ('dismissed', 'Dismissed'), ('merged', 'Merged')], default='open', max_length=16)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('customer_a', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='customers.customer')),
                ('customer_b', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='customers.customer')),
                ('decided_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'db_table': 'tickets_mergesuggestion',
            },
        ),
        migrations.AddConstraint(
            model_name='identity',
            constraint=models.UniqueConstraint(fields=('platform', 'external_id'), name='identity_unique_platform_external_id'),
        ),
        migrations.AddIndex(
            model_name='evidence',
            index=models.Index(fields=['kind', 'value'], name='evidence_kind_value'),
        ),
        migrations.AddConstraint(
            model_name='evidence',
            constraint=models.UniqueConstraint(fields=('message', 'kind', 'value'), name='evidence_unique_per_message'),
        ),
        migrations.AddIndex(
            model_name='mergesuggestion',
            index=models.Index(fields=['customer_b', 'status'], name='mergesuggestion_b_status'),
        ),
        migrations.AddConstraint(
            model_name='mergesuggestion',
            constraint=models.CheckConstraint(condition=models.Q(('customer_a__lt', models.F('customer_b'))), name='mergesuggestion_ordered_pair'),
        ),
        migrations.AddConstraint(
            model_name='mergesuggestion',
            constraint=models.UniqueConstraint(fields=('customer_a', 'customer_b'), name='mergesuggestion_unique_pair'),
        ),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=state_operations),
    ]
