"""The access register: every access KMD's web-service gateway must allow right now, per environment.

Nothing is stored for it. The register is computed from the orders and their certificates each time
it is read, so it is exactly what the database holds: an access that a transaction closes (or
emergency-closes) is gone from the register for every reader the moment that transaction commits,
and whatever ends by the clock (a scheduled closing date, the end of a start-up package's test
access, an old certificate's overlap window, a certificate's not-after) drops out without a job.

An access is listed while it runs (`ACCESS_RUNNING_STATES`, ordering.models), that is while its order is

- `active` ("adgangen er etableret": the account manager marked it established), or
- `closure_requested`: the orderer asked for closing, and the access runs until the account manager
  closes it (docs/domain.md: "the access stays active and billed until then");

and neither its scheduled closing date (`closure_scheduled_on`, Copenhagen date) nor the end of its
test access (`TestAccess.ends_on`) has come: both are the first day without access, so the register
drops the access at midnight even if the daily task that closes it runs at 00:15. Not listed:
`provisioning` (accepted, but KMD has not established the access yet; the customer is told only at
activation), every state before it, and `closed`, `emergency_closed`, `withdrawn`, `rejected`.

Certificates (individual integration): the leaf of the order's chain in use; after a rollover also
the leaf it replaced, for ACCESS_REGISTER_ROLLOVER_OVERLAP_DAYS after the new one was put into use
(listed while `now < put into use + overlap`, gone at that instant). A certificate whose not-after has
passed (`not_after <= now`, as certificate_rollover_confirm counts it) is never listed. A standard
integration has no certificate in Opus Adgang: KMD agreed it with the vendor for the standard system
(docs/domain.md, "certificate already agreed"), so its `certificates` is null, not an empty list —
the gateway accepts the certificate it holds for that external system.

Interfaces are the order's as `AccessOrder.requested_interfaces` says (ordering.models): for a package
order the set frozen when its contract addendum was issued, never what the package holds today, so a
catalogue admin's change to a package grants no running access anything its signatory did not accept.

Reads only, a fixed number of queries however many accesses there are: one for the orders, one for their
interfaces (`requested_interfaces_of`), one for the certificates. Rows become plain dicts and the
JSON is written once, by the standard library's C encoder.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import re
from dataclasses import dataclass
from functools import cached_property

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from certificates.models import Certificate, CertificateBundle
from ordering.models import (
    ACCESS_RUNNING_STATES,
    CLOSED_STATES,
    AccessOrder,
    State,
    order_reference,
    requested_interfaces_of,
)

from . import jws

# A delta (?since=) looks this far further back than asked: a write's timestamps are taken inside its
# transaction, which may commit a moment later than a reader's `generated_at`. Entries are idempotent
# (replace or remove), so seeing one twice changes nothing.
SINCE_MARGIN = datetime.timedelta(minutes=5)


def overlap() -> datetime.timedelta:
    return datetime.timedelta(days=settings.ACCESS_REGISTER_ROLLOVER_OVERLAP_DAYS)


def listed_orders(environment: str, *, now: datetime.datetime) -> QuerySet[AccessOrder]:
    """The orders whose access is established at `now` in `environment` (the rule in the module docstring)."""
    today = timezone.localdate(now)
    return AccessOrder.objects.access_running().filter(
        Q(closure_scheduled_on__isnull=True) | Q(closure_scheduled_on__gt=today),
        Q(test_access__isnull=True) | Q(test_access__ends_on__gt=today),
        environment=environment,
    )


# --- Rows to entries ---------------------------------------------------------------------------

_RDN_ATTRIBUTE = re.compile(r"((?:[^,+\\]|\\.)+)")
_ESCAPE = re.compile(r"\\([0-9a-fA-F]{2}|.)")


def _unescape(value: str) -> str:
    return _ESCAPE.sub(lambda m: chr(int(m[1], 16)) if len(m[1]) == 2 else m[1], value)


def name_attributes(rfc4514: str) -> dict[str, str]:
    """The first value of each attribute of a name as certificates.validation stores it (RFC 4514).

    certificates.validation.describe_name reads the same string through `cryptography`, which costs
    about 70 µs a name: at 10,000 accesses most of the register's time. This split does the same for
    the names stored here (tests/registers compare the two) in a few microseconds.
    """
    attributes: dict[str, str] = {}
    for part in _RDN_ATTRIBUTE.findall(rfc4514):
        label, sep, value = part.partition("=")
        if sep and label not in attributes:
            attributes[label] = _unescape(value)
    return attributes


def _timestamp(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")


def _certificate_entry(status, superseded_at, sha256, subject, issuer, not_before, not_after, window) -> dict:
    names = name_attributes(subject)
    serial = names.get("serialNumber", "")
    previous = status == CertificateBundle.Status.SUPERSEDED
    accepted_until = min(not_after, superseded_at + window) if previous else not_after
    return {
        "sha256": sha256,
        "subject_serial_number": serial,
        "subject_uuid": serial.rsplit(":", 1)[-1] if serial.startswith("UI:") else "",
        "subject_cn": names.get("CN", ""),
        "subject": subject,
        "issuer": issuer,
        "not_before": _timestamp(not_before),
        "not_after": _timestamp(not_after),
        "role": "previous" if previous else "current",
        "accepted_until": _timestamp(accepted_until),
    }


# What an entry is made of, read in one query (bench/bench_register.py reads the same for its baseline).
ENTRY_FIELDS = (
    "pk",
    "environment",
    "integration_type",
    "activated_on",
    "closure_scheduled_on",
    "test_access__ends_on",
    "customer__name",
    "customer__cvr",
    "external_system_id",
    "external_system__name",
    "external_system__vendor__name",
    "external_system__vendor__cvr",
)
# A listed certificate's columns, its order's first (the bare-rows benchmark reads the same).
CERTIFICATE_FIELDS = (
    "bundle__order_id",
    "bundle__status",
    "bundle__superseded_at",
    "sha256",
    "subject",
    "issuer",
    "not_before",
    "not_after",
)


def access_entries(orders: QuerySet[AccessOrder], *, now: datetime.datetime) -> list[dict]:
    """One entry per order in `orders` (already filtered to listed ones), ordered by order number. Three queries."""
    ids = orders.values("pk")
    window = overlap()
    interfaces: dict[int, list[str]] = {}
    for order_id, code in requested_interfaces_of(orders, "code"):
        interfaces.setdefault(order_id, []).append(code)

    # A bundle a confirmed rollover replaced names its successor (CertificateBundle.replaced_by); a chain
    # replaced before it was ever in use (a draft's, a waiting rollover's) names none.
    was_in_use = Q(bundle__replaced_by__isnull=False)
    certificates: dict[int, list[dict]] = {}
    for order_id, *row in (
        Certificate.objects.filter(role=Certificate.Role.LEAF, bundle__order_id__in=ids, not_after__gt=now)
        .filter(
            Q(bundle__status=CertificateBundle.Status.CURRENT)
            | (
                Q(bundle__status=CertificateBundle.Status.SUPERSEDED, bundle__superseded_at__gt=now - window)
                & was_in_use
            )
        )
        .order_by("bundle__order_id", "bundle__status", "not_after", "sha256")
        .values_list(*CERTIFICATE_FIELDS)
    ):
        certificates.setdefault(order_id, []).append(_certificate_entry(*row, window))

    standard = AccessOrder.IntegrationType.STANDARD
    entries = []
    for (
        pk,
        environment,
        integration,
        activated_on,
        closure_on,
        test_ends_on,
        customer_name,
        customer_cvr,
        system_id,
        system_name,
        vendor_name,
        vendor_cvr,
    ) in orders.order_by("pk").values_list(*ENTRY_FIELDS):
        ends_on = min(d for d in (closure_on, test_ends_on) if d) if closure_on or test_ends_on else None
        entries.append(
            {
                "order": order_reference(pk),
                "customer": {"name": customer_name, "cvr": customer_cvr},
                "external_system": {"id": system_id, "name": system_name},
                "vendor": {"name": vendor_name, "cvr": vendor_cvr},
                "interfaces": sorted(interfaces.get(pk, ())),
                "environment": environment,
                "since": activated_on.isoformat() if activated_on else None,
                "ends_on": ends_on.isoformat() if ends_on else None,
                "integration_type": integration,
                "certificates": None if integration == standard else certificates.get(pk, []),
            }
        )
    return entries


# --- Changes since a moment ----------------------------------------------------------------------


def changed_orders(environment: str, *, since: datetime.datetime, now: datetime.datetime) -> QuerySet[AccessOrder]:
    """Listed orders whose entry may differ from what it was at `since`: a transition or a scheduling
    (both save `updated_at`), an extended test access, a certificate put into use, an old certificate's
    overlap ending, a certificate's not-after passing. It may name an unchanged access; never misses one."""
    window = overlap()
    bundles = CertificateBundle.objects.filter(order_id=OuterRef("pk"))
    return listed_orders(environment, now=now).filter(
        Q(updated_at__gt=since)
        | Q(test_access__extended_at__gt=since)
        | Exists(bundles.filter(confirmed_at__gt=since))
        | Exists(bundles.filter(superseded_at__gt=since - window, superseded_at__lte=now - window))
        | Exists(
            Certificate.objects.filter(
                bundle__order_id=OuterRef("pk"), role=Certificate.Role.LEAF, not_after__gt=since, not_after__lte=now
            )
        )
    )


