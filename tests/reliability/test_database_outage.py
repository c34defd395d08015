"""While the database cannot be reached every request is a 503 with Retry-After, never a 500 (config/outage.py).

In this process (SQLite and PostgreSQL): the database's answers are replaced by the error a lost connection
raises (an execute wrapper), for a page, an htmx fragment, the API and the access register; a session that
cannot be saved; and errors that are not an outage, which stay 500. With a real server process (PostgreSQL
only): the connection runs through a TCP proxy the test stops and starts, as when PostgreSQL goes away.
"""

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager, suppress
from pathlib import Path
from types import SimpleNamespace

import psycopg
import pytest
import requests
from django.conf import settings as django_settings
from django.db import IntegrityError, OperationalError, ProgrammingError, connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import ApiToken
from accounts.sessions import LAST_SEEN_AT
from config import outage as outage_module
from config.outage import Outage, database_unreachable
from tests.api.conftest import make_token

RETRY_AFTER = 30
BASE_DIR = Path(django_settings.BASE_DIR)


@pytest.fixture(autouse=True)
def fresh_outage_state(monkeypatch, settings):
    """Each test starts with the database reachable, as far as this process knows."""
    settings.DATABASE_UNREACHABLE_RETRY_AFTER = RETRY_AFTER
    monkeypatch.setattr(outage_module, "outage", Outage())


def lost_connection(message: str = "connection failed: Connection refused") -> OperationalError:
    """What Django raises when psycopg cannot reach the server: its OperationalError, from psycopg's (no SQLSTATE)."""
    try:
        raise psycopg.OperationalError(message)
    except psycopg.OperationalError as driver:
        try:
            raise OperationalError(message) from driver
        except OperationalError as error:
            return error


def from_postgresql(django_class, driver_class, message: str):
    try:
        raise driver_class(message)
    except psycopg.Error as driver:
        try:
            raise django_class(message) from driver
        except django_class as error:
            return error


@contextmanager
def database_answers(error_for, only: str = ""):
    """Every query (or those whose SQL starts with `only`) fails with `error_for()` instead of running."""

    def wrapper(execute, sql, params, many, context):
        if sql.lstrip().upper().startswith(only.upper()):
            raise error_for()
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield


@pytest.fixture
def browser(cast):
    """The orderer, logged in. Errors come back as responses, as a real server answers them."""
    client = Client(raise_request_exception=False)
    client.force_login(cast.orderer_a)
    return client


def machine(secret: str, **headers) -> Client:
    return Client(raise_request_exception=False, headers={"Authorization": f"Bearer {secret}", **headers})


def assert_paused(response, content_type: str) -> None:
    assert response.status_code == 503, response.content[:300]
    assert response["Retry-After"] == str(RETRY_AFTER)
    assert response["Content-Type"].startswith(content_type)
    assert response["Cache-Control"] == "no-store"


# --- The four kinds of answer ------------------------------------------------------------------


def test_a_page_is_a_503_page_in_danish_with_retry_after(browser):
    with database_answers(lost_connection):
        response = browser.get(reverse("home"))
    assert_paused(response, "text/html")
    page = response.content.decode()
    assert '<html lang="da">' in page
    assert "Opus Adgang kan ikke nå sin database lige nu" in page
    assert "Prøv igen om 30 sekunder." in page
    assert "Traceback" not in page and "OperationalError" not in page


def test_the_page_is_in_english_when_the_user_chose_english(browser):
    browser.cookies["django_language"] = "en"
    with database_answers(lost_connection):
        response = browser.get(reverse("home"))
    assert_paused(response, "text/html")
    assert "Opus Adgang cannot reach its database right now" in response.content.decode()
    assert response["Content-Language"] == "en"


def test_the_login_page_and_a_login_are_a_503_too(cast, client):
    client.raise_request_exception = False
    with database_answers(lost_connection):
        assert_paused(client.get(reverse("login")), "text/html")
        login = {"username": "orderer_a", "password": "a-long-test-password"}
        assert_paused(client.post(reverse("login"), login), "text/html")  # axes and the password check


