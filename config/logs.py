"""Log records as one JSON object per line, for production (LOG_FORMAT=json, settings.LOGGING).

Every record becomes {"time", "level", "logger", "message", ...}: the fields code passes with
`extra=` (`logger.error("Rendering failed", extra={"order": 12, "addendum": 7})`) become keys of
their own, so a log search can find every line about one order or event. The security log's
fields (config/security.py passes them as `extra={"security": {...}}`) are spread the same way.
"""

import json
import logging
from datetime import UTC, datetime

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
