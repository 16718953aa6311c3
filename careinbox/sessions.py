"""Sessions kept in the database as Django's database backend keeps them, read with a prepared
statement (careinbox.prepared): every request reads its session, the bell's and the side bar's
polls included, and compiling the read took longer than running it."""

from datetime import datetime

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from careinbox.prepared import PreparedRead, columns, instance

CURRENT = PreparedRead(
    lambda key, now: Session.objects.filter(session_key=key, expire_date__gt=now).values(
        *columns(Session)
    ),
    key=str,
    now=datetime,
)


class SessionStore(DatabaseSessionStore):
    def _get_session_from_db(self) -> Session | None:
        rows = CURRENT.rows(key=self.session_key, now=timezone.now())
        if not rows:
            self._session_key = None
            return None
        return instance(Session, rows[0])
