import datetime
import json

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count, Sum
from django.utils import formats, translation
from django.utils.translation import gettext as _

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
        parser.add_argument(
            "--language",
            choices=[code for code, _name in settings.LANGUAGES],
            default=settings.LANGUAGE_CODE,
            help="the language of the messages (success and refusals alike); Danish by default, as the app",
        )

    def handle(self, *args, period: str, **options):
        # One language for every message, with its own dates and numbers ("1. januar 2027", "1.234,50").
        with translation.override(options["language"]):
            self._handle(period, options)

    def _handle(self, period: str, options) -> None:
        try:
            month = datetime.datetime.strptime(period, "%Y-%m").date()
        except ValueError:
            raise CommandError(_("--period takes a month as YYYY-MM, e.g. 2026-03")) from None
        try:
            run = billing_run(period=month, force=options["force"])
        except Refusal as error:
            raise CommandError(error.message) from None
        invoices = Invoice.objects.filter(run=run)
        summary = invoices.aggregate(n=Count("pk"), total=Sum("total_excl_vat"))
        summary["lines"] = InvoiceLine.objects.filter(invoice__run=run).count()
        total = summary["total"] or 0
        if options["json"]:  # for machines: ISO month and a plain decimal point, whatever the language
            report = {
                "period": f"{run.period:%Y-%m}",
                "runs": run.runs,
                "invoices": summary["n"],
                "lines": summary["lines"],
                "total_excl_vat": f"{total:.2f}",
            }
            self.stdout.write(json.dumps(report))
            return
        self.stdout.write(
            _("Billing of %(month)s (run %(runs)s): %(invoices)s invoices, %(lines)s lines, %(total)s DKK excl. VAT")
            % {
                "month": formats.date_format(run.period, "YEAR_MONTH_FORMAT"),
                "runs": run.runs,
                "invoices": summary["n"],
                "lines": summary["lines"],
                "total": formats.number_format(total, 2, use_l10n=True, force_grouping=True),
            }
        )
