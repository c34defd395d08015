"""While the database cannot be reached, every request is answered 503 with Retry-After: a pause, not a storm of 500s.

Where a request first touches the database decides where its error surfaces, so it is caught in three places:

- a view (and a template rendered for it): `DatabaseOutageMiddleware.process_exception`;
- a middleware (the session loaded for `request.user`, axes, the idle-time check): Django turns the error into a
  500 at that middleware and calls `handler500` (config/urls.py), which is `server_error` below;
- the session saved after the view (`SessionMiddleware` below): Django's own would answer 400, "the session was
  deleted before the request completed", as during a PostgreSQL restart.

Each answers as the request expects: RFC 9457 problem JSON under the machine paths (the API and the access
register, accounts.sessions.machine_paths), a small fragment to htmx, a page otherwise. The page needs no
database: rendered without a request, so no context processor (the user menu) runs. Its language is the one the
language switch chose (config.locale.request_language: a cookie, no database).

Only an error that means "the database is unreachable" is answered so (`database_unreachable`): the connection
refused, lost or closed, the server shutting down or starting up. A constraint violation, a deadlock, a query
bug stay what they are (500, or what the service makes of them).

Logging is per outage, not per request: one WARNING when this process first meets the outage, and one when it
reaches the database again, with how long it lasted and how many requests were answered 503. The state is
per process (each gunicorn worker logs its own pair); that is enough to see an outage and its size in the log.
With DJANGO_DEBUG=1 an error raised in a middleware shows Django's debug page instead (Django calls handler500
only without DEBUG); views still answer 503.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable, Iterator

from django.conf import settings
from django.contrib.sessions import middleware as session_middleware
from django.core.exceptions import BadRequest
from django.db import DatabaseError, InterfaceError, OperationalError, connections
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _
from django.views import defaults

from accounts.sessions import machine_paths
from config.locale import request_language
from core.problems import body_response, problem_body

logger = logging.getLogger(__name__)

# PostgreSQL's SQLSTATEs that mean the connection, not the query, failed: class 08 (connection exception),
# and the server shutting down (57P01 admin, 57P02 crash) or not yet taking connections (57P03).
SHUTDOWN_SQLSTATES = frozenset({"57P01", "57P02", "57P03"})
# SQLite's equivalent: the file cannot be opened (a missing volume).
SQLITE_UNREACHABLE = "unable to open database file"
MARK = "database_unreachable"  # set on the request, and on the response, once it is answered 503


def _chain(error: BaseException | None) -> Iterator[BaseException]:
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        yield error
        error = error.__cause__ or error.__context__


def database_unreachable(error: BaseException) -> bool:
    """Whether `error`, or an error it was raised from, says the database cannot be reached (not: refused a query)."""
    for link in _chain(error):
        if isinstance(link, InterfaceError):  # Django's or the driver's: the connection is closed
            return True
        if isinstance(link, OperationalError):
            driver = link.__cause__
            if hasattr(driver, "sqlstate"):  # psycopg: no SQLSTATE means the client lost or never got a connection
                sqlstate = driver.sqlstate
                return sqlstate is None or sqlstate.startswith("08") or sqlstate in SHUTDOWN_SQLSTATES
            return SQLITE_UNREACHABLE in str(link)
    return False


class Outage:
    """This process's view of the database: reachable, or unreachable since a moment, with requests answered 503."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self.since: float | None = None
        self.answered = 0

    @property
    def ongoing(self) -> bool:
        return self.since is not None

    def answered_503(self, error: BaseException) -> None:
        with self._lock:
            if self.since is None:
                self.since, self.answered = self._clock(), 0
                logger.warning(
                    "The database cannot be reached (%s: %s). Requests are answered 503 with Retry-After until it "
                    "answers again.",
                    type(error).__name__,
                    " ".join(str(error).split())[:200],
                )
            self.answered += 1

    def reached(self) -> None:
        with self._lock:
            if self.since is None:
                return
            seconds, answered = self._clock() - self.since, self.answered
            self.since, self.answered = None, 0
        logger.warning(
            "The database answers again after %.1f s; %d requests were answered 503 meanwhile.", seconds, answered
        )


outage = Outage()


def close_broken_connections() -> None:
    """Let the next request connect afresh. Never inside a transaction (a test's): that one's owner rolls it back."""
    for connection in connections.all(initialized_only=True):
        if connection.in_atomic_block:
            continue
        try:
            connection.close()
        except DatabaseError:
            connection.connection = None  # the socket is gone already; forget it


def _wants_problem(request: HttpRequest) -> bool:
    return request.path_info.startswith(machine_paths())


def unreachable_response(request: HttpRequest, error: BaseException) -> HttpResponse:
    """The 503 for a request that met the outage: problem JSON, an htmx fragment or a page, with Retry-After."""
    if not getattr(request, MARK, False):  # a request counts once, however many layers meet the error
        setattr(request, MARK, True)
        outage.answered_503(error)
    close_broken_connections()
    retry_after = settings.DATABASE_UNREACHABLE_RETRY_AFTER
    headers = {"Retry-After": str(retry_after), "Cache-Control": "no-store"}
    with translation.override(request_language(request)):
        if _wants_problem(request):
            body = problem_body(
                503,
                code="database_unreachable",
                title=_("Service unavailable"),
                detail=_(
                    "Opus Adgang cannot reach its database right now. Try again in %(seconds)d seconds (Retry-After)."
                )
                % {"seconds": retry_after},
            )
            response = body_response(body, headers=headers)
        else:
            template = "_database_unreachable.html" if request.headers.get("HX-Request") else "503.html"
            # No request in the context: no context processor runs, so nothing here asks the database.
            html = render_to_string(template, {"retry_after": retry_after})
            response = HttpResponse(html, status=503, headers=headers)
        response.headers["Content-Language"] = translation.get_language()
    setattr(response, MARK, True)
    # Django's request log would write a traceback for every 5xx it sees; the outage has its own two lines.
    response._has_been_logged = True
    return response


def server_error(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    """handler500: an unhandled error in a middleware or view. The outage's 503, or Django's own 500 page."""
    error = sys.exc_info()[1]
    if error is not None and database_unreachable(error):
        return unreachable_response(request, error)
    return defaults.server_error(request, *args, **kwargs)


class DatabaseOutageMiddleware:
    """Outermost of the app's middleware (settings.MIDDLEWARE): answers a view's outage error with the 503, and
    notices when the database answers again."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if outage.ongoing and not getattr(request, MARK, False):
            self._probe()
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if database_unreachable(exception):
            return unreachable_response(request, exception)
        return None

    @staticmethod
    def _probe() -> None:
        # Only during an outage, after a request that did not meet it (it may not have asked the database at all,
        # as /healthz does not): one SELECT 1 says whether the outage is over.
        try:
            with connections["default"].cursor() as cursor:
                cursor.execute("SELECT 1")
        except DatabaseError:
            close_broken_connections()
        else:
            outage.reached()


class SessionMiddleware(session_middleware.SessionMiddleware):
    """Django's, except that a session that cannot be saved because the database is unreachable is the outage's
    503, not the 400 "the request's session was deleted before the request completed"."""

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        try:
            return super().process_response(request, response)
        except (BadRequest, DatabaseError) as error:  # SessionInterrupted is a BadRequest
            if database_unreachable(error):
                return unreachable_response(request, error)
            raise
