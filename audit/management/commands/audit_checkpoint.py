from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from audit.keys import require_keys
from audit.verification import audit_checkpoint_write


class Command(BaseCommand):
    help = "Sign the audit trail's head (sequence, hash, time, counts) with Ed25519 and write it to a new file."
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--dir", type=Path, help="Where to write it (default: AUDIT_CHECKPOINT_DIR).")

    def handle(self, *args, dir: Path | None = None, **options):
        try:
            require_keys("AUDIT_CHECKPOINT_KEY")
        except ImproperlyConfigured as missing:  # a checkpoint signed with no key, or a published one, proves nothing
            raise CommandError(str(missing)) from missing
        checkpoint, path = audit_checkpoint_write(directory=dir)
        self.stdout.write(f"Checkpoint at event #{checkpoint.seq} ({checkpoint.orders} orders) written to {path}")
