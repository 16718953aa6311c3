from cryptography.fernet import InvalidToken
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from channels.models import ChannelAccount
from channels.secrets import rotate


class Command(BaseCommand):
    help = (
        "Encrypt every channel account's credentials again under the first key of "
        "CAREINBOX_ENCRYPTION_KEYS, so that older keys can be dropped."
    )

    def handle(self, *args, **options):
        table = connection.ops.quote_name(ChannelAccount._meta.db_table)
        rotated, unreadable = 0, []
        # The stored tokens themselves: the model field would hand back decrypted values.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SELECT id, credentials FROM {table} ORDER BY id")
            for pk, stored in cursor.fetchall():
                try:
                    token = rotate(stored)
                except InvalidToken:
                    unreadable.append(pk)
                    continue
                cursor.execute(f"UPDATE {table} SET credentials = %s WHERE id = %s", [token, pk])
                rotated += 1
        self.stdout.write(f"Re-encrypted the credentials of {rotated} channel accounts.")
        if unreadable:
            raise CommandError(
                f"No key opens the credentials of channel accounts {unreadable}; add the key "
                "they were encrypted with to CAREINBOX_ENCRYPTION_KEYS and run this again."
            )