def removed_entries(environment: str, *, since: datetime.datetime, now: datetime.datetime) -> list[dict]:
    """Accesses established at some moment after `since` that are not any more, with why. One query."""
    today, since_day = timezone.localdate(now), timezone.localdate(since)
    rows = (
        AccessOrder.objects.filter(environment=environment, activated_on__isnull=False)
        .filter(
            Q(state__in=CLOSED_STATES, updated_at__gt=since)
            | Q(state__in=ACCESS_RUNNING_STATES, closure_scheduled_on__gt=since_day, closure_scheduled_on__lte=today)
            | Q(state__in=ACCESS_RUNNING_STATES, test_access__ends_on__gt=since_day, test_access__ends_on__lte=today)
        )
        .order_by("pk")
        .values_list("pk", "state", "test_access__ends_on", "test_access__expired_on")
    )
    removed = []
    for pk, state, test_ends_on, expired_on in rows:
        if state == State.EMERGENCY_CLOSED:
            reason = "emergency_closed"
        elif expired_on or (state in ACCESS_RUNNING_STATES and test_ends_on and test_ends_on <= today):
            reason = "test_access_expired"
        else:
            reason = "closed"
        removed.append({"order": order_reference(pk), "reason": reason})
    return removed


# --- The signed document ---------------------------------------------------------------------------


