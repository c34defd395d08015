"""A credential sent in a URL's query string (`?token=…`) is refused as before and written to no log."""

import io
import logging

import pytest
from django.urls import reverse
from django.utils.log import ServerFormatter

from config.logs import JsonLinesFormatter, redact_query, redact_urls

SECRET = "oa_secretvalue"
TEXT = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")


@pytest.fixture
def every_record(monkeypatch):
    """Every record any logger hands to its handlers, at DEBUG, including loggers that do not propagate."""
    loggers = [
        logging.root,
        *(each for each in logging.root.manager.loggerDict.values() if isinstance(each, logging.Logger)),
    ]
    for logger in loggers:
        monkeypatch.setattr(logger, "level", logging.DEBUG)
        monkeypatch.setattr(logger, "disabled", False)
    logging.getLogger().manager._clear_cache()
    records = []
    handle = logging.Logger.callHandlers

    def spy(self, record):
        records.append(record)
        return handle(self, record)

    monkeypatch.setattr(logging.Logger, "callHandlers", spy)
    yield records
    logging.getLogger().manager._clear_cache()


def everything_written(record: logging.LogRecord) -> str:
    """What any handler could write of a record: its message, both formats, and every attribute."""
    return "\n".join(
        [
            record.getMessage(),
            JsonLinesFormatter().format(record),
            TEXT.format(record),
            *(f"{key}={value!r} {value!s}" for key, value in vars(record).items()),
        ]
    )


def assert_written_nowhere(records: list[logging.LogRecord]) -> None:
    assert records, "nothing was logged: the test would prove nothing"
    for record in records:
        assert SECRET not in everything_written(record), record.name


@pytest.mark.parametrize(
    "query",
    [
        f"token={SECRET}",
        f"access_token={SECRET}",
        f"api_key={SECRET}",
        f"limit=5&TOKEN={SECRET}",
        f"%74oken={SECRET}",
    ],
)
@pytest.mark.django_db
def test_a_token_in_the_query_string_is_refused_and_written_to_no_log(client, every_record, query):
    response = client.get(f"/api/v1/orders/?{query}")
    assert response.status_code == 401
    assert_written_nowhere(every_record)


def test_the_log_still_shows_that_a_token_was_sent_in_the_url(client, db, every_record):
    client.get(f"/api/v1/orders/?token={SECRET}")
    [refused] = [record for record in every_record if record.name == "django.request"]
    assert "/api/v1/orders/?token=[redacted]" in JsonLinesFormatter().format(refused)


def test_a_token_in_the_url_of_a_page_is_written_to_no_log_either(cast, order_in, client, every_record, security_log):
    # Another customer's order: a 404 in Django's request log and a line in the security log.
    client.force_login(cast.orderer_b)
    response = client.get(reverse("ordering:order_detail", args=[order_in("submitted").pk]) + f"?token={SECRET}")
    assert response.status_code == 404
    assert security_log("other_customers_object")
    assert_written_nowhere(every_record)


def test_runservers_access_line_is_written_without_the_token():
    # The handler settings.LOGGING gives runserver's lines (pytest adds its own beside it).
    [handler] = [
        each for each in logging.getLogger("django.server").handlers if isinstance(each.formatter, ServerFormatter)
    ]
    stream = io.StringIO()
    original = handler.setStream(stream)
    try:
        logging.getLogger("django.server").warning(
            '"%s" %s %s', f"GET /api/v1/orders/?page=2&token={SECRET} HTTP/1.1", "401", "58", extra={"status_code": 401}
        )
    finally:
        handler.setStream(original)
    assert "GET /api/v1/orders/?page=2&token=[redacted] HTTP/1.1" in stream.getvalue()
    assert SECRET not in stream.getvalue()


@pytest.mark.parametrize(
    ("query", "written"),
    [
        ("token=abc", "token=[redacted]"),
        ("page=2&token=abc&limit=5", "page=2&token=[redacted]&limit=5"),
        ("a=1;api_key=abc", "a=1;api_key=[redacted]"),
        ("Access_Token=abc", "Access_Token=[redacted]"),
        ("%74oken=abc", "%74oken=[redacted]"),
        ("token=", "token=[redacted]"),
        # Not a credential's name: kept.
        ("tokens=abc", "tokens=abc"),
        ("mytoken=abc", "mytoken=abc"),
        ("q=token%3Dabc", "q=token%3Dabc"),
        ("token", "token"),
        ("", ""),
    ],
)
def test_only_the_credentials_values_are_replaced(query, written):
    assert redact_query(query) == written


def test_every_url_in_a_text_is_redacted():
    text = "GET /a/?token=x HTTP/1.1 then https://e.example/b?page=1&api_key=y#top"
    assert (
        redact_urls(text) == "GET /a/?token=[redacted] HTTP/1.1 then https://e.example/b?page=1&api_key=[redacted]#top"
    )
