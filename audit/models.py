"""The audit trail: an append-only, keyed chain of what happened, whoever made it happen.

Every app records its writes here through one function (`audit.trail.audit_record`). An event stores codes
and parameters, read at read time in the reader's language (`audit/vocabulary.py`); its actor is a person,
or a system job named by `job` (the nightly closure, the test-access sweep), never a stand-in user.

The audit app sits below every other app (.importlinter) and imports none of them. Its events point at
the order they are about through a foreign key to `ordering.AccessOrder` named as a string, the one
thing it knows of ordering: most events are about an order, and the database keeps that link honest.
"""

import datetime
import hashlib
import hmac
import json

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from . import vocabulary
from .keys import configured_key


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("Audit events are append-only.")

    def delete(self):
        raise PermissionError("Audit events are append-only.")


class ActorKind(models.TextChoices):
    PERSON = "person", _("A person")
    SYSTEM = "system", _("Opus Adgang, automatically")


class AuditEvent(models.Model):
    """An append-only record of one write, chained to the previous event by a keyed hash.

    `seq` numbers every event without gaps; AuditHead remembers the last one so that deleting the newest
    event is detected as well as altering or deleting any earlier one. The hash is an HMAC with a key the
    database does not hold (settings.AUDIT_HMAC_KEY), so someone who can write to the database cannot
    recompute the chain after changing it.

    Most events are about an order. Those that are not (a price list changed, a token issued) name their
    own object in `subject_type`/`subject_id`; events about an order may name a more precise one as well.
    """

    seq = models.PositiveBigIntegerField(_("number"), unique=True)
    order = models.ForeignKey(
        "ordering.AccessOrder",
        verbose_name=_("order"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="events",
    )
    # A registered kind (audit/vocabulary.py); no `choices`, so that a new kind needs no migration.
    kind = models.CharField(_("kind"), max_length=40)
    subject_type = models.ForeignKey(
        "contenttypes.ContentType",
        null=True,
        blank=True,
        verbose_name=_("subject type"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    subject_id = models.CharField(_("subject id"), max_length=40, blank=True)
    from_state = models.CharField(_("from"), max_length=20, blank=True)
    to_state = models.CharField(_("to"), max_length=20, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    actor_kind = models.CharField(_("actor kind"), max_length=10, choices=ActorKind.choices, default=ActorKind.PERSON)
    job = models.CharField(_("job"), max_length=60, blank=True, help_text=_("The system job that acted."))
    actor_role = models.CharField(_("role"), max_length=20, blank=True)
    created_at = models.DateTimeField(_("time"))
    comment = models.TextField(_("comment"), blank=True, help_text=_("What the person typed, as typed."))
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    prev_hash = models.CharField(_("previous hash"), max_length=64)
    hash = models.CharField(_("hash"), max_length=64, unique=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["seq"]
        indexes = [
            # The events of one kind: a checkpoint counts the orders' creations holding the head's lock
            # (audit.verification), an addendum's "Generate again" is found by its order and kind.
            models.Index(fields=["kind", "order", "seq"], name="audit_event_kind_order_seq"),
            # An order's newest events: the lists' "waiting since" (ordering.audit), the page's history.
            models.Index(fields=["order", "-seq"], name="audit_event_order_newest"),
        ]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        constraints = [
            models.CheckConstraint(
                condition=Q(order__isnull=False) | Q(subject_type__isnull=False),
                name="audit_event_is_about_something",
            ),
            models.CheckConstraint(
                condition=(Q(actor_kind=ActorKind.PERSON, actor__isnull=False, job=""))
                | Q(actor_kind=ActorKind.SYSTEM, actor__isnull=True) & ~Q(job=""),
                name="audit_event_actor_is_a_person_or_a_job",
            ),
        ]

    def __str__(self) -> str:
        moved = f": {self.get_from_state_display()} → {self.get_to_state_display()}" if self.to_state else ""
        return f"#{self.seq} {self.get_kind_display()}{moved}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Audit events are append-only.")

    def get_kind_display(self) -> str:
        return vocabulary.kind_label(self.kind)

    def get_from_state_display(self) -> str:
        return vocabulary.label("state", self.from_state)

    def get_to_state_display(self) -> str:
        return vocabulary.label("state", self.to_state)

    def get_actor_role_display(self) -> str:
        return vocabulary.label("role", self.actor_role)

    @property
    def actor_name(self) -> str:
        """Who acted, as a page shows it: the person, or Opus Adgang itself."""
        if self.actor_kind == ActorKind.SYSTEM:
            return str(ActorKind.SYSTEM.label)
        return str(self.actor)

    @property
    def summary(self) -> list[str]:
        """The sentences the event's parameters make ("Access ends on 31.12.2026."), in the reader's language."""
        return vocabulary.sentences(self.params or {})

    @property
    def comment_for_reader(self) -> str:
        """The sentences the parameters make, then what the person typed. Events recorded before the trail
        had parameters keep their comment as it was written."""
        return "\n".join([*self.summary, *([self.comment] if self.comment else [])])

    def sealed_content(self) -> dict:
        """What the hash covers: every field but the hash itself.

        The fields the trail gained when it moved into its own app (`params`, `actor_kind`, `job`) are
        sealed when they differ from their defaults, so every event recorded before keeps its seal.
        """
        content = {
            "seq": self.seq,
            "order": self.order_id,
            "kind": self.kind,
            "subject_type": self.subject_type_id,
            "subject_id": self.subject_id,
            "from": self.from_state,
            "to": self.to_state,
            "actor": self.actor_id,
            "role": self.actor_role,
            "at": self.created_at.astimezone(datetime.UTC).isoformat(),
            "comment": self.comment,
            "prev": self.prev_hash,
        }
        if self.params:
            content["params"] = self.params
        if self.actor_kind != ActorKind.PERSON or self.job:
            content["actor_kind"], content["job"] = self.actor_kind, self.job
        return content

    def compute_hash(self, key: bytes | None = None) -> str:
        canonical = json.dumps(self.sealed_content(), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        key = audit_hmac_key() if key is None else key
        return hmac.new(key, canonical.encode("utf-8"), hashlib.sha256).hexdigest()


def audit_hmac_key() -> bytes:
    return configured_key("AUDIT_HMAC_KEY").encode("utf-8")


# The `prev_hash` of the first event: it follows nothing.
GENESIS_HASH = "0" * 64


def head_seal(seq: int, hash: str, key: bytes | None = None) -> str:
    """The keyed seal over the head's (seq, hash): whoever lacks AUDIT_HMAC_KEY cannot set the head back to an
    earlier event after deleting the newest ones, since they cannot seal the earlier head. Its own domain
    ("audit-head"), so that no event's seal is ever a valid head seal."""
    key = audit_hmac_key() if key is None else key
    return hmac.new(key, f"audit-head|{seq}|{hash}".encode("ascii"), hashlib.sha256).hexdigest()


class AuditHead(models.Model):
    """The single row that names the newest audit event, sealed (`head_seal`); locked while appending."""

    id = models.PositiveSmallIntegerField(_("ID"), primary_key=True, default=1)
    seq = models.PositiveBigIntegerField(_("number"), default=0)
    hash = models.CharField(_("hash"), max_length=64, default="0" * 64)
    seal = models.CharField(_("seal"), max_length=64, blank=True, default="")

    class Meta:
        verbose_name = _("audit trail head")
        verbose_name_plural = _("audit trail heads")

    def __str__(self) -> str:
        return f"audit head #{self.seq}"
