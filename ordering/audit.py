"""Appending to and verifying the hash-chained audit trail."""

from dataclasses import dataclass

from django.utils import timezone

from .models import AccessOrder, AuditEvent, AuditHead

GENESIS_HASH = "0" * 64


def audit_record(
    *, order: AccessOrder, actor, role: str, transition: str, from_state: str, to_state: str, comment: str = ""
) -> AuditEvent:
    """Append one event. Call inside the transaction that makes the change it records."""
    # The head row serialises appends, so `seq` has no gaps and each event links to the one before.
    head, _ = AuditHead.objects.select_for_update().get_or_create(pk=1)
    event = AuditEvent(
        seq=head.seq + 1,
        order=order,
        transition=transition,
        from_state=from_state,
        to_state=to_state,
        actor=actor,
        actor_role=role,
        created_at=timezone.now(),
        comment=comment,
        prev_hash=head.hash,
    )
    event.hash = event.compute_hash()
    event.save()
    head.seq, head.hash = event.seq, event.hash
    head.save(update_fields=["seq", "hash"])
    return event


@dataclass(frozen=True)
class ChainProblem:
    seq: int
    message: str


def audit_verify() -> ChainProblem | None:
    """Walk the whole chain; return the first problem found, or None when it is intact."""
    expected_seq, prev_hash = 1, GENESIS_HASH
    for event in AuditEvent.objects.order_by("seq").iterator(chunk_size=2000):
        if event.seq != expected_seq:
            return ChainProblem(expected_seq, f"event #{expected_seq} is missing (next found is #{event.seq})")
        if event.prev_hash != prev_hash:
            return ChainProblem(event.seq, f"event #{event.seq} does not link to the event before it")
        if event.compute_hash() != event.hash:
            return ChainProblem(event.seq, f"event #{event.seq} was altered: its content does not match its hash")
        expected_seq, prev_hash = event.seq + 1, event.hash
    head = AuditHead.objects.filter(pk=1).first()
    last_seq = expected_seq - 1
    if head is None:
        return ChainProblem(last_seq, "the chain head is missing") if last_seq else None
    if head.seq != last_seq or head.hash != prev_hash:
        if head.seq > last_seq:
            return ChainProblem(last_seq + 1, f"event #{last_seq + 1} is missing (the newest recorded is #{head.seq})")
        return ChainProblem(last_seq, f"the chain head does not match event #{last_seq}")
    return None
