"""Benchmark: the monthly billing run for 100 customers × 50 accesses × 12 months.

Run against a throw-away database, e.g.:
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/opus_adgang_bench .venv/bin/python bench/bench_billing.py
(SQLite works too, without DATABASE_URL.) It creates the test database itself (Django's test
runner machinery), fills it with 5,000 accesses, each with a package fee and a one-time charge,
some closed mid-year, runs the billing for each month of 2026, and prints time and query count
per run. The query count must not grow with the number of lines.
"""

import datetime
import os
import random
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402

CUSTOMERS, ACCESSES, MONTHS = 100, 50, 12


def populate() -> None:
    from accounts.models import User
    from billing.models import Charge, PriceList, RecurringFee
    from ordering.models import AccessOrder, Customer, ExternalSystem, Vendor
    from ordering.validators import gs1_check_digit

    rng = random.Random(42)
    PriceList.objects.create(
        name="Bench",
        effective_from=datetime.date(2020, 1, 1),
        setup_fee=Decimal("7500"),
        startup_package_price=Decimal("35000"),
        consulting_hourly_rate=Decimal("1450"),
    )
    manager = User.objects.create(username="am", is_staff=True)
    vendor = Vendor.objects.create(name="Bench A/S", cvr="31415926")
    system = ExternalSystem.objects.create(name="Bench", vendor=vendor, category="other", is_standard=True)
    customers = Customer.objects.bulk_create(
        [
            Customer(
                name=f"Kommune {i}",
                cvr=f"{10000000 + i}",
                ean=f"579800{i:06d}" + str(gs1_check_digit(f"579800{i:06d}")),
                account_manager=manager,
            )
            for i in range(CUSTOMERS)
        ]
    )
    orders = AccessOrder.objects.bulk_create(
        [
            AccessOrder(
                customer=c,
                external_system=system,
                purchase_model="single",
                environment="production",
                integration_type="standard",
                state="active",
                created_by=manager,
                requisition_number=f"R{j}",
            )
            for c in customers
            for j in range(ACCESSES)
        ]
    )
    fees, charges = [], []
    for order in orders:
        start = datetime.date(2026, 1, 1) + datetime.timedelta(days=rng.randrange(0, 200))
        end = start + datetime.timedelta(days=rng.randrange(1, 300)) if rng.random() < 0.3 else None
        fees.append(
            RecurringFee(
                customer_id=order.customer_id,
                order=order,
                kind="package",
                description_da="Pakke",
                description_en="Package",
                monthly_fee=Decimal("3900.00"),
                starts_on=start,
                ends_on=end,
            )
        )
        charges.append(
            Charge(
                customer_id=order.customer_id,
                order=order,
                kind="one_time",
                rule="setup_fee",
                description_da="Opsætning",
                description_en="Setup",
                amount=Decimal("7500.00"),
                booked_on=start,
                recorded_by=manager,
            )
        )
    RecurringFee.objects.bulk_create(fees, batch_size=500)
    Charge.objects.bulk_create(charges, batch_size=500)


def main() -> None:
    from billing.models import InvoiceLine
    from billing.services import billing_run

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        started = time.perf_counter()
        populate()
        print(
            f"{connection.vendor}: {CUSTOMERS} customers × {ACCESSES} accesses, filled in {time.perf_counter() - started:.1f} s"
        )
        total = 0.0
        for month in range(1, MONTHS + 1):
            lines_before = InvoiceLine.objects.count()
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                billing_run(period=datetime.date(2026, month, 1))
                elapsed = time.perf_counter() - started
            total += elapsed
            lines = InvoiceLine.objects.count() - lines_before
            inserts = sum(q["sql"].startswith("INSERT") for q in queries.captured_queries)
            print(
                f"2026-{month:02d}: {elapsed:6.2f} s, {len(queries.captured_queries):3d} queries "
                f"({inserts} inserts), {lines:5d} lines"
            )
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            billing_run(period=datetime.date(2026, 12, 1))
        print(
            f"rerun 2026-12: {time.perf_counter() - started:.2f} s, {len(queries.captured_queries)} queries, "
            f"{InvoiceLine.objects.count()} lines in all (unchanged)"
        )
        print(f"12 runs: {total:.1f} s")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