def test_an_htmx_request_gets_a_small_fragment(browser):
    with database_answers(lost_connection):
        response = browser.get(reverse("home"), headers={"HX-Request": "true"})
    assert_paused(response, "text/html")
    fragment = response.content.decode()
    assert "<html" not in fragment and 'role="alert"' in fragment
    assert "Opus Adgang kan ikke nå sin database lige nu" in fragment


def test_the_api_answers_problem_json(cast):
    secret = make_token(cast.orderer_a, ("read",))
    with database_answers(lost_connection):
        response = machine(secret).get(reverse("api:orders"))
    assert_paused(response, "application/problem+json")
    problem = json.loads(response.content)
    assert problem["status"] == 503 and problem["code"] == "database_unreachable"
    assert problem["type"].endswith("/database-unreachable")
    assert "Opus Adgang kan ikke nå sin database lige nu" in problem["detail"]


def test_the_access_register_answers_problem_json(db):
    secret = make_token(None, ("register",), kind=ApiToken.Kind.GATEWAY)
    with database_answers(lost_connection):
        response = machine(secret).get(reverse("api:access_register"), {"environment": "production"})
    assert_paused(response, "application/problem+json")
    assert json.loads(response.content)["code"] == "database_unreachable"


def test_a_session_that_cannot_be_saved_is_a_503_not_a_400(browser):
    session = browser.session
    session[LAST_SEEN_AT] = timezone.now().timestamp() - 61  # this page stamps the session: it is saved afterwards
    session.save()
    with database_answers(lost_connection, only='UPDATE "django_session"'):
        response = browser.get(reverse("home"))
    assert_paused(response, "text/html")


def test_the_server_shutting_down_is_an_outage_too(browser):
    def terminating():
        return from_postgresql(
            OperationalError, psycopg.errors.AdminShutdown, "terminating connection due to administrator command"
        )

    with database_answers(terminating):
        assert_paused(browser.get(reverse("home")), "text/html")


def test_the_503_itself_asks_nothing_of_the_database(db, rf, django_assert_num_queries):
    for headers in ({}, {"HX-Request": "true"}):
        request = rf.get(reverse("home"), headers=headers)
        with django_assert_num_queries(0):
            assert outage_module.unreachable_response(request, lost_connection()).status_code == 503
    with django_assert_num_queries(0):
        response = outage_module.unreachable_response(rf.get(reverse("api:orders")), lost_connection())
    assert response["Content-Type"] == "application/problem+json"


def test_while_the_database_answers_no_request_pays_for_the_outage_check(browser):
    with CaptureQueriesContext(connection) as queries:
        assert browser.get(reverse("home")).status_code == 200
    assert [q for q in queries if q["sql"].strip().upper() == "SELECT 1"] == []
    assert not outage_module.outage.ongoing


# --- What is not an outage stays what it was ---------------------------------------------------


@pytest.mark.parametrize(
    "error",
    [
        lambda: from_postgresql(IntegrityError, psycopg.errors.UniqueViolation, "duplicate key value"),
        lambda: from_postgresql(ProgrammingError, psycopg.errors.UndefinedColumn, 'column "nope" does not exist'),
        lambda: from_postgresql(OperationalError, psycopg.errors.QueryCanceled, "canceling statement due to timeout"),
        lambda: OperationalError("database is locked"),  # SQLite's, busy: not unreachable
    ],
    ids=["integrity", "programming", "statement-timeout", "sqlite-locked"],
)
def test_a_database_error_that_is_not_an_outage_stays_a_500(browser, error):
    with database_answers(error):
        page = browser.get(reverse("home"))
    assert page.status_code == 500
    assert "Retry-After" not in page


def test_an_api_error_that_is_not_an_outage_stays_a_500(cast):
    secret = make_token(cast.orderer_a, ("read",))
    with database_answers(lambda: from_postgresql(ProgrammingError, psycopg.errors.UndefinedTable, "no table")):
        response = machine(secret).get(reverse("api:orders"))
    assert response.status_code == 500


