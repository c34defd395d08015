from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from audit.models import AuditEvent
from audit.verification import CheckpointUnreadable, audit_verify, checkpoints_in


class Command(BaseCommand):
    help = (
        "Check the audit trail: its keyed chain, that every signed checkpoint is still in it, and that each "
        "order's state matches its events. Exit 0 when intact, 1 listing every problem."
    )
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument(
            "--checkpoints",
            metavar="DIR",
            type=Path,
            help=(
                "Directory of signed checkpoints (audit_checkpoint) the chain must still contain. It fails too when "
                "the directory holds none, when the newest is older than AUDIT_CHECKPOINT_EVERY_MINUTES plus "
                "AUDIT_CHECKPOINT_GRACE_MINUTES, or when the trail is more than AUDIT_CHECKPOINT_EVERY_EVENTS past it."
            ),
        )

    def handle(self, *args, checkpoints: Path | None = None, **options):
        found = []
        if checkpoints is not None:
            if not checkpoints.is_dir():
                raise CommandError(f"{checkpoints} is not a directory.")
            try:
                found = checkpoints_in(checkpoints)
            except CheckpointUnreadable as error:
                self.stderr.write(f"Audit trail NOT VERIFIED: {error}")
                raise SystemExit(1) from error
        problems = audit_verify(checkpoints=found, anchored=checkpoints is not None)
        if problems:
            for problem in problems:
                self.stderr.write(f"Audit trail BROKEN at event #{problem.seq}: {problem.message}")
            raise SystemExit(1)
        pinned = f", {len(found)} checkpoints hold" if checkpoints is not None else ""
        self.stdout.write(f"Audit trail intact: {AuditEvent.objects.count()} events{pinned}.")
