"""What the benchmarks build alike: many customers with valid EANs, and a gateway token.

Imported by the bench scripts after django.setup(); the scripts put the repository root on sys.path.
"""

import datetime


def customers(count: int, *, name: str, first_cvr: int, account_manager):
    """`count` customers (bulk-created): `name` formatted with the number, CVRs counting up from `first_cvr`.

    `account_manager` is a user, or a function of the customer's number giving one.
    """
    from ordering.models import Customer
    from ordering.validators import gs1_check_digit

    def manager(i: int):
        return account_manager(i) if callable(account_manager) else account_manager

    return Customer.objects.bulk_create(
        [
            Customer(
                name=name.format(i),
                cvr=str(first_cvr + i),
                ean=f"579800{i:06d}" + str(gs1_check_digit(f"579800{i:06d}")),
                account_manager=manager(i),
            )
            for i in range(count)
        ]
    )


def gateway_key(name: str) -> str:
    """The secret of a new gateway token for the access register, valid for 30 days."""
    from django.utils import timezone

    from accounts.tokens import token_create

    _token, key = token_create(
        user=None,
        name=name,
        scopes=["register"],
        last_day=timezone.localdate() + datetime.timedelta(days=30),
        actor=None,
        kind="gateway",
    )
    return key


def audit_append(events, *, batch_size: int = 5000) -> int:
    """Append many events to the audit trail exactly as `audit.trail.audit_record` does, in bulk.

    `events` yields dicts with `order_id`, `kind`, `actor` (a user or None), `job`, `role`, `from_state`,
    `to_state`, `at` (the event's time) and optionally `params` and `comment`, in the order they happened.
    Each gets the next `seq`, the previous event's hash as `prev_hash` and its own keyed hash
    (`AuditEvent.compute_hash`), its params stored by the trail's own rules; the head is then set to the last
    one and sealed (`head_seal`). One `audit_record` per event locks and rewrites the head each time, which at
    200,000 events takes the better part of an hour. `manage.py verify_audit_log` accepts the result (bench_pages
    checks it on its small database). Returns the number of events appended.
    """
    from django.db import transaction

    from audit import vocabulary
    from audit.models import ActorKind, AuditEvent, AuditHead, audit_hmac_key, head_seal
    from audit.trail import _stored

    key = audit_hmac_key()
    appended = 0
    with transaction.atomic():
        head, _ = AuditHead.objects.select_for_update().get_or_create(pk=1)
        seq, prev_hash, batch = head.seq, head.hash, []
        for e in events:
            actor, job = e.get("actor"), e.get("job", "")
            if (actor is None) == (not job):
                raise ValueError("An audit event is recorded by a person (actor) or by a system job (job), never both.")
            seq += 1
            event = AuditEvent(
                seq=seq,
                order_id=e["order_id"],
                kind=vocabulary.kind(e["kind"]).value,
                subject_type=None,
                subject_id="",
                from_state=e["from_state"],
                to_state=e["to_state"],
                actor_id=actor.pk if actor is not None else None,
                actor_kind=ActorKind.PERSON if actor is not None else ActorKind.SYSTEM,
                job=job,
                actor_role=e.get("role", ""),
                created_at=e["at"],
                comment=e.get("comment", ""),
                params=_stored(e.get("params") or {}),
                prev_hash=prev_hash,
            )
            event.hash = prev_hash = event.compute_hash(key)
            batch.append(event)
            if len(batch) >= batch_size:
                AuditEvent.objects.bulk_create(batch)
                appended += len(batch)
                batch = []
        if batch:
            AuditEvent.objects.bulk_create(batch)
            appended += len(batch)
        head.seq, head.hash, head.seal = seq, prev_hash, head_seal(seq, prev_hash, key)
        head.save(update_fields=["seq", "hash", "seal"])
    return appended


def api_key(user) -> str:
    """The secret of a new personal API token of `user` with the read scope, valid for 30 days."""
    from django.utils import timezone

    from accounts.tokens import token_create

    _token, key = token_create(
        user=user,
        name="bench",
        scopes=["read"],
        last_day=timezone.localdate() + datetime.timedelta(days=30),
        actor=user,
    )
    return key