def _json(value) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


@dataclass(frozen=True)
class SignedRegister:
    """The register's bytes as served and exported, its ETag, and (computed when asked) its signature."""

    body: bytes
    etag: str

    @cached_property
    def signature(self) -> str:
        return jws.sign_register(self.body)


def _signed_by() -> str:
    """The `kid` of the key that signs now; empty when none can (the register is then answered 503 unsigned)."""
    try:
        return jws.key_id(jws.signing_key().public_key())
    except ImproperlyConfigured:
        return ""


def access_register(
    environment: str, *, since: datetime.datetime | None = None, now: datetime.datetime | None = None
) -> SignedRegister:
    """The register as JSON bytes: `{"generated_at", "environment", "accesses"}`, or with `since` a delta
    `{"generated_at", "environment", "since", "accesses", "removed"}` (README.md, "Access register").

    The ETag is a hash of everything but `generated_at`, and of the key that signs it: equal whenever the content
    and the key are, so that after a key switch a gateway gets the register signed by the new key (200), not a
    304 that keeps its copy signed by the old. A `since` after `now` is taken as `now` (nothing can have changed
    later than now): a delta of nothing but the look-back.
    """
    now = now or timezone.now()
    if since is not None:
        since = min(since, now)
    if since is None:
        rest = b'"environment":' + _json(environment) + b',"accesses":'
        rest += _json(access_entries(listed_orders(environment, now=now), now=now)) + b"}"
    else:
        looked_from = since - SINCE_MARGIN
        changed = changed_orders(environment, since=looked_from, now=now)
        rest = b'"environment":' + _json(environment) + b',"since":' + _json(_timestamp(since))
        rest += b',"accesses":' + _json(access_entries(changed, now=now))
        rest += b',"removed":' + _json(removed_entries(environment, since=looked_from, now=now)) + b"}"
    etag = '"' + hashlib.sha256(rest + _signed_by().encode("ascii")).hexdigest() + '"'
    return SignedRegister(body=b'{"generated_at":' + _json(_timestamp(now)) + b"," + rest, etag=etag)
