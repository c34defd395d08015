"""Checkpointing and verifying the audit trail.

Three layers make a quiet rewrite detectable:

1. every event is chained to the one before by an HMAC whose key lives in the environment, not in
   the database, so changing an event means recomputing hashes nobody with only database access can;
2. signed checkpoints of the head (sequence, hash, counts), written outside the database, pin the
   chain: events before a checkpoint cannot be removed or rewritten, even by someone with the key;
3. the apps cross-check their own records against their events (`register_check`; ordering: an order
   without a creation event, or whose state is not the state its newest event left it in, shows that
   events were removed).

On PostgreSQL a trigger also refuses UPDATE, DELETE and TRUNCATE on the table (audit migration 0002).
"""

import base64
import bisect
import datetime
import hmac
import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .keys import configured_key
from .models import GENESIS_HASH, AuditEvent, AuditHead, audit_hmac_key, head_seal

# The kind of the event that creates what a checkpoint counts (ordering's "order created"): a checkpoint
# pins how many there were, so a creation removed later shows.
COUNTED_KIND = "create"

_checks: list[Callable[[], list["ChainProblem"]]] = []


def register_check(check: Callable[[], list["ChainProblem"]]) -> None:
    """A cross-check of an app's own records against their events, run by `audit_verify` (ordering's: each
    order has its creation event and is in the state its newest event left it in)."""
    if check not in _checks:
        _checks.append(check)


# --- Verification ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainProblem:
    seq: int
    message: str


def audit_verify(
    *, checkpoints: Iterable["Checkpoint"] = (), anchored: bool = False, now: datetime.datetime | None = None
) -> list[ChainProblem]:
    """Check the chain, the checkpoints it must still contain, and the orders against their events; `anchored`:
    also that recent checkpoints pin it (`anchor_problems`).

    Returns every problem found (empty when all is well); the chain walk stops at its first break,
    since everything after a break is unanchored.
    """
    checkpoints = list(checkpoints)
    problems = []
    chain_problem = _verify_chain()
    if chain_problem is not None:
        problems.append(chain_problem)
    if anchored:
        head = AuditHead.objects.filter(pk=1).first()
        problems.extend(anchor_problems(checkpoints, head_seq=head.seq if head else 0, now=now or timezone.now()))
    problems.extend(_verify_checkpoints(checkpoints))
    for check in _checks:
        problems.extend(check())
    return problems


def _verify_chain() -> ChainProblem | None:
    key = audit_hmac_key()
    expected_seq, prev_hash = 1, GENESIS_HASH
    for event in AuditEvent.objects.order_by("seq").iterator(chunk_size=2000):
        if event.seq != expected_seq:
            return ChainProblem(expected_seq, f"event #{expected_seq} is missing (next found is #{event.seq})")
        if event.prev_hash != prev_hash:
            return ChainProblem(event.seq, f"event #{event.seq} does not link to the event before it")
        if event.compute_hash(key) != event.hash:
            return ChainProblem(event.seq, f"event #{event.seq} was altered: its content does not match its seal")
        expected_seq, prev_hash = event.seq + 1, event.hash
    head = AuditHead.objects.filter(pk=1).first()
    last_seq = expected_seq - 1
    if head is None:
        return ChainProblem(last_seq, "the chain head is missing") if last_seq else None
    if head.seq != last_seq or head.hash != prev_hash:
        if head.seq > last_seq:
            return ChainProblem(last_seq + 1, f"event #{last_seq + 1} is missing (the newest recorded is #{head.seq})")
        return ChainProblem(last_seq, f"the chain head does not match event #{last_seq}")
    if head.seq and not hmac.compare_digest(head.seal, head_seal(head.seq, head.hash, key)):
        # The head names the newest event but was not sealed with the key: newer events were removed and the
        # head set back, or the head was edited.
        return ChainProblem(
            head.seq,
            f"the chain head (event #{head.seq}) is not sealed with the key: newer events may have been removed",
        )
    return None


# --- Signed checkpoints ------------------------------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    hash: str
    at: str
    orders: int
    events: int
    signature: str
    name: str = ""

    def payload(self) -> bytes:
        content = {"seq": self.seq, "hash": self.hash, "at": self.at, "orders": self.orders, "events": self.events}
        return json.dumps(content, sort_keys=True, separators=(",", ":")).encode()


def _signing_key() -> Ed25519PrivateKey:
    seed = base64.b64decode(configured_key("AUDIT_CHECKPOINT_KEY"))
    if len(seed) != 32:
        raise ValueError("AUDIT_CHECKPOINT_KEY must be 32 random bytes in base64 (README.md).")
    return Ed25519PrivateKey.from_private_bytes(seed)


def checkpoint_public_key() -> Ed25519PublicKey:
    """The key checkpoints are verified with: the published public key, or the signing key's own."""
    if settings.AUDIT_CHECKPOINT_PUBLIC_KEY:
        return Ed25519PublicKey.from_public_bytes(base64.b64decode(settings.AUDIT_CHECKPOINT_PUBLIC_KEY))
    return _signing_key().public_key()


