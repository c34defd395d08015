"""The dated line the app writes at the top of an audit comment ("Access ends on 31.12.2026."), read in any language.

The audit trail keeps a comment as written, in the language of whoever acted: it is part of the hashed
chain. Its first line, stating the date decided, is the app's own text, though, so a page shows it in the
reader's language, rendered again from the date it names; what the person typed below it stays as typed.
"""

import datetime
import functools
import re

from django.conf import settings
from django.utils import formats, translation
from django.utils.translation import gettext, gettext_noop

WISHED_CLOSING_DATE = gettext_noop("Wished closing date: %(date)s.")
ACCESS_ENDS = gettext_noop("Access ends on %(date)s.")
SCHEDULED_CLOSURE_CANCELLED = gettext_noop("The closure scheduled for %(date)s is cancelled.")
TEMPLATES = (WISHED_CLOSING_DATE, ACCESS_ENDS, SCHEDULED_CLOSURE_CANCELLED)

# Django's date format characters that a short date uses, as strptime's.
_STRPTIME = {"d": "%d", "j": "%d", "m": "%m", "n": "%m", "Y": "%Y", "y": "%y"}


def dated_line(template: str, day: datetime.date) -> str:
    """The line in the active language, with the date as that language writes it (28.11.2026, 28/11/2026)."""
    return gettext(template) % {"date": formats.date_format(day, "SHORT_DATE_FORMAT")}


@functools.cache
def _readers(language: str) -> tuple[tuple[str, re.Pattern, str], ...]:
    with translation.override(language):
        date_format = "".join(_STRPTIME.get(c, c) for c in formats.get_format("SHORT_DATE_FORMAT"))
        readers = []
        for template in TEMPLATES:
            before, _, after = gettext(template).partition("%(date)s")
            readers.append((template, re.compile(rf"{re.escape(before)}(?P<date>\S+?){re.escape(after)}"), date_format))
    return tuple(readers)


def read_dated_line(line: str) -> tuple[str, datetime.date] | None:
    """(template, date) of a line the app wrote in any of its languages; None for anything else."""
    for language, _name in settings.LANGUAGES:
        for template, pattern, date_format in _readers(language):
            found = pattern.fullmatch(line.strip())
            if found:
                try:
                    return template, datetime.datetime.strptime(found["date"], date_format).date()
                except ValueError:
                    continue
    return None


def is_dated_line(line: str) -> bool:
    return read_dated_line(line) is not None


def in_reader_language(comment: str) -> str:
    """The comment with its dated first line, if it has one, in the active language."""
    first, newline, rest = comment.partition("\n")
    found = read_dated_line(first)
    if found is None:
        return comment
    return dated_line(*found) + newline + rest
