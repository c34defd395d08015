"""Re-seal the audit chain with the keyed hash (HMAC-SHA-256, settings.AUDIT_HMAC_KEY).

Before this migration each event was sealed with a plain SHA-256, which anyone with database access
could recompute. The operator runs this once, with the production key in the environment, before the
trigger in 0006 makes the table append-only; a first signed checkpoint right after pins the result
(README.md, "Audit trail"). The computation is written out here so that later changes to the model's
code cannot change what this migration did.
"""

import datetime
import hashlib
import hmac
import json

from django.conf import settings
from django.db import migrations


def seal(event, key: bytes) -> str:
    content = {
        "seq": event.seq,
        "order": event.order_id,
        "kind": event.kind,
        "subject_type": event.subject_type_id,
        "subject_id": event.subject_id,
        "from": event.from_state,
        "to": event.to_state,
        "actor": event.actor_id,
        "role": event.actor_role,
        "at": event.created_at.astimezone(datetime.UTC).isoformat(),
        "comment": event.comment,
        "prev": event.prev_hash,
    }
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hmac.new(key, canonical.encode("utf-8"), hashlib.sha256).hexdigest()


def reseal(apps, schema_editor):
    AuditEvent = apps.get_model("ordering", "AuditEvent")
    AuditHead = apps.get_model("ordering", "AuditHead")
    key = settings.AUDIT_HMAC_KEY.encode("utf-8")
    prev = "0" * 64
    # Hashes are unique: write each under a temporary value first so no two rows collide mid-way.
    events = list(AuditEvent.objects.order_by("seq"))
    for event in events:
        event.prev_hash = prev
        event.hash = seal(event, key)
        prev = event.hash
    for event in events:
        AuditEvent.objects.filter(pk=event.pk).update(hash=f"~{event.pk}")
    for event in events:
        AuditEvent.objects.filter(pk=event.pk).update(prev_hash=event.prev_hash, hash=event.hash)
    if events:
        AuditHead.objects.update_or_create(pk=1, defaults={"seq": events[-1].seq, "hash": prev})


class Migration(migrations.Migration):
    dependencies = [("ordering", "0004_audit_event_kind")]

    operations = [migrations.RunPython(reseal, migrations.RunPython.noop)]
