"""Benchmark: the pages people work in, at 100 and at 10,000 orders.

Run on PostgreSQL (it creates test_<name> and test_<name>_large there, and drops both afterwards):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/opus_bench_pages .venv/bin/python bench/bench_pages.py
Options: --rounds 5 --runs 5 (each page is timed rounds × runs times at each size).

It fills a database with 50 customers, two account managers serving 25 each and an orderer at the
largest customer (a quarter of all orders, so its list has full pages at both sizes), then 100 orders
in mixed states with their interfaces, licences, invoices and a creation event each (written through
audit.trail.audit_record, so the sealed chain stays whole). One active order has a real history
and an accepted addendum with its frozen quote: both detail pages show it. A copy of that database
gets 9,900 more orders. Each page is requested through the whole middleware stack (Django's test
client, logged in, closing the connection after each request as a server does unless
DATABASE_CONN_MAX_AGE keeps it), in rounds that alternate between the two databases so that a busy
machine slows both sizes alike. Printed per page: queries and median time at each size, and the
ratio; the goal is equal queries and a ratio of at most 1.3.
"""

import argparse
import datetime
import os
import random
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# A benchmark fills a throw-away database: the published development keys, as the test suite uses them.
os.environ.setdefault("OPUS_DEVELOPMENT_KEYS", "1")

import django  # noqa: E402

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
    "closed": 20,
    "draft": 10,
    "submitted": 10,
    "awaiting_signature": 5,
    "provisioning": 5,
    "withdrawn": 5,
    "rejected": 5,
}


