import datetime
import json

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count, Sum

from billing.models import Invoice, InvoiceLine
from billing.services import billing_run
from core.errors import Refusal


class Command(BaseCommand):
    help = "Run the monthly billing for a month that has ended (YYYY-MM). Idempotent: a second run bills nothing twice."
    # The system checks import every URL and view; a billing run needs none of them.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--period", required=True, help="the month to bill, YYYY-MM")
        parser.add_argument("--json", action="store_true")
        parser.add_argument(
            "--force",
            action="store_true",
            help="bill a month that has not ended yet; for tests and the demo only, never on real invoices",
        )

    def handle(self, *args, period: str, **options):
        try:
            month = datetime.datetime.strptime(period, "%Y-%m").date()
        except ValueError:
            raise CommandError("--period takes a month as YYYY-MM, e.g. 2026-03") from None
        try:
            run = billing_run(period=month, force=options["force"])
        except Refusal as error:
            raise CommandError(error.message) from None
        invoices = Invoice.objects.filter(run=run)
        summary = invoices.aggregate(n=Count("pk"), total=Sum("total_excl_vat"))
        summary["lines"] = InvoiceLine.objects.filter(invoice__run=run).count()
        report = {
            "period": f"{run.period:%Y-%m}",
            "runs": run.runs,
            "invoices": summary["n"],
            "lines": summary["lines"],
            "total_excl_vat": f"{summary['total'] or 0:.2f}",
        }
        if options["json"]:
            self.stdout.write(json.dumps(report))
        else:
            self.stdout.write(
                f"Billing {report['period']} (run {run.runs}): {report['invoices']} invoices, "
                f"{report['lines']} lines, {report['total_excl_vat']} DKK excl. VAT"
            )
