"""Benchmark: the pages people work in, at 100 and at 10,000 orders of a realistic mix.

Run on PostgreSQL (it creates test_<name> and test_<name>_large there, and drops both afterwards unless --keep):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/opus_bench_pages .venv/bin/python bench/bench_pages.py
Options: --rounds 5 --runs 5 (each page is timed rounds × runs times at each size); --explain: for each page
over 1.3× or with unequal query counts, the plans (EXPLAIN (ANALYZE, BUFFERS)) of its three slowest queries and
a cProfile of one request, at 10,000 orders and then at 100.

The mix: 50 customers, two account managers serving 25 each, an orderer and a signatory at the largest
customer (a quarter of all orders, so its lists have full pages at both sizes), and support. Orders are in
mixed states (active, closed, drafts, submitted, awaiting signature, being established, closure requested,
withdrawn, rejected), created over three years, each with 10–30 audit events that take it to its state
(created, changed, submitted, returned, addendum issued and declined or accepted, established, consulting and
start-up help recorded, questions asked and answered, certificates rolled over, closure requested, scheduled
and carried out), appended in bulk by bench.common.audit_append exactly as audit_record chains and seals them
(the small database's trail is then checked with the project's verifier, audit_verify). Orders past the
addendum have one with the frozen quote; established ones their licences (one per customer and interface),
package fees, agreed adjustments, one-time charges (setup, licence start, additional system) and consulting;
a billing run a month over the last two years makes an invoice per customer whose lines point to the orders,
fees and charges it bills. Established individual integrations have certificate chains (leaf, issuing CA,
root; one real PEM reused, each row with its own fingerprint, serial and dates): one in use, earlier ones a
rollover superseded, now and then one waiting for confirmation; one leaf in eight expires within the renewal
window. One active order (its history written through audit_record) is the detail page's in both databases.
A copy of the small database gets 9,850 more orders; both are then VACUUM ANALYZEd. Filling takes about
5 s for the small database and 1–2½ minutes for the large one on a busy two-core machine (printed with the
results, with what each database holds).

Each page is requested through the whole middleware stack (Django's test client, logged in, closing the
connection after each request as a server does unless DATABASE_CONN_MAX_AGE keeps it; the API with a bearer
token), in rounds that alternate between the two databases so that a busy machine slows both sizes alike.
Printed per page: queries, its rows (table rows, headings included, and list items, the menu's included) and
median time at each size, and the ratio; the goal is equal queries and a ratio of at most 1.3. Where a page shows
more rows at 10,000 orders (a worklist or a page of a list that the small database does not fill), the rows say
how much of the ratio is theirs. The bounded exports read one system's orders, all made in the small database, so
their size does not grow; the exports of all a manager's orders must grow, and are reported in ms per 1,000 rows too.
The invoice shown is FULL_PAGE_CUSTOMER's last month, whose lines grow with its orders (printed). The small
database's 100 orders of the mix are followed by 49 that fill a page of the two lists the mix would leave a few
rows long at that size (FULL_PAGE_ORDERS): the expiring certificates and the invoice's lines then show a full page
at both sizes; and by one addendum waiting for the signatory (SIGNING_ORDERS), so that the signatory's start page
shows its list at both sizes (150 and 10,000 orders).
"""

import argparse
import cProfile
import datetime
import io
import logging
import os
import pstats
import random
import statistics
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# A benchmark fills a throw-away database: the published development keys, as the test suite uses them.
os.environ.setdefault("OPUS_DEVELOPMENT_KEYS", "1")
# The bench asks the API far more often than a token may (120 a minute by default).
os.environ.setdefault("API_THROTTLE_RATE", "100000/min")

import django  # noqa: E402
from cryptography.hazmat.primitives import hashes  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import close_old_connections, connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

CUSTOMERS, SMALL, LARGE = 50, 100, 10_000
STATES = {
    "active": 40,
    "closed": 15,
    "draft": 10,
    "submitted": 10,
    "awaiting_signature": 5,
    "provisioning": 5,
    "closure_requested": 5,
    "withdrawn": 5,
    "rejected": 5,
}
PAST_ISSUE = {"awaiting_signature", "provisioning", "active", "closure_requested", "closed"}
ACTIVATED = {"active", "closure_requested", "closed"}
BILLED_MONTHS = 24  # a billing run a month over the last two years
FIXED_ORDERS = 8  # orders of the one system whose orders the bounded export reads: all in the small database
# Orders that fill a page of the two lists whose rows the small mix is too small to fill (both show 50 a page):
# established individual integrations of one customer, each with a certificate in use that expires
# within the renewal window and an agreed monthly adjustment, so that the expiring certificates' list and the
# invoice shown (that customer's last month) show a full page at both sizes; all in the small database, after
# its 100 orders of the mix (which they leave as they were).
FULL_PAGE_ORDERS = 49
FULL_PAGE_CUSTOMER = 1  # theirs: one the first account manager serves, not the orderer's (its lists stay the mix's)
# And one addendum waiting for the signatory, readable: the mix's 100 orders may hold none (a twentieth of the orders
# wait for signature, a quarter of them the signatory's customer's), and a start page without its list shows less
# and asks a query less than at 10,000 orders, where the list is always there.
SIGNING_ORDERS = 1
# The small database: the mix's 100 orders and these, 150 in all: support's list of every order is then 6 full pages
# of 25, and its page 400, past the end at this size, shows the last of them full (at 151 it showed one order).
SMALL_ORDERS = SMALL + FULL_PAGE_ORDERS + SIGNING_ORDERS
AM, ORDERER, SIGNATORY = "account_manager", "orderer", "signatory"


