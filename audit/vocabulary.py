"""The words an audit event is read in: its kind, the states and role it names, the sentences its parameters make.

An event stores codes and parameters, never prose in the writer's language: `kind="schedule_closure"`,
`params={"ends_on": "2026-12-31"}`. Each app that records events registers what its codes mean in its
AppConfig.ready() — its kinds (`register_kinds`), and, for ordering, the states and roles an event names
and the sentence each dated parameter makes. A page, an e-mail or the API renders them at read time in the
reader's language. A new kind therefore needs no migration and no change here, in any app.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum

from django.template.defaultfilters import filesizeformat
from django.utils import formats
from django.utils.translation import gettext


@dataclass(frozen=True)
class Kind:
    value: str
    label: str  # lazy: read with str() in the reader's language
    app: str
    published: bool  # offered to webhook endpoints (webhooks/services.py)


_kinds: dict[str, Kind] = {}
_checkpoint_after: set[str] = set()
_labels: dict[str, dict[str, str]] = {"state": {}, "role": {}}
_sentences: dict[str, str] = {}


def register_kinds(app: str, kinds: type[Enum], *, published: bool = True) -> None:
    """Make an app's kinds known: a TextChoices whose labels are lazy translations.

    `published=False` keeps the kinds out of webhooks (e.g. a token issued: KMD's own record only). A value
    another app registered already is refused: a kind has one meaning.
    """
    for member in kinds:  # all checked before any is registered: a refused call changes nothing
        known = _kinds.get(member.value)
        if known is not None and known.app != app:
            raise ValueError(f"Audit kind {member.value!r} is registered by {known.app} already.")
    for member in kinds:
        _kinds[member.value] = Kind(member.value, member.label, app, published)


def register_checkpoint_after(*values: str) -> None:
    """Kinds so weighty (an acceptance, an emergency closure) that a signed checkpoint is written right after
    each, rather than at the next interval (audit/checkpoints.py)."""
    for value in values:
        kind(value)  # a registered kind, or refused
    _checkpoint_after.update(values)


def checkpoint_after(value: str) -> bool:
    return value in _checkpoint_after


def kind(value: str) -> Kind:
    """The registered kind; a value nobody registered is an error, never a silently unreadable event."""
    try:
        return _kinds[value]
    except KeyError:
        raise ValueError(
            f"Unknown audit kind {value!r}: register it in its app's ready() (audit/vocabulary.py)."
        ) from None


def kind_label(value: str) -> str:
    found = _kinds.get(value)
    return str(found.label) if found is not None else value


def all_kinds() -> list[Kind]:
    return list(_kinds.values())


def published_kinds() -> list[Kind]:
    return [k for k in _kinds.values() if k.published]


def published_choices() -> list[tuple[str, str]]:
    """The kinds a webhook endpoint may subscribe to, as form choices (a callable: read after every app's
    ready())."""
    return [(k.value, k.label) for k in published_kinds()]


def is_published(value: str) -> bool:
    found = _kinds.get(value)
    return found is not None and found.published


def register_labels(field: str, choices: type[Enum]) -> None:
    """The readable names of the codes an event stores in `from_state`/`to_state` ("state") or `actor_role`
    ("role"), or in a parameter of that name (billing's "adjustment_kind")."""
    _labels.setdefault(field, {}).update({member.value: member.label for member in choices})


def label(field: str, value: str) -> str:
    found = _labels[field].get(value)
    return str(found) if found is not None else value


def register_sentence(param: str, template: str) -> None:
    """The sentence an event carrying `param` makes: `template` is a gettext_noop text whose placeholders
    name the event's parameters (`%(ends_on)s`). A parameter whose name ends in `_on` is an ISO date
    ("2026-12-31") and reads as the reader's language writes a date; one ending in `_kr`, an amount in
    kroner ("-500.00", stored as text), reads "-500,00 kr." in Danish; one ending in `_bytes`, a size
    ("2,8 KB"); one named like a field given labels (`register_labels`), that label."""
    if param in _sentences and _sentences[param] != template:
        raise ValueError(f"The audit parameter {param!r} has a sentence already.")
    _sentences[param] = template


def sentences(params: dict) -> list[str]:
    """The sentences an event's parameters make, in the active language, in the order they were registered
    (PostgreSQL's jsonb keeps no key order)."""
    values = {name: _readable(name, value) for name, value in params.items()}
    return [gettext(template) % values for param, template in _sentences.items() if params.get(param)]


def _readable(name: str, value):
    if name.endswith("_on") and isinstance(value, str):
        return formats.date_format(datetime.date.fromisoformat(value), "SHORT_DATE_FORMAT")
    if name.endswith("_kr") and isinstance(value, str | int):
        amount = formats.number_format(Decimal(value), 2, use_l10n=True, force_grouping=True)
        return f"{amount} kr."
    if name.endswith("_number") and isinstance(value, str | int):
        return formats.number_format(Decimal(value), use_l10n=True, force_grouping=True)
    if name.endswith("_bytes") and isinstance(value, int):
        return filesizeformat(value)
    if name in _labels and name not in ("state", "role") and isinstance(value, str):
        return label(name, value)
    return value
