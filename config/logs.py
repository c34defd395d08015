"""Log records as one JSON object per line, for production (LOG_FORMAT=json, settings.LOGGING).

Every record becomes {"time", "level", "logger", "message", ...}: the fields code passes with
`extra=` (`logger.error("Rendering failed", extra={"order": 12, "addendum": 7})`) become keys of
their own, so a log search can find every line about one order or event. The security log's
fields (config/security.py passes them as `extra={"security": {...}}`) are spread the same way.

A credential sent in a URL's query string (`?token=…`) is never written: config.middleware.QuerySecretsMiddleware
replaces it in the request before anything logs the request, and RedactQuerySecrets does the same to the text
of every record the handlers write (runserver's access lines hold the URL as sent).
"""

import json
import logging
import re
from datetime import UTC, datetime
from urllib.parse import unquote_plus

# What every LogRecord carries by itself; anything else on a record came from `extra=`.
_RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class JsonLinesFormatter(logging.Formatter):
    """One JSON object per line; json.dumps escapes newlines, so logged text cannot forge a line."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        extra = {key: value for key, value in vars(record).items() if key not in _RECORD_ATTRIBUTES}
        extra.update(extra.pop("security", None) or {})
        for key, value in extra.items():
            line.setdefault(key, value)  # an extra field never replaces time, level, logger or message
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


# Query parameters that carry a credential by name. The app reads none of them (API tokens come in the
# Authorization header only), but a client may still put one in a URL, and logs, proxies and browser
# histories keep URLs.
QUERY_SECRETS = frozenset({"token", "access_token", "api_key"})
REDACTED = "[redacted]"
_QUERY_IN_TEXT = re.compile(r"\?([^\s#\"'<>]*)")


def redact_query(query: str) -> str:
    """The query string with each QUERY_SECRETS parameter's value replaced: `token=oa_x&page=2` → `token=[redacted]&page=2`.

    A parameter's name is compared decoded and in any case (`%74oken`, `TOKEN`), as a server reading it would.
    """
    parts = re.split(r"([&;])", query)
    for index in range(0, len(parts), 2):
        name, equals, _value = parts[index].partition("=")
        if equals and unquote_plus(name).strip().lower() in QUERY_SECRETS:
            parts[index] = f"{name}={REDACTED}"
    return "".join(parts)


def redact_urls(text: str) -> str:
    """Every query string in a text (a request line, a message naming a URL) with its secrets replaced."""
    return _QUERY_IN_TEXT.sub(lambda match: "?" + redact_query(match.group(1)), text)


class RedactQuerySecrets(logging.Filter):
    """A handler's filter (settings.LOGGING): the record's message with the secrets of any URL in it replaced."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is the handler's to report, not ours
            return True
        redacted = redact_urls(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True