def _months_back(today: datetime.date, n: int) -> datetime.date:
    """The first day of the month n months before today's."""
    m = today.year * 12 + today.month - 1 - n
    return datetime.date(m // 12, m % 12 + 1, 1)


class World:
    """The people, catalogue and customers the orders are made for, and the mix each order brings."""

    def __init__(self) -> None:
        from accounts.models import User
        from bench.common import customers
        from billing.models import BillingRun, InterfacePrice, Invoice, PackagePrice, PriceList
        from certificates.testing import make_leaf, make_pki, pem
        from ordering.models import CustomerMembership, ExternalSystem, IntegrationPackage, Interface, Vendor

        self.rng = random.Random(42)
        self.managers = [User.objects.create(username=f"am{i}", is_staff=True) for i in (1, 2)]
        self.orderer = User.objects.create(username="orderer", first_name="Olga")
        self.signatory = User.objects.create(username="signatory", first_name="Sigrid")
        self.support = User.objects.create(username="support", first_name="Sune", is_staff=True, is_support=True)
        self.interfaces = [
            Interface.objects.create(code=f"ws{i}", name_da=f"Snitflade {i}", name_en=f"Interface {i}")
            for i in range(6)
        ]
        vendor = Vendor.objects.create(name="Bench A/S", cvr="31415926")
        self.systems = [
            ExternalSystem.objects.create(name=f"System {i}", vendor=vendor, category="other", is_standard=True)
            for i in range(5)
        ]
        # The bounded export's filter: a system only a few orders of the small database use.
        self.fixed_system = ExternalSystem.objects.create(
            name="System F", vendor=vendor, category="other", is_standard=True
        )
        self.package = IntegrationPackage.objects.create(code="pakke", name_da="Pakke", external_system=self.systems[0])
        self.package.interfaces.set(self.interfaces[:2])
        self.price_list = PriceList.objects.create(
            name="Bench",
            effective_from=datetime.date(2020, 1, 1),
            setup_fee=Decimal("5000"),
            startup_package_price=Decimal("25000"),
            consulting_hourly_rate=Decimal("1500"),
        )
        InterfacePrice.objects.bulk_create(
            InterfacePrice(
                price_list=self.price_list,
                interface=i,
                licence_start_fee=Decimal("10000"),
                monthly_fee=Decimal("3100"),
                additional_system_fee=Decimal("2500"),
            )
            for i in self.interfaces
        )
        PackagePrice.objects.create(price_list=self.price_list, package=self.package, monthly_fee=Decimal("6200"))
        self.customers = customers(
            CUSTOMERS,
            name="Kommune {:02d}",
            first_cvr=20000000,
            account_manager=lambda i: self.managers[0 if i < CUSTOMERS // 2 else 1],
        )
        CustomerMembership.objects.create(user=self.orderer, customer=self.customers[0], is_orderer=True)
        CustomerMembership.objects.create(user=self.signatory, customer=self.customers[0], is_signatory=True)
        # Real certificates, made once: every row carries the same PEM text (the pages read the rows' columns).
        pki = make_pki()
        leaf = make_leaf(pki)
        self.chain = [
            (cert, role, pem(cert).decode())
            for cert, role in ((leaf, "leaf"), (pki.issuing, "intermediate"), (pki.root, "root"))
        ]
        self.today = timezone.localdate()
        self.months = [_months_back(self.today, n) for n in range(BILLED_MONTHS, 0, -1)]
        runs = BillingRun.objects.bulk_create(BillingRun(period=p) for p in self.months)
        Invoice.objects.bulk_create(
            Invoice(
                run=run,
                period=run.period,
                number=f"{run.period:%Y%m}-{c.pk:05d}",
                # what an invoice copies from its customer; the totals are summed from the lines (_totals)
                **{"customer": c, "customer_name": c.name, "cvr": c.cvr, "ean": c.ean},
                total_excl_vat=Decimal("0.00"),
                vat=Decimal("0.00"),
                total_incl_vat=Decimal("0.00"),
            )
            for run in runs
            for c in self.customers
        )
        self.invoice_of = {(c, p): pk for c, p, pk in Invoice.objects.values_list("customer_id", "period", "pk")}
        self.orders = 0
        self.full_page_ids: set[int] = set()  # the orders of the FULL_PAGE_ORDERS kind
        self.quote = None

    def customer_for(self, k: int):
        # The orderer's customer gets every fourth order; the other 49 share the rest.
        return self.customers[0] if k % 4 == 0 else self.customers[1 + (k - k // 4 - 1) % (CUSTOMERS - 1)]

    # --- the orders and their histories ------------------------------------------------------------------

    def history(self, state: str, individual: bool, manager) -> list[tuple]:
        """(kind, actor, role, from, to, params) from creation to `state`: 10–30 events, the lifecycle's steps
        and what happens between them (drafts changed, consulting recorded, certificates rolled over…)."""
        from ordering.audit import ENDS_ON, WISHED_ON

        rng, o = self.rng, self.orderer
        steps = [("create", o, ORDERER, "", "draft", None)]
        if state == "draft" and rng.random() < 0.3:  # returned by KMD for changes
            steps += [("submit", o, ORDERER, "draft", "submitted", None)]
            steps += [("return_for_changes", manager, AM, "submitted", "draft", None)]
        if state != "draft":
            steps.append(("submit", o, ORDERER, "draft", "submitted", None))
        if state == "submitted" and rng.random() < 0.2:  # the customer declined the addendum: issue again
            steps += [("issue_addendum", manager, AM, "submitted", "awaiting_signature", None)]
            steps += [("decline", self.signatory, SIGNATORY, "awaiting_signature", "submitted", None)]
        if state == "withdrawn":
            steps.append(("withdraw", o, ORDERER, "submitted", "withdrawn", None))
        if state == "rejected":
            steps.append(("reject", manager, AM, "submitted", "rejected", None))
        if state in PAST_ISSUE:
            steps.append(("issue_addendum", manager, AM, "submitted", "awaiting_signature", None))
        if state in PAST_ISSUE - {"awaiting_signature"}:
            steps.append(("accept", self.signatory, SIGNATORY, "awaiting_signature", "provisioning", None))
        if state in ACTIVATED:
            steps.append(("activate", manager, AM, "provisioning", "active", None))
        tail = []
        if state in ("closure_requested", "closed"):
            wished = self.today + datetime.timedelta(days=30)
            tail.append(("request_closure", o, ORDERER, "active", "closure_requested", {WISHED_ON: wished}))
            tail.append(("schedule_closure", manager, AM, "closure_requested", "closure_requested", {ENDS_ON: wished}))
        if state == "closed":
            tail.append(("close", manager, AM, "closure_requested", "closed", None))
        # What happens between the steps, up to 10–30 events in all: a draft is changed before it is submitted;
        # an access in use gets consulting, start-up help, questions and certificate rollovers.
        room = max(0, rng.randint(10, 30) - len(steps) - len(tail))
        in_use = []
        if state in ACTIVATED:
            fillers = [
                ("consulting_recorded", manager, AM),
                ("startup_usage_recorded", manager, AM),
                ("consulting_requested", o, ORDERER),
                ("consulting_request_answered", manager, AM),
            ]
            if individual:
                fillers.append(("certificate_rollover_requested", o, ORDERER))
            in_use = [(*rng.choice(fillers), "active", "active", None) for _ in range(room // 2)]
            room -= len(in_use)
        edits = [("edit", o, ORDERER, "draft", "draft", None)] * room
        return steps[:1] + edits + steps[1:] + in_use + tail

    def add_orders(self, n: int, *, fixed: int = 0, full_page: int = 0, signing: int = 0) -> None:
        """n more orders with their histories, addenda, fees, charges, certificates and invoice lines;
        `fixed` of them for the bounded export's system, the next `full_page` of them FULL_PAGE_ORDERS' kind, the next
        `signing` of them awaiting the signatory's decision on a readable addendum (SIGNING_ORDERS)."""
        from bench.common import audit_append
        from ordering.models import AccessOrder, Addendum
        from ordering.transitions import TRANSITIONS

        rng, now = self.rng, timezone.now()
        states = [s for s, weight in STATES.items() for _ in range(weight)]
        orders, histories = [], []
        fillers = set()  # positions in this batch of the FULL_PAGE_ORDERS kind
        signers = set()  # and of the SIGNING_ORDERS kind
        for k in range(self.orders, self.orders + n):
            filler = fixed <= k - self.orders < fixed + full_page
            to_sign = fixed + full_page <= k - self.orders < fixed + full_page + signing
            package = not filler and rng.random() < 0.2
            individual = filler or (not package and rng.random() < 0.3)
            created = now - datetime.timedelta(minutes=rng.randrange(60 * 24, 3 * 365 * 24 * 60))
            state = "active" if filler else "awaiting_signature" if to_sign else rng.choice(states)
            customer = (
                self.customers[FULL_PAGE_CUSTOMER] if filler else self.customers[0] if to_sign else self.customer_for(k)
            )
            if filler:
                fillers.add(len(orders))
            if to_sign:
                signers.add(len(orders))
            steps = self.history(state, individual, customer.account_manager)
            # Times: the first at creation, the others spread over the time since, in order.
            span = (now - created).total_seconds()
            offsets = [0.0, *sorted(rng.uniform(60, span) for _ in steps[1:])]
            times = [created + datetime.timedelta(seconds=s) for s in offsets]
            at = {kind: t for (kind, *_rest), t in zip(steps, times, strict=True)}
            system = (
                self.fixed_system
                if k - self.orders < fixed
                else (self.package.external_system if package else rng.choice(self.systems))
            )
            orders.append(
                AccessOrder(
                    customer=customer,
                    external_system=system,
                    purchase_model="package" if package else "single",
                    package=self.package if package else None,
                    environment=rng.choice(["production", "test"]),
                    integration_type="individual" if individual else "standard",
                    state=state,
                    created_by=self.orderer,
                    created_at=created,
                    submitted_at=at.get("submit"),
                    activated_on=at["activate"].date() if "activate" in at else None,
                    closed_on=at["close"].date() if "close" in at else None,
                    emergency_requested_at=times[-1] if state == "active" and rng.random() < 0.02 else None,
                    requisition_number=f"R{k}",
                    # As the services keep it: the latest lifecycle action of the history.
                    last_action=next((kind for kind, *_rest in reversed(steps) if kind in TRANSITIONS), ""),
                )
            )
            histories.append((steps, times, at))
        orders = AccessOrder.objects.bulk_create(orders, batch_size=1000)
        self.full_page_ids |= {orders[i].pk for i in fillers}
        signing_ids = {orders[i].pk for i in signers}
        Through = AccessOrder.interfaces.through
        Through.objects.bulk_create(
            [
                Through(accessorder=o, interface=i)
                for o in orders
                if o.purchase_model == "single"
                for i in rng.sample(self.interfaces, rng.choice([1, 1, 2, 3]))
            ],
            batch_size=5000,
        )
        audit_append(
            {
                "order_id": o.pk,
                "kind": kind,
                "actor": actor,
                "role": role,
                "from_state": before,
                "to_state": after,
                "params": params,
                "at": t,
            }
            for o, (steps, times, _at) in zip(orders, histories, strict=True)
            for (kind, actor, role, before, after, params), t in zip(steps, times, strict=True)
        )
        addenda = []
        for o, (_steps, _times, at) in zip(orders, histories, strict=True):
            if o.state not in PAST_ISSUE:
                continue
            accepted = "accept" in at
            addenda.append(
                Addendum(
                    order=o,
                    version=1,
                    status="accepted" if accepted else "issued",
                    issued_by=o.customer.account_manager,
                    issued_at=at["issue_addendum"],
                    decided_by=self.signatory if accepted else None,
                    decided_at=at.get("accept"),
                    # One in ten waiting for signature has a document to generate again (the "failed" worklist).
                    render_status="ready" if accepted or o.pk in signing_ids or rng.random() < 0.9 else "failed",
                    quote=self.quote,
                    price_list=self.price_list,
                )
            )
        Addendum.objects.bulk_create(addenda, batch_size=2000)
        self.orders += n
        activated = [o for o in orders if o.activated_on]
        lines = self._licences() + self._package_fees(activated) + self._charges(activated)
        self._certificates([o for o in orders if o.integration_type == "individual" and o.state in ACTIVATED])
        self._invoice(lines)

    # --- billing -----------------------------------------------------------------------------------------

    def _fee_lines(self, fees) -> list:
        """A line per billed month of each fee, within the two years billed."""
        from billing.models import InvoiceLine

        lines = []
        for fee in fees:
            start = fee.starts_on.replace(day=1)
            for month in self.months:
                if month < start or (fee.ends_on and month >= fee.ends_on):
                    continue
                lines.append(
                    InvoiceLine(
                        invoice_id=self.invoice_of[fee.customer_id, month],
                        source_key=f"fee:{fee.pk}:{month:%Y-%m}",
                        kind="recurring",
                        order_id=fee.order_id,
                        recurring_fee=fee,
                        service_month=month,
                        description_da=fee.description_da,
                        description_en=fee.description_en,
                        amount=fee.monthly_fee,
                    )
                )
        return lines

    def _billed_until(self, starts_on, ends_on):
        first_unbilled = _months_back(self.today, 0)
        if starts_on >= first_unbilled:
            return None
        return min(first_unbilled, ends_on) if ends_on else first_unbilled

    def _licences(self) -> list:
        """One running licence per customer and interface some established order uses (licences are the
        customer's), from the first such activation."""
        from django.db.models import Min

        from billing.models import RecurringFee
        from ordering.models import AccessOrder

        used = (
            AccessOrder.objects.filter(activated_on__isnull=False, purchase_model="single")
            .values("customer_id", "interfaces")
            .annotate(first=Min("activated_on"), order=Min("pk"))
        )
        have = set(RecurringFee.objects.filter(kind="licence").values_list("customer_id", "interface_id"))
        fees = RecurringFee.objects.bulk_create(
            RecurringFee(
                customer_id=row["customer_id"],
                order_id=row["order"],
                kind="licence",
                interface_id=row["interfaces"],
                description_da="Licens",
                description_en="Licence",
                monthly_fee=Decimal("3100"),
                starts_on=row["first"],
                billed_until=self._billed_until(row["first"], None),
            )
            for row in used
            if row["interfaces"] and (row["customer_id"], row["interfaces"]) not in have
        )
        return self._fee_lines(fees)

    def _package_fees(self, activated) -> list:
        """The package's monthly fee of each established package order, until its closure."""
        from billing.models import RecurringFee

        fees = RecurringFee.objects.bulk_create(
            [
                RecurringFee(
                    customer_id=o.customer_id,
                    order=o,
                    kind="package" if o.package_id else "adjustment",
                    package_id=o.package_id,
                    description_da="Integrationspakke" if o.package_id else "Aftalt tillæg",
                    description_en="Integration package" if o.package_id else "Agreed adjustment",
                    monthly_fee=Decimal("6200") if o.package_id else Decimal("750"),
                    starts_on=o.activated_on,
                    ends_on=o.closed_on,
                    billed_until=self._billed_until(o.activated_on, o.closed_on),
                )
                for o in activated
                # every package order, and an agreed adjustment on one in ten of the others (and every filler)
                if o.package_id or o.pk in self.full_page_ids or self.rng.random() < 0.1
            ],
            batch_size=2000,
        )
        return self._fee_lines(fees)

    def _charges(self, activated) -> list:
        """The one-time fees booked at activation (setup, licence start, now and then an additional system) and
        consulting hours now and then, each invoiced in its month when that is within the two years billed."""
        from billing.models import Charge, InvoiceLine
        from billing.pricing import Rule

        rng, charges = self.rng, []
        for o in activated:
            manager = o.customer.account_manager
            booked = [(Rule.SETUP_FEE, Decimal("5000"), None)]
            if o.purchase_model == "single":
                booked.append((Rule.LICENCE_START, Decimal("10000"), None))
            if rng.random() < 0.15:
                booked.append((Rule.ADDITIONAL_SYSTEM, Decimal("2500"), None))
            if rng.random() < 0.3:
                booked.append(("consulting", None, Decimal(rng.choice(["0.5", "1", "2.25", "4"]))))
            for rule, amount, hours in booked:
                day = o.activated_on + datetime.timedelta(days=rng.randrange(0, 60) if hours else 0)
                day = min(day, self.today - datetime.timedelta(days=1))
                charges.append(
                    Charge(
                        customer_id=o.customer_id,
                        order=o,
                        price_list=self.price_list,
                        kind="consulting" if hours else "one_time",
                        rule=str(rule),
                        description_da=f"{o.reference}: {'Konsulentbistand' if hours else rule}",
                        description_en=f"{o.reference}: {'Consulting' if hours else rule}",
                        hours=hours,
                        hourly_rate=Decimal("1500") if hours else None,
                        amount=hours * Decimal("1500") if hours else amount,
                        booked_on=day,
                        recorded_by=manager,
                    )
                )
        charges = Charge.objects.bulk_create(charges, batch_size=2000)
        lines = []
        for c in charges:
            month = c.booked_on.replace(day=1)
            if (c.customer_id, month) in self.invoice_of:
                lines.append(
                    InvoiceLine(
                        invoice_id=self.invoice_of[c.customer_id, month],
                        source_key=f"charge:{c.pk}",
                        kind=c.kind,
                        order_id=c.order_id,
                        charge=c,
                        description_da=c.description_da,
                        description_en=c.description_en,
                        amount=c.amount,
                    )
                )
        return lines

    def _invoice(self, lines) -> None:
        """The lines onto their invoices, and each invoice's totals summed from its lines (an UPDATE: an invoice
        refuses save() once made)."""
        from django.db.models import DecimalField, F, OuterRef, Subquery, Sum, Value
        from django.db.models.functions import Coalesce, Round

        from billing.models import Invoice, InvoiceLine

        InvoiceLine.objects.bulk_create(lines, batch_size=5000)
        total = (
            InvoiceLine.objects.filter(invoice=OuterRef("pk")).order_by().values("invoice").annotate(t=Sum("amount"))
        )
        money = DecimalField(max_digits=12, decimal_places=2)
        Invoice.objects.update(
            total_excl_vat=Coalesce(
                Subquery(total.values("t"), output_field=money), Value(Decimal("0")), output_field=money
            )
        )
        vat = Round(F("total_excl_vat") * Decimal("0.25"), 2)
        Invoice.objects.update(vat=vat, total_incl_vat=F("total_excl_vat") + vat)

    # --- certificates ------------------------------------------------------------------------------------

    def _certificates(self, individual) -> None:
        """For each established individual integration a chain in use; earlier chains a rollover superseded for
        about half (one or two each), and a rollover awaiting confirmation for one in ten. Leaves expire between
        a few days ago and two years ahead, one in eight within the renewal window."""
        from certificates.models import Certificate, CertificateBundle, CertificateUpload

        rng, now = self.rng, timezone.now()
        slots = []  # (order, status, uploaded, leaf expiry)
        for o in individual:
            start = datetime.datetime.combine(o.activated_on, datetime.time(9), tzinfo=datetime.UTC)
            older = rng.choice([0, 0, 1, 2])
            if o.pk in self.full_page_ids:  # within the renewal window, not expired yet
                current_expiry = now + datetime.timedelta(days=rng.randrange(1, 60))
            elif rng.random() < 0.125:
                current_expiry = now + datetime.timedelta(days=rng.randrange(-5, 60))
            else:
                current_expiry = now + datetime.timedelta(days=rng.randrange(61, 730))
            for i in range(older):
                slots.append(
                    (
                        o,
                        "superseded",
                        start + datetime.timedelta(days=30 * i),
                        start + datetime.timedelta(days=400 + 30 * i),
                    )
                )
            current_at = max(start, now - datetime.timedelta(days=300)) if older else start
            slots.append((o, "current", current_at, current_expiry))
            if o.state == "active" and rng.random() < 0.1:
                slots.append((o, "pending", now - datetime.timedelta(days=2), now + datetime.timedelta(days=730)))
        leaf_pem = self.chain[0][2]
        uploads = CertificateUpload.objects.bulk_create(
            [
                CertificateUpload(
                    order=o,
                    uploaded_by=self.orderer,
                    uploaded_at=at,
                    environment=o.environment,
                    filename="kaede.pem",
                    size=4000,
                    sha256=uuid.uuid4().hex * 2,
                    verdict="accepted",
                )
                for o, _status, at, _expiry in slots
            ],
            batch_size=5000,
        )
        data = "".join(text for _cert, _role, text in self.chain).encode()
        bundles = CertificateBundle.objects.bulk_create(
            [
                CertificateBundle(
                    order=o,
                    upload=upload,
                    environment=o.environment,
                    status=status,
                    data=data,
                    created_at=at,
                    confirmed_at=at if status != "pending" else None,
                    confirmed_by=o.customer.account_manager if status != "pending" else None,
                    superseded_at=at + datetime.timedelta(days=300) if status == "superseded" else None,
                )
                for (o, status, at, _expiry), upload in zip(slots, uploads, strict=True)
            ],
            batch_size=5000,
        )
        current = {b.order_id: b for b in bundles if b.status == "current"}
        replaced = [b for b in bundles if b.status == "superseded"]
        for b in replaced:
            b.replaced_by = current[b.order_id]
        CertificateBundle.objects.bulk_update(replaced, ["replaced_by"], batch_size=5000)
        rows = []
        for b, (o, _status, at, expiry) in zip(bundles, slots, strict=True):
            for position, (cert, role, text) in enumerate(self.chain):
                leaf = role == "leaf"
                rows.append(
                    Certificate(
                        bundle=b,
                        position=position,
                        role=role,
                        pem=leaf_pem if leaf else text,
                        sha256=uuid.uuid4().hex * 2 if leaf else cert.fingerprint(hashes.SHA256()).hex(),
                        subject=f"CN=System {o.pk},serialNumber=UI:DK-O:G:{uuid.uuid4()},"
                        f"organizationIdentifier=NTRDK-31415926,O=Bench A/S,C=DK"
                        if leaf
                        else cert.subject.rfc4514_string(),
                        issuer=cert.issuer.rfc4514_string(),
                        serial=uuid.uuid4().hex if leaf else str(cert.serial_number),
                        not_before=at - datetime.timedelta(days=1) if leaf else cert.not_valid_before_utc,
                        not_after=expiry if leaf else cert.not_valid_after_utc,
                        key="RSA 3072",
                        cvr="31415926" if leaf else "",
                    )
                )
        Certificate.objects.bulk_create(rows, batch_size=5000)

    def detail_order(self):
        """An active individual integration of the orderer's customer with a real history (through
        audit_record), an accepted, frozen addendum, charges, and a chain rolled over once."""
        from audit.trail import audit_record
        from billing.quotes import quote_for_order
        from ordering.audit import AuditKind
        from ordering.models import AccessOrder, Addendum

        manager = self.customers[0].account_manager
        created = timezone.now() - datetime.timedelta(days=400)
        with transaction.atomic():
            order = AccessOrder.objects.create(
                customer=self.customers[0],
                external_system=self.systems[1],
                purchase_model="single",
                environment="production",
                integration_type="individual",
                created_by=self.orderer,
                created_at=created,
                requisition_number="R-detail",
            )
            order.interfaces.set(self.interfaces[2:4])
            quote, price_list = quote_for_order(order)
            self.quote = quote.to_dict()  # every other addendum freezes this quote too
            steps = [
                (AuditKind.CREATE, self.orderer, ORDERER, "", "draft"),
                *[(AuditKind.EDIT, self.orderer, ORDERER, "draft", "draft")] * 4,
                (AuditKind.SUBMIT, self.orderer, ORDERER, "draft", "submitted"),
                (AuditKind.ISSUE_ADDENDUM, manager, AM, "submitted", "awaiting_signature"),
                (AuditKind.ACCEPT, self.signatory, SIGNATORY, "awaiting_signature", "provisioning"),
                (AuditKind.ACTIVATE, manager, AM, "provisioning", "active"),
                *[("consulting_recorded", manager, AM, "active", "active")] * 3,
                *[("certificate_rollover_requested", self.orderer, ORDERER, "active", "active")] * 2,
                *[("consulting_requested", self.orderer, ORDERER, "active", "active")] * 2,
                *[("consulting_request_answered", manager, AM, "active", "active")] * 2,
            ]
            for kind, actor, role, before, after in steps:
                audit_record(kind=kind, actor=actor, role=role, order=order, from_state=before, to_state=after)
            Addendum.objects.create(
                order=order,
                version=1,
                status="accepted",
                issued_by=manager,
                decided_by=self.signatory,
                decided_at=created + datetime.timedelta(days=2),
                render_status="ready",
                quote=self.quote,
                price_list=price_list,
            )
            AccessOrder.objects.filter(pk=order.pk).update(
                state="active",
                submitted_at=created,
                activated_on=(created + datetime.timedelta(days=3)).date(),
                last_action=AuditKind.ACTIVATE,
            )
        order.refresh_from_db()
        self._certificates([order])
        self.orders += 1
        return order


class Page(NamedTuple):
    name: str
    user: object  # logged in as this user; None for the API, which takes a bearer token
    url: str
    rows: str = ""  # "whole": an export of every order the user sees (it must grow; reported per 1,000 rows)


def get(client: Client, url: str, headers: dict | None = None):
    response = client.get(url, secure=True, headers=headers or {})
    if getattr(response, "streaming", False):
        b"".join(response.streaming_content)  # a streamed export is timed to its last byte
    # What a WSGI server's request_finished does (the test client leaves it out): close the database
    # connection unless DATABASE_CONN_MAX_AGE keeps it, so the next request pays for a new one.
    close_old_connections()
    return response


def queries_of(client: Client, url: str, headers: dict | None = None) -> tuple[int, int, int]:
    """(queries, status, rows) of one request: the page's table rows and list items (`<tr>`, `<li>`), so that a
    page which shows more rows at 10,000 orders than at 150 says so beside its times."""
    queries = []

    def count(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        response = get(client, url, headers)
    rows = (
        0 if getattr(response, "streaming", False) else response.content.count(b"<tr") + response.content.count(b"<li")
    )
    return len(queries), response.status_code, rows


def use_database(name: str) -> None:
    connection.close()
    connection.settings_dict["NAME"] = settings.DATABASES["default"]["NAME"] = name


def pages(world: World, order, invoice_pk: int) -> list[Page]:
    manager, orderer, signatory, support = world.managers[0], world.orderer, world.signatory, world.support
    home, order_list = reverse("home"), reverse("ordering:order_list")
    detail = reverse("ordering:order_detail", args=[order.pk])
    csv, xlsx = (reverse("ordering:order_list_export", args=[fmt]) for fmt in ("csv", "xlsx"))
    fixed = f"?external_system={world.fixed_system.pk}"
    return [
        Page("account manager: start page", manager, home),
        Page("orderer: start page", orderer, home),
        Page("signatory: start page", signatory, home),
        Page("support: start page", support, home),
        Page("account manager: order list", manager, order_list),
        # The deep pages are the last at 10,000 orders (a manager sees half, the orderer a quarter); the small
        # database answers its own last page.
        Page("account manager: list page 200", manager, order_list + "?page=200"),
        Page("orderer: order list", orderer, order_list),
        Page("orderer: list page 100", orderer, order_list + "?page=100"),
        Page("support: order list", support, order_list),
        Page("support: list page 400", support, order_list + "?page=400"),
        Page("account manager: order detail", manager, detail),
        Page("orderer: order detail", orderer, detail),
        Page("signatory: order detail", signatory, detail),
        Page("support: order detail", support, detail),
        Page("account manager: invoice list", manager, reverse("billing:invoice_list")),
        Page("account manager: invoice detail", manager, reverse("billing:invoice_detail", args=[invoice_pk])),
        Page("account manager: licence list", manager, reverse("billing:licence_list")),
        Page("account manager: billing runs", manager, reverse("billing:run_list")),
        # The preview the billing page loads once shown: the run's own calculation over every fee and charge not
        # billed yet, so it grows with the data like an export (per 1,000 of the manager's orders).
        Page("account manager: billing preview", manager, reverse("billing:run_preview"), rows="whole"),
        Page("support: expiring certificates", support, reverse("certificates:expiring")),
        Page(f"manager: CSV, {FIXED_ORDERS} orders", manager, csv + fixed),
        Page(f"manager: XLSX, {FIXED_ORDERS} orders", manager, xlsx + fixed),
        Page("API: orderer's order list", None, reverse("api:orders")),
        Page("manager: CSV, all orders", manager, csv, rows="whole"),
        Page("manager: XLSX, all orders", manager, xlsx, rows="whole"),
    ]


def client_for(page: Page) -> Client:
    client = Client()
    if page.user is not None:
        # Logged in as people are in production: through MitID Erhverv or Entra ID, not a password.
        client.force_login(page.user, backend="accounts.backends.IdentityProviderBackend")
    return client


def measure(databases: dict[str, str], page_list: list[Page], token: str, rounds: int, runs: int) -> dict:
    """{(size, page): (queries, status, [seconds…])}: rounds alternate between the databases, so a
    machine busy with something else for a while slows both sizes alike."""
    clients, results = {}, {}
    api = {"Authorization": f"Bearer {token}"}
    for size, name in databases.items():
        use_database(name)
        for page in page_list:
            clients[size, page.name] = client = client_for(page)
            results[size, page.name] = (*queries_of(client, page.url, api), [])
    for _ in range(rounds):
        for size, name in databases.items():
            use_database(name)
            for page in page_list:
                for _ in range(2):  # warm-up: the connection (after the switch), caches
                    get(clients[size, page.name], page.url, api)
                for _ in range(runs):
                    started = time.perf_counter()
                    get(clients[size, page.name], page.url, api)
                    results[size, page.name][3].append(time.perf_counter() - started)
    return results


def explain(client: Client, url: str, headers: dict, *, top: int = 3) -> None:
    """Where one request's time goes: its slowest queries (timed through execute_wrapper) with PostgreSQL's
    EXPLAIN (ANALYZE, BUFFERS), then a cProfile of the request, by the functions' own time."""
    timed = []

    def clock(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            timed.append((time.perf_counter() - started, sql, params, many))

    with connection.execute_wrapper(clock):
        get(client, url, headers)
    total = sum(t for t, *_ in timed)
    print(f"  {len(timed)} queries, {total * 1000:.1f} ms in the database")
    for seconds, sql, params, many in sorted(timed, key=lambda row: row[0], reverse=True)[:top]:
        print(f"  -- {seconds * 1000:.1f} ms: {sql}")
        if many or not sql.lstrip("( ").upper().startswith("SELECT"):  # the menu's counts are a UNION ALL
            continue
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            for (line,) in cursor.fetchall():
                print(f"     {line}")
    profile = cProfile.Profile()
    profile.enable()
    get(client, url, headers)
    profile.disable()
    out = io.StringIO()
    # By own time: the middleware's wrappers would fill a list by cumulative time.
    pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(20)
    print("\n".join("  " + line for line in out.getvalue().splitlines() if line.strip()))


def verify_audit_trail() -> int:
    """The project's own verifier over the whole chain (what `manage.py verify_audit_log` runs): proof that
    bench.common.audit_append writes what audit_record would. Returns the number of events checked."""
    from audit.models import AuditEvent
    from audit.verification import audit_verify

    problems = audit_verify()
    if problems:
        raise SystemExit("The audit trail the bench built does not verify: " + "; ".join(p.message for p in problems))
    return AuditEvent.objects.count()


def census() -> dict[str, int]:
    """What the database holds, by table."""
    from audit.models import AuditEvent
    from billing.models import Charge, Invoice, InvoiceLine, RecurringFee
    from certificates.models import Certificate, CertificateBundle
    from ordering.models import AccessOrder, Addendum

    models = {
        "orders": AccessOrder,
        "audit events": AuditEvent,
        "addenda": Addendum,
        "recurring fees": RecurringFee,
        "charges": Charge,
        "invoices": Invoice,
        "invoice lines": InvoiceLine,
        "chains": CertificateBundle,
        "certificates": Certificate,
    }
    return {label: model.objects.count() for label, model in models.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--runs", type=int, default=5, help="timed requests per page and round")
    parser.add_argument(
        "--explain",
        action="store_true",
        help="for each page over 1.3× or with unequal queries: its slowest queries' plans and a profile at 10,000",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep both databases afterwards (their names are printed), to look into"
    )
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("Set DATABASE_URL to a PostgreSQL database (see the top of this file).")
    setup_test_environment()
    # No collectstatic here: pages link to static files where the finders find them.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    logging.getLogger("axes").setLevel(logging.WARNING)  # a line per force_login would bury the table
    original = connection.settings_dict["NAME"]
    small = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    large = f"{small}_large"
    try:
        from bench.common import api_key

        started = time.perf_counter()
        world = World()
        order = world.detail_order()
        world.add_orders(SMALL - 1, fixed=FIXED_ORDERS)
        world.add_orders(FULL_PAGE_ORDERS, full_page=FULL_PAGE_ORDERS)  # after the mix, which they leave as it was
        world.add_orders(SIGNING_ORDERS, signing=SIGNING_ORDERS)
        token = api_key(world.orderer)
        invoice_pk = world.invoice_of[world.customers[FULL_PAGE_CUSTOMER].pk, world.months[-1]]
        filled_small = time.perf_counter() - started
        checked = verify_audit_trail()
        print(f"The small database's audit trail verifies: {checked:,} events, chain, head seal and orders.")
        connection.close()
        with connection._nodb_cursor() as cursor:  # the large database starts as a copy of the small one
            cursor.execute(f'DROP DATABASE IF EXISTS "{large}"')
            cursor.execute(f'CREATE DATABASE "{large}" TEMPLATE "{small}"')
        use_database(large)
        started = time.perf_counter()
        world.add_orders(LARGE - SMALL_ORDERS)
        filled_large = time.perf_counter() - started
        counts, rows = {}, {}
        from billing.models import InvoiceLine
        from ordering.models import AccessOrder

        for size, name in ((SMALL, small), (LARGE, large)):
            use_database(name)
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")  # statistics and visibility map, as autovacuum keeps them
            counts[size] = census()
            rows[size] = AccessOrder.objects.filter(customer__account_manager=world.managers[0]).count()
            counts[size]["lines on the invoice shown"] = InvoiceLine.objects.filter(invoice_id=invoice_pk).count()
        page_list = pages(world, order, invoice_pk)
        results = measure({SMALL: small, LARGE: large}, page_list, token, args.rounds, args.runs)
        print(
            f"{connection.vendor}, CONN_MAX_AGE={connection.settings_dict['CONN_MAX_AGE']}, {SMALL_ORDERS:,} and "
            f"{LARGE:,} orders (filled in {filled_small:.0f} s and {filled_large:.0f} s), "
            f"median of {args.rounds} × {args.runs} requests a page"
        )
        for label in counts[SMALL]:
            print(f"  {label:<28} {counts[SMALL][label]:>9,} {counts[LARGE][label]:>11,}")
        print(
            f"{'page':<36} {'queries':>9} {'rows':>11} {f'{SMALL_ORDERS:,} orders':>12} {f'{LARGE:,} orders':>14} "
            f"{'ratio':>7}"
        )
        failed = False
        for page in page_list:
            (q_small, status_small, tr_small, t_small), (q_large, status_large, tr_large, t_large) = (
                results[SMALL, page.name],
                results[LARGE, page.name],
            )
            t_small, t_large = statistics.median(t_small), statistics.median(t_large)
            flags = "" if status_small == status_large == 200 else f"  (HTTP {status_small}/{status_large})"
            failed = failed or bool(flags)
            ratio = f"{t_large / t_small:>6.2f}×"
            if page.rows == "whole":  # it must grow: the cost per 1,000 rows is what should stay flat
                per = [t / n * 1000 * 1000 for t, n in ((t_small, rows[SMALL]), (t_large, rows[LARGE]))]
                ratio += f"  ({rows[SMALL]:,} / {rows[LARGE]:,} rows: {per[0]:.1f} / {per[1]:.1f} ms per 1,000)"
            print(
                f"{page.name:<36} {q_small:>4} / {q_large:<3} {tr_small:>4} / {tr_large:<4} "
                f"{t_small * 1000:>9.1f} ms {t_large * 1000:>11.1f} ms "
                f"{ratio}{flags}"
            )
        if args.explain:
            flagged = [
                page
                for page in page_list
                if results[SMALL, page.name][0] != results[LARGE, page.name][0]
                or statistics.median(results[LARGE, page.name][3])
                > 1.3 * statistics.median(results[SMALL, page.name][3])
            ]
            api = {"Authorization": f"Bearer {token}"}
            for size, name in ((LARGE, large), (SMALL, small)):
                use_database(name)
                for page in flagged:
                    print(f"\n=== {page.name} at {size:,} orders: {page.url}")
                    explain(client_for(page), page.url, api)
    finally:
        if args.keep:
            print(f"Kept: {small} ({SMALL_ORDERS:,} orders) and {large} ({LARGE:,}).")
        else:
            use_database(small)
            with connection._nodb_cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{large}"')
            connection.creation.destroy_test_db(original, verbosity=0)
    if failed:
        sys.exit("A page did not answer 200: its figures measure a redirect or an error, not the page.")


if __name__ == "__main__":
    main()
