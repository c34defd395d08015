from django.core.management.base import BaseCommand

from ordering.audit import audit_verify
from ordering.models import AuditEvent


class Command(BaseCommand):
    help = "Check the hash chain of the audit trail. Exit 0 when intact, 1 naming the first broken event."

    def handle(self, *args, **options):
        problem = audit_verify()
        if problem is not None:
            self.stderr.write(f"Audit trail BROKEN at event #{problem.seq}: {problem.message}")
            raise SystemExit(1)
        self.stdout.write(f"Audit trail intact: {AuditEvent.objects.count()} events.")