class World:
    """The people, catalogue and customers the orders are made for."""

    def __init__(self) -> None:
        from accounts.models import User
        from bench.common import customers
        from billing.models import InterfacePrice, PackagePrice, PriceList
        from ordering.models import CustomerMembership, ExternalSystem, IntegrationPackage, Interface, Vendor

        self.rng = random.Random(42)
        self.managers = [User.objects.create(username=f"am{i}", is_staff=True) for i in (1, 2)]
        self.orderer = User.objects.create(username="orderer", first_name="Olga")
        self.interfaces = [
            Interface.objects.create(code=f"ws{i}", name_da=f"Snitflade {i}", name_en=f"Interface {i}")
            for i in range(6)
        ]
        vendor = Vendor.objects.create(name="Bench A/S", cvr="31415926")
        self.systems = [
            ExternalSystem.objects.create(name=f"System {i}", vendor=vendor, category="other", is_standard=True)
            for i in range(5)
        ]
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
        self.orders = 0
        self.invoice_months = 0

    def customer_for(self, k: int):
        # The orderer's customer gets every fourth order; the other 49 share the rest.
        return self.customers[0] if k % 4 == 0 else self.customers[1 + (k - k // 4 - 1) % (CUSTOMERS - 1)]

    def add_orders(self, n: int) -> None:
        from audit.trail import audit_record
        from ordering.audit import AuditKind
        from ordering.models import AccessOrder

        rng, now = self.rng, timezone.now()
        states = [s for s, weight in STATES.items() for _ in range(weight)]
        orders = []
        for k in range(self.orders, self.orders + n):
            package = rng.random() < 0.2
            created = now - datetime.timedelta(minutes=rng.randrange(60, 3 * 365 * 24 * 60))
            state = rng.choice(states)
            orders.append(
                AccessOrder(
                    customer=self.customer_for(k),
                    external_system=self.package.external_system if package else rng.choice(self.systems),
                    purchase_model="package" if package else "single",
                    package=self.package if package else None,
                    environment=rng.choice(["production", "test"]),
                    integration_type="standard",
                    state=state,
                    created_by=self.orderer,
                    created_at=created,
                    submitted_at=None if state == "draft" else created + datetime.timedelta(hours=1),
                    activated_on=(created + datetime.timedelta(days=7)).date()
                    if state in ("active", "closed")
                    else None,
                    closed_on=(created + datetime.timedelta(days=200)).date() if state == "closed" else None,
                    requisition_number=f"R{k}",
                )
            )
        orders = AccessOrder.objects.bulk_create(orders, batch_size=1000)
        Through = AccessOrder.interfaces.through
        Through.objects.bulk_create(
            [
                Through(accessorder=o, interface=i)
                for o in orders
                if o.purchase_model == "single"
                for i in rng.sample(self.interfaces, rng.choice([1, 1, 2, 3]))
            ],
            batch_size=2000,
        )
        with transaction.atomic():  # one transaction for all: each append locks the chain head
            for o in orders:
                audit_record(
                    kind=AuditKind.CREATE, actor=self.orderer, role="orderer", order=o, from_state="", to_state=o.state
                )
        self.orders += n
        self._licences()
        self._invoices(max(1, self.orders // 200))

    def _licences(self) -> None:
        """One running licence per customer and interface some live order uses (licences are the customer's)."""
        from billing.models import RecurringFee
        from ordering.models import ACCESS_AGREED_STATES, AccessOrder

        used = set(
            AccessOrder.objects.filter(state__in=ACCESS_AGREED_STATES, purchase_model="single").values_list(
                "customer_id", "interfaces"
            )
        )
        have = set(RecurringFee.objects.filter(kind="licence").values_list("customer_id", "interface_id"))
        some_order = dict(AccessOrder.objects.values_list("customer_id", "pk"))
        RecurringFee.objects.bulk_create(
            RecurringFee(
                customer_id=customer_id,
                order_id=some_order[customer_id],
                kind="licence",
                interface_id=interface_id,
                description_da="Licens",
                description_en="Licence",
                monthly_fee=Decimal("3100"),
                starts_on=datetime.date(2024, 1, 1),
            )
            for customer_id, interface_id in used - have
            if interface_id
        )

    def _invoices(self, months: int) -> None:
        """An invoice per customer and month; as many months as there are 200 orders."""
        from billing.models import BillingRun, Invoice

        invoices = []
        for m in range(self.invoice_months, months):
            period = datetime.date(2010 + m // 12, m % 12 + 1, 1)
            run = BillingRun.objects.create(period=period)
            invoices += [
                Invoice(
                    run=run,
                    period=period,
                    number=f"{period:%Y%m}-{c.pk:05d}",
                    # what an invoice copies from its customer
                    **{"customer": c, "customer_name": c.name, "cvr": c.cvr, "ean": c.ean},
                    total_excl_vat=Decimal("3100.00"),
                    vat=Decimal("775.00"),
                    total_incl_vat=Decimal("3875.00"),
                )
                for c in self.customers
            ]
        Invoice.objects.bulk_create(invoices, batch_size=1000)
        self.invoice_months = max(self.invoice_months, months)

    def detail_order(self):
        """An active order of the orderer's customer with a real history and an accepted, frozen addendum."""
        from audit.trail import audit_record
        from billing.quotes import quote_for_order
        from ordering.audit import AuditKind
        from ordering.models import AccessOrder, Addendum

        manager = self.customers[0].account_manager
        created = timezone.now() - datetime.timedelta(days=30)
        with transaction.atomic():
            order = AccessOrder.objects.create(
                customer=self.customers[0],
                external_system=self.systems[1],
                purchase_model="single",
                environment="production",
                integration_type="standard",
                created_by=self.orderer,
                created_at=created,
                requisition_number="R-detail",
            )
            order.interfaces.set(self.interfaces[2:4])
            quote, price_list = quote_for_order(order)
            steps = [
                (AuditKind.CREATE, self.orderer, "orderer", "", "draft"),
                (AuditKind.SUBMIT, self.orderer, "orderer", "draft", "submitted"),
                (AuditKind.ISSUE_ADDENDUM, manager, "account_manager", "submitted", "awaiting_signature"),
                (AuditKind.ACCEPT, self.orderer, "signatory", "awaiting_signature", "provisioning"),
                (AuditKind.ACTIVATE, manager, "account_manager", "provisioning", "active"),
            ]
            for kind, actor, role, before, after in steps:
                audit_record(kind=kind, actor=actor, role=role, order=order, from_state=before, to_state=after)
            Addendum.objects.create(
                order=order,
                version=1,
                status="accepted",
                issued_by=manager,
                decided_by=self.orderer,
                decided_at=created + datetime.timedelta(days=2),
                render_status="ready",
                quote=quote.to_dict(),
                price_list=price_list,
            )
            AccessOrder.objects.filter(pk=order.pk).update(
                state="active", submitted_at=created, activated_on=(created + datetime.timedelta(days=3)).date()
            )
        self.orders += 1
        return order


def get(client: Client, url: str) -> int:
    status = client.get(url, secure=True).status_code
    # What a WSGI server's request_finished does (the test client leaves it out): close the database
    # connection unless DATABASE_CONN_MAX_AGE keeps it, so the next request pays for a new one.
    close_old_connections()
    return status


def queries_of(client: Client, url: str) -> tuple[int, int]:
    """(queries, status) of one request."""
    queries = []

    def count(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        status = get(client, url)
    return len(queries), status


def use_database(name: str) -> None:
    connection.close()
    connection.settings_dict["NAME"] = settings.DATABASES["default"]["NAME"] = name


def pages(world: World, order) -> list[tuple[str, object, str]]:
    manager, orderer = world.customers[0].account_manager, world.orderer
    order_list = reverse("ordering:order_list")
    detail = reverse("ordering:order_detail", args=[order.pk])
    return [
        ("account manager: order list", manager, order_list),
        ("account manager: list page 200", manager, order_list + "?page=200"),
        ("orderer: order list", orderer, order_list),
        ("account manager: order detail", manager, detail),
        ("orderer: order detail", orderer, detail),
        ("account manager: invoice list", manager, reverse("billing:invoice_list")),
    ]


def measure(databases: dict[str, str], world: World, order, rounds: int, runs: int) -> dict:
    """{(size, page): (queries, status, [seconds…])}: rounds alternate between the databases, so a
    machine busy with something else for a while slows both sizes alike."""
    clients, results = {}, {}
    for size, name in databases.items():
        use_database(name)
        for page, user, url in pages(world, order):
            clients[size, page] = client = Client()
            # Logged in as people are in production: through MitID Erhverv or Entra ID, not a password.
            client.force_login(user, backend="accounts.backends.IdentityProviderBackend")
            results[size, page] = (*queries_of(client, url), [])
    for _ in range(rounds):
        for size, name in databases.items():
            use_database(name)
            for page, _user, url in pages(world, order):
                for _ in range(2):  # warm-up: the connection (after the switch), caches
                    get(clients[size, page], url)
                for _ in range(runs):
                    started = time.perf_counter()
                    get(clients[size, page], url)
                    results[size, page][2].append(time.perf_counter() - started)
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--runs", type=int, default=5, help="timed requests per page and round")
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
    original = connection.settings_dict["NAME"]
    small = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    large = f"{small}_large"
    try:
        started = time.perf_counter()
        world = World()
        order = world.detail_order()
        world.add_orders(SMALL - 1)
        connection.close()
        with connection._nodb_cursor() as cursor:  # the large database starts as a copy of the small one
            cursor.execute(f'DROP DATABASE IF EXISTS "{large}"')
            cursor.execute(f'CREATE DATABASE "{large}" TEMPLATE "{small}"')
        use_database(large)
        world.add_orders(LARGE - SMALL)
        filled = time.perf_counter() - started
        for name in (small, large):
            use_database(name)
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")  # statistics and visibility map, as autovacuum keeps them
        results = measure({SMALL: small, LARGE: large}, world, order, args.rounds, args.runs)
        print(
            f"{connection.vendor}, CONN_MAX_AGE={connection.settings_dict['CONN_MAX_AGE']}, {SMALL:,} and "
            f"{LARGE:,} orders (filled in {filled:.0f} s), median of {args.rounds} × {args.runs} requests a page"
        )
        print(f"{'page':<32} {'queries':>9} {f'{SMALL:,} orders':>12} {f'{LARGE:,} orders':>14} {'ratio':>7}")
        failed = False
        for page, _user, _url in pages(world, order):
            (q_small, status_small, t_small), (q_large, status_large, t_large) = (
                results[SMALL, page],
                results[LARGE, page],
            )
            t_small, t_large = statistics.median(t_small), statistics.median(t_large)
            flags = "" if status_small == status_large == 200 else f"  (HTTP {status_small}/{status_large})"
            failed = failed or bool(flags)
            print(
                f"{page:<32} {q_small:>4} / {q_large:<3} {t_small * 1000:>9.1f} ms {t_large * 1000:>11.1f} ms "
                f"{t_large / t_small:>6.2f}×{flags}"
            )
    finally:
        use_database(small)
        with connection._nodb_cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{large}"')
        connection.creation.destroy_test_db(original, verbosity=0)
    if failed:
        sys.exit("A page did not answer 200: its figures measure a redirect or an error, not the page.")


if __name__ == "__main__":
    main()
