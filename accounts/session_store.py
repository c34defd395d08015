"""Django's database sessions (SESSION_ENGINE), read with a query compiled once per process (core/prepared.py).

Every request a logged-in person makes reads its session first: Django's own store builds and compiles that
query anew each time, the same question with only the key and the time changed.
"""

from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.db.models import DateTimeField
from django.utils import timezone

from core.prepared import Prepared

_UNEXPIRED = Prepared(
    lambda p: Session.objects.filter(session_key=p.key, expire_date__gt=p.typed("now", DateTimeField()))[
        :1
    ]  # the key is the primary key: one row or none
)


class SessionStore(db.SessionStore):
    def _get_session_from_db(self):
        # As Django's: the unexpired session of this key, or None and the key forgotten (a new one is made).
        session = _UNEXPIRED.first(key=self.session_key, now=timezone.now())
        if session is None:
            self._session_key = None
        return session
