"""Channel credentials move from plain JSON to encrypted text (channels/secrets.py)."""

import json

from cryptography.fernet import InvalidToken
from django.db import migrations

import channels.secrets


def encrypt_plain_credentials(apps, schema_editor):
    _rewrite(schema_editor, _encrypted)


def decrypt_credentials(apps, schema_editor):
    _rewrite(schema_editor, lambda stored: json.dumps(channels.secrets.decrypt(stored)))


def _encrypted(stored: str) -> str:
    try:
        channels.secrets.decrypt(stored)
        return stored  # already encrypted: the migration ran part-way before
    except InvalidToken:
        return channels.secrets.encrypt(json.loads(stored or "{}"))


def _rewrite(schema_editor, convert):
    """Rewrite each account's stored credentials with plain SQL: the model field would
    decrypt them, and here they are not yet (or no longer) encrypted."""
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT id, credentials FROM channels_in_channelaccount")
        for pk, stored in cursor.fetchall():
            cursor.execute(
                "UPDATE channels_in_channelaccount SET credentials = %s WHERE id = %s",
                [convert(stored), pk],
            )


class Migration(migrations.Migration):
    dependencies = [
        ("channels", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="channelaccount",
            name="credentials",
            field=channels.secrets.EncryptedJSONField(blank=True, default=dict),
        ),
        migrations.RunPython(encrypt_plain_credentials, decrypt_credentials),
    ]