@pytest.mark.parametrize(
    ("error", "unreachable"),
    [
        (lambda: lost_connection("server closed the connection unexpectedly"), True),
        (
            lambda: from_postgresql(OperationalError, psycopg.errors.CannotConnectNow, "the database is starting up"),
            True,
        ),
        (lambda: from_postgresql(OperationalError, psycopg.errors.ConnectionFailure, "connection failure"), True),
        (lambda: from_postgresql(OperationalError, psycopg.errors.DeadlockDetected, "deadlock detected"), False),
        (lambda: from_postgresql(OperationalError, psycopg.errors.SerializationFailure, "could not serialize"), False),
        (lambda: OperationalError("unable to open database file"), True),
        (lambda: OperationalError("database is locked"), False),
        (lambda: ValueError("not a database error"), False),
    ],
)
def test_which_errors_mean_the_database_is_unreachable(error, unreachable):
    assert database_unreachable(error()) is unreachable


# --- One line when it starts, one when it ends -------------------------------------------------


def test_an_outage_is_logged_once_when_it_starts_and_once_when_it_ends_with_its_count(browser, cast, caplog):
    secret = make_token(cast.orderer_a, ("read",))
    caplog.set_level(logging.INFO)
    with database_answers(lost_connection):
        for _ in range(3):
            assert browser.get(reverse("home")).status_code == 503
        assert browser.get(reverse("home"), headers={"HX-Request": "true"}).status_code == 503
        assert machine(secret).get(reverse("api:orders")).status_code == 503
    assert browser.get(reverse("home")).status_code == 200
    assert browser.get(reverse("home")).status_code == 200
    lines = [(r.name, r.levelname, r.getMessage()) for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(lines) == 2, lines
    (start_logger, start_level, started), (_, end_level, ended) = lines
    assert start_logger == "config.outage" and start_level == end_level == "WARNING"
    assert started.startswith("The database cannot be reached (OperationalError: connection failed")
    assert "answers again after" in ended and "5 requests were answered 503 meanwhile" in ended
    assert not any(r.exc_info for r in caplog.records)  # no traceback, neither per request nor once


def test_an_outage_is_not_over_until_the_database_answers(browser, caplog):
    """A request that asks nothing of the database (/healthz, from the load balancer: no session) does not end the
    outage by itself: the probe after it finds the database still away."""
    caplog.set_level(logging.INFO)
    with database_answers(lost_connection):
        assert browser.get(reverse("home")).status_code == 503
        assert Client().get(reverse("healthz")).status_code == 200
        assert browser.get(reverse("home")).status_code == 503
    ended = [r for r in caplog.records if "answers again after" in r.getMessage()]
    assert outage_module.outage.ongoing and not ended


# --- With a real server, and PostgreSQL going away -------------------------------------------------


class Proxy:
    """A TCP proxy 127.0.0.1:<port> → PostgreSQL, which the test stops (listener closed, open connections cut,
    as when PostgreSQL stops or the network goes) and starts again on the same port."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.port = 0
        self.sockets: set[socket.socket] = set()
        self.lock = threading.Lock()
        self.listener: socket.socket | None = None

    def start(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        listener, self.listener = self.listener, None
        if listener is not None:
            with suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)  # wakes the accept(): close() alone leaves it listening
            listener.close()
        with self.lock:
            open_sockets, self.sockets = self.sockets, set()
        for sock in open_sockets:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _address = listener.accept()
            except OSError:
                return  # stopped
            try:
                server = socket.create_connection(self.upstream)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.sockets.update((client, server))
            for source, target in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        for sock in (source, target):
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def proxy():
    db = connection.settings_dict
    running = Proxy((db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432)))
    running.start()
    yield running
    running.stop()


@pytest.fixture
def server(proxy, tmp_path):
    """gunicorn serving the app from this session's test database, through the proxy. Yields its base URL and log."""
    db = connection.settings_dict
    credentials = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    port = free_port()
    log = tmp_path / "server.log"
    static_root = tmp_path / "static"  # WhiteNoise finds the files themselves (outage_server_settings)
    static_root.mkdir()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.reliability.outage_server_settings",
        "DATABASE_URL": f"postgres://{credentials}@127.0.0.1:{proxy.port}/{db['NAME']}",
        "DJANGO_DEBUG": "",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECRET_KEY": django_settings.SECRET_KEY,  # the session's login hash is keyed with it
        "OPUS_DEVELOPMENT_KEYS": "1",
        "PASSWORD_LOGIN": "all",  # the cast logs in with passwords, as in the other tests (conftest)
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_COOKIES": "0",
        "PRIVATE_STORAGE_ROOT": str(tmp_path / "private"),
        "STATIC_ROOT": str(static_root),
        "LOG_FORMAT": "text",
        "DATABASE_UNREACHABLE_RETRY_AFTER": str(RETRY_AFTER),
    }
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "config.wsgi:application",
        f"--bind=127.0.0.1:{port}",
        "--workers=1",
        "--threads=4",
        "--timeout=30",
        "--no-control-socket",  # its default path is one per user: parallel runs would share it
    ]
    with open(log, "wb") as output:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            command, cwd=BASE_DIR, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if requests.get(f"{base}/healthz", timeout=5).status_code == 200:
                break
        except requests.RequestException:  # not listening yet, or still loading the app
            pass
        assert process.poll() is None and time.monotonic() < deadline, log.read_text(errors="replace")[-3000:]
        time.sleep(0.2)
    yield SimpleNamespace(url=base, log=log)
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL (DATABASE_URL=postgres://…): a real server process reaches it through a TCP proxy",
)
def test_postgresql_going_away_is_a_503_pause_for_every_kind_of_request_and_200_when_it_returns(cast, proxy, server):
    browser = Client()
    browser.force_login(cast.orderer_a)  # committed (transactional test): the server reads this session
    session = {django_settings.SESSION_COOKIE_NAME: browser.cookies[django_settings.SESSION_COOKIE_NAME].value}
    orderer_token = make_token(cast.orderer_a, ("read",))
    gateway_token = make_token(None, ("register",), kind=ApiToken.Kind.GATEWAY)
    requests_of_each_kind = {
        "page": (reverse("home"), {}, session, "text/html"),
        "htmx": (reverse("ordering:order_form_preview"), {"HX-Request": "true"}, session, "text/html"),
        "api": (reverse("api:orders"), {"Authorization": f"Bearer {orderer_token}"}, {}, "application/"),
        "register": (
            reverse("api:access_register") + "?environment=production",
            {"Authorization": f"Bearer {gateway_token}"},
            {},
            "application/",
        ),
    }
    statuses: list[int] = []

    def ask(kind: str) -> requests.Response:
        path, headers, cookies, _type = requests_of_each_kind[kind]
        response = requests.get(server.url + path, headers=headers, cookies=cookies, timeout=10, allow_redirects=False)
        statuses.append(response.status_code)
        return response

    for kind in requests_of_each_kind:
        assert ask(kind).status_code == 200, kind  # the server's kept connection is open through the proxy

    proxy.stop()
    for _round in range(3):
        for kind, (_path, _headers, _cookies, content_type) in requests_of_each_kind.items():
            response = ask(kind)
            assert response.status_code == 503, (kind, response.text[:500])
            assert response.headers["Retry-After"] == str(RETRY_AFTER)
            expected = "application/problem+json" if kind in ("api", "register") else content_type
            assert response.headers["Content-Type"].startswith(expected), kind
    assert "Opus Adgang kan ikke nå sin database lige nu" in ask("page").text
    assert json.loads(ask("register").content)["code"] == "database_unreachable"

    proxy.start()
    for kind in requests_of_each_kind:
        assert ask(kind).status_code == 200, kind

    assert 500 not in statuses and 400 not in statuses
    log = server.log.read_text(errors="replace")
    assert log.count("The database cannot be reached") == 1, log
    assert log.count("The database answers again after") == 1, log
    assert "requests were answered 503 meanwhile" in log
    assert "Traceback" not in log and "Internal Server Error" not in log, log