def audit_checkpoint_write(*, directory: Path | None = None) -> tuple[Checkpoint, Path]:
    """Sign the current head and write it as a new file; an existing file is never overwritten."""
    directory = Path(directory or settings.AUDIT_CHECKPOINT_DIR)
    key = _signing_key()
    with transaction.atomic():
        # Holding the head lock: no event is appended between reading the head and counting.
        head, _ = AuditHead.objects.select_for_update().get_or_create(pk=1)
        orders = AuditEvent.objects.filter(kind=COUNTED_KIND, seq__lte=head.seq).count()
        unsigned = Checkpoint(
            seq=head.seq,
            hash=head.hash,
            at=timezone.now().astimezone(datetime.UTC).isoformat(),
            orders=orders,
            events=head.seq,
            signature="",
        )
    signature = base64.b64encode(key.sign(unsigned.payload())).decode()
    directory.mkdir(parents=True, exist_ok=True)
    stamp = unsigned.at.replace(":", "").replace("-", "").split(".")[0].split("+")[0]
    path = directory / f"audit-checkpoint-{unsigned.seq:012d}-{stamp}.json"
    body = json.loads(unsigned.payload()) | {"signature": signature}
    _write_whole(path, (json.dumps(body, indent=2, sort_keys=True) + "\n").encode())
    return Checkpoint(**{k: body[k] for k in ("seq", "hash", "at", "orders", "events", "signature")}), path


def _write_whole(path: Path, data: bytes) -> None:
    """A checkpoint file whole or not at all: a full disk (a short write, ENOSPC) removes what was begun, so
    no cut-off checkpoint is left for `verify_audit_log --checkpoints` to fail on. O_EXCL: a checkpoint is
    written once; two in the same second with the same head are the same."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        path.unlink(missing_ok=True)
        raise
    os.close(fd)


class CheckpointUnreadable(Exception):
    pass


def checkpoints_in(directory: Path) -> list[Checkpoint]:
    checkpoints = []
    for path in sorted(Path(directory).glob("audit-checkpoint-*.json")):
        try:
            body = json.loads(path.read_text())
            datetime.datetime.fromisoformat(str(body["at"]))  # a time the anchor check can compare
            checkpoints.append(
                Checkpoint(
                    seq=int(body["seq"]),
                    hash=str(body["hash"]),
                    at=str(body["at"]),
                    orders=int(body["orders"]),
                    events=int(body["events"]),
                    signature=str(body["signature"]),
                    name=path.name,
                )
            )
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise CheckpointUnreadable(f"checkpoint {path.name} cannot be read: {error}") from error
    return checkpoints


def anchor_problems(checkpoints: list[Checkpoint], *, head_seq: int, now: datetime.datetime) -> list[ChainProblem]:
    """Without a recent checkpoint the newest events are pinned by nothing but the head's seal, which a writer
    holding AUDIT_HMAC_KEY can redo: no checkpoint at all, the newest older than AUDIT_CHECKPOINT_EVERY_MINUTES
    plus AUDIT_CHECKPOINT_GRACE_MINUTES, or the trail more than AUDIT_CHECKPOINT_EVERY_EVENTS events past it,
    are each a problem."""
    if not checkpoints:
        return [ChainProblem(head_seq, "no signed checkpoint was found: nothing outside the database pins the trail")]
    newest = max(checkpoints, key=lambda checkpoint: (checkpoint.seq, checkpoint.at))
    problems = []
    allowed = datetime.timedelta(
        minutes=settings.AUDIT_CHECKPOINT_EVERY_MINUTES + settings.AUDIT_CHECKPOINT_GRACE_MINUTES
    )
    written = max(datetime.datetime.fromisoformat(checkpoint.at) for checkpoint in checkpoints)
    if now - written > allowed:
        problems.append(
            ChainProblem(
                newest.seq,
                f"the newest checkpoint was written at {written:%Y-%m-%d %H:%M} UTC, more than "
                f"{int(allowed.total_seconds() // 60)} minutes ago: checkpoints are not being written",
            )
        )
    if head_seq - newest.seq > settings.AUDIT_CHECKPOINT_EVERY_EVENTS:
        problems.append(
            ChainProblem(
                head_seq,
                f"the trail is {head_seq - newest.seq} events past the newest checkpoint (#{newest.seq}); at most "
                f"{settings.AUDIT_CHECKPOINT_EVERY_EVENTS} may be",
            )
        )
    return problems


def _verify_checkpoints(checkpoints: Iterable[Checkpoint]) -> list[ChainProblem]:
    checkpoints = list(checkpoints)
    if not checkpoints:
        return []
    public_key = checkpoint_public_key()
    by_seq = dict(AuditEvent.objects.filter(seq__in=[c.seq for c in checkpoints]).values_list("seq", "hash"))
    creations = list(AuditEvent.objects.filter(kind=COUNTED_KIND).order_by("seq").values_list("seq", flat=True))
    problems = []
    for checkpoint in checkpoints:
        try:
            public_key.verify(base64.b64decode(checkpoint.signature), checkpoint.payload())
        except (InvalidSignature, ValueError):
            problems.append(ChainProblem(checkpoint.seq, f"checkpoint {checkpoint.name} is not validly signed"))
            continue
        stored = by_seq.get(checkpoint.seq)
        orders = bisect.bisect_right(creations, checkpoint.seq)
        if checkpoint.seq and stored is None:
            problems.append(
                ChainProblem(
                    checkpoint.seq, f"event #{checkpoint.seq}, pinned by checkpoint {checkpoint.name}, is gone"
                )
            )
        elif checkpoint.seq and stored != checkpoint.hash:
            problems.append(
                ChainProblem(
                    checkpoint.seq,
                    f"event #{checkpoint.seq} differs from checkpoint {checkpoint.name}: the chain was rewritten",
                )
            )
        elif orders != checkpoint.orders:
            problems.append(
                ChainProblem(
                    checkpoint.seq,
                    f"checkpoint {checkpoint.name} counted {checkpoint.orders} orders, the chain now {orders}",
                )
            )
    return problems
