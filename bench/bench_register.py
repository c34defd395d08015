"""Benchmark: the signed access register for 10,000 established accesses, beside the bare rows as JSON.

Run against a throw-away database, e.g.:
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/opus_bench_register .venv/bin/python bench/bench_register.py
(SQLite works too, without DATABASE_URL.) It creates the test database itself (Django's test runner
machinery) and drops it afterwards. It fills it with 100 established production accesses, counts the
queries of one register request, then adds 9,900 more (and as many orders in other states and in the
test environment, which the register must skip) and counts again: the two counts must be equal.

The mix: 70 % standard integration (one to three interfaces each), 10 % integration packages, 20 %
individual integration with a current certificate, and one in ten of those in the middle of a
rollover (the old certificate still listed). Certificates are rows with distinct fingerprints and
OCES3-shaped subjects; one real chain is made, as signing thousands would only time RSA.

Timed, median of --runs (7) after a warm-up:
- the register: GET /api/v1/access-register?environment=production through Django's test client with
  a gateway token, the whole middleware stack, the signature and the ETag;
- the bare rows: the same rows fetched with `.values()` (orders with their customer, system and
  vendor; their interfaces, a package order's frozen at its addendum's issue; their certificates) and serialised with the
  standard `json` module alone.
Printed: both, and the ratio, which must be at most 3.
"""

import argparse
import datetime
import json
import os
import random
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# A benchmark fills a throw-away database: the published development keys, as the test suite uses them.
os.environ.setdefault("OPUS_DEVELOPMENT_KEYS", "1")

import django  # noqa: E402

django.setup()

from django.db import close_old_connections, connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402

SMALL, LARGE, CUSTOMERS = 100, 10_000, 100
URL = "/api/v1/access-register?environment=production"


class World:
    def __init__(self) -> None:
        from accounts.models import User
        from bench.common import customers
        from certificates.testing import make_leaf, make_pki, pem
        from certificates.validation import _entry
        from ordering.models import ExternalSystem, IntegrationPackage, Interface, Vendor

        self.rng = random.Random(42)
        self.orderer = User.objects.create(username="orderer")
        manager = User.objects.create(username="am", is_staff=True)
        self.interfaces = [
            Interface.objects.create(code=f"ws{i}", name_da=f"Snitflade {i}", name_en=f"Interface {i}")
            for i in range(7)
        ]
        vendors = [Vendor.objects.create(name=f"Leverandør {i} A/S", cvr=f"{31415900 + i}") for i in range(10)]
        self.standard = [
            ExternalSystem.objects.create(
                name=f"System {i}", vendor=vendors[i % 10], category="other", is_standard=True
            )
            for i in range(20)
        ]
        self.own = [
            ExternalSystem.objects.create(name=f"Eget {i}", vendor=vendors[i % 10], category="other") for i in range(20)
        ]
        self.package = IntegrationPackage.objects.create(
            code="pakke", name_da="Pakke", external_system=self.standard[0]
        )
        self.package.interfaces.set(self.interfaces[:3])
        self.customers = customers(CUSTOMERS, name="Kommune {:03d}", first_cvr=20000000, account_manager=manager)
        pki = make_pki()
        self.chain = _entry(make_leaf(pki), "leaf")
        self.leaf_pem = pem(make_leaf(pki)).decode()
        self.count = 0

    def add(self, n: int) -> None:
        """n established production accesses, and n orders the register must skip."""
        orders = self._orders(n)
        self._interfaces(orders)
        self._certificates([o for o in orders if o.integration_type == "individual"])
        self.count += 2 * n

    def _orders(self, n: int) -> list:
        from ordering.models import AccessOrder

        rng, now = self.rng, timezone.now()
        orders = []
        for k in range(self.count, self.count + 2 * n):
            listed = k - self.count < n
            kind = rng.random()
            individual, package = kind < 0.2, 0.2 <= kind < 0.3
            activated = (now - datetime.timedelta(days=rng.randrange(1, 1500))).date()
            if listed:
                state, environment = rng.choice(["active", "active", "active", "closure_requested"]), "production"
            else:  # ended, not yet established, or established in the other environment
                state = rng.choice(["closed", "emergency_closed", "draft", "provisioning", "active"])
                environment = "test" if state == "active" or k % 2 else "production"
            orders.append(
                AccessOrder(
                    customer=self.customers[k % CUSTOMERS],
                    external_system=rng.choice(self.own)
                    if individual
                    else (self.package.external_system if package else rng.choice(self.standard)),
                    purchase_model="package" if package else "single",
                    package=self.package if package else None,
                    environment=environment,
                    integration_type="individual" if individual else "standard",
                    state=state,
                    created_by=self.orderer,
                    activated_on=activated,
                    closed_on=activated + datetime.timedelta(days=1) if state.endswith("closed") else None,
                )
            )
        return AccessOrder.objects.bulk_create(orders, batch_size=2000)

    def _interfaces(self, orders: list) -> None:
        from ordering.models import AccessOrder

        rng = self.rng
        Through = AccessOrder.interfaces.through
        Through.objects.bulk_create(
            [
                Through(accessorder=o, interface=i)
                for o in orders
                # A package order holds the interfaces its addendum froze from the package (ordering.services).
                for i in (
                    self.interfaces[:3]
                    if o.purchase_model == "package"
                    else rng.sample(self.interfaces, rng.choice([1, 1, 2, 3]))
                )
            ],
            batch_size=5000,
        )

    def _certificates(self, individual: list) -> None:
        """One chain in use for each individual integration, and a rollover for one in ten."""
        from certificates.models import Certificate, CertificateBundle, CertificateUpload

        rng, now = self.rng, timezone.now()
        # (order, status, confirmed/superseded moment)
        slots = []
        for o in individual:
            if rng.random() < 0.1:
                moment = now - datetime.timedelta(days=rng.randrange(1, 13))
                slots += [(o, "superseded", moment), (o, "current", moment)]
            else:
                slots.append((o, "current", None))
        uploads = CertificateUpload.objects.bulk_create(
            [
                CertificateUpload(
                    order=o,
                    uploaded_by=self.orderer,
                    environment=o.environment,
                    filename="kaede.pem",
                    size=4000,
                    sha256=uuid.uuid4().hex * 2,
                    verdict="accepted",
                )
                for o, _status, _moment in slots
            ],
            batch_size=5000,
        )
        bundles = CertificateBundle.objects.bulk_create(
            [
                CertificateBundle(
                    order=o,
                    upload=upload,
                    environment=o.environment,
                    status=status,
                    data=self.leaf_pem.encode(),
                    confirmed_at=moment if status == "current" else None,
                    superseded_at=moment if status == "superseded" else None,
                )
                for (o, status, moment), upload in zip(slots, uploads, strict=True)
            ],
            batch_size=5000,
        )
        # A rollover's old chain names the chain that replaced it (CertificateBundle.replaced_by).
        current = {b.order_id: b for b in bundles if b.status == "current"}
        replaced = [b for b in bundles if b.status == "superseded"]
        for b in replaced:
            b.replaced_by = current[b.order_id]
        CertificateBundle.objects.bulk_update(replaced, ["replaced_by"], batch_size=5000)
        chain = self.chain
        Certificate.objects.bulk_create(
            [
                Certificate(
                    bundle=b,
                    position=0,
                    role="leaf",
                    pem=self.leaf_pem,
                    sha256=uuid.uuid4().hex * 2,
                    subject=f"CN=System {b.order_id} (systemcertifikat),serialNumber=UI:DK-O:G:{uuid.uuid4()},"
                    f"organizationIdentifier=NTRDK-{b.order.external_system.vendor.cvr},O=Leverandør,C=DK",
                    issuer=chain.issuer,
                    serial=uuid.uuid4().hex,
                    not_before=chain.not_before,
                    not_after=chain.not_after,
                    key=chain.key,
                )
                for b in bundles
            ],
            batch_size=5000,
        )


def bare_rows() -> bytes:
    """The same rows as the register reads, with .values(), as JSON by the standard library alone."""
    from certificates.models import Certificate
    from ordering.models import AccessOrder
    from registers.access import CERTIFICATE_FIELDS, ENTRY_FIELDS, listed_orders

    orders = listed_orders("production", now=timezone.now())
    ids = orders.values("pk")
    rows = {
        "orders": list(orders.order_by("pk").values(*ENTRY_FIELDS)),
        "interfaces": list(
            AccessOrder.interfaces.through.objects.filter(accessorder_id__in=ids).values(
                "accessorder_id", "interface__code"
            )
        ),
        "certificates": list(
            Certificate.objects.filter(role="leaf", bundle__order_id__in=ids, not_after__gt=timezone.now())
            .order_by("bundle__order_id")
            .values(*CERTIFICATE_FIELDS)
        ),
    }
    return json.dumps(rows, default=str).encode()


def register(client: Client, key: str) -> tuple[int, int, int]:
    """(status, bytes, queries) of one register request through the whole stack."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(URL, secure=True, HTTP_AUTHORIZATION=f"Bearer {key}")
    close_old_connections()  # as a WSGI server's request_finished does
    assert response.has_header("JWS-Signature") and response.has_header("ETag"), response.status_code
    return response.status_code, len(response.content), len(queries)


def median_time(action, runs: int) -> float:
    action()  # warm-up: connection, caches
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    setup_test_environment()
    original = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        from bench.common import gateway_key

        key = gateway_key("bench gateway")
        client = Client()
        world = World()
        world.add(SMALL)
        register(client, key)  # the token's first use is written down once
        status, _size, q_small = register(client, key)
        assert status == 200, status
        started = time.perf_counter()
        world.add(LARGE - SMALL)
        filled = time.perf_counter() - started
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")
        status, size, q_large = register(client, key)
        listed = len(json.loads(client.get(URL, secure=True, HTTP_AUTHORIZATION=f"Bearer {key}").content)["accesses"])
        assert status == 200 and listed == LARGE, (status, listed)

        t_register = median_time(lambda: register(client, key), args.runs)
        t_bare = median_time(bare_rows, args.runs)
        ratio = t_register / t_bare
        print(
            f"{connection.vendor}, {listed:,} established accesses (+{LARGE:,} others; filled in {filled:.0f} s), "
            f"median of {args.runs}"
        )
        print(f"queries per register request: {q_small} at {SMALL:,} accesses, {q_large} at {LARGE:,}")
        print(f"signed register through the test client: {t_register * 1000:8.1f} ms  ({size / 1e6:.1f} MB)")
        print(f".values() + json.dumps alone:            {t_bare * 1000:8.1f} ms  ({len(bare_rows()) / 1e6:.1f} MB)")
        print(f"ratio: {ratio:.2f}× (at most 3)")
        assert q_small == q_large, "the query count grows with the register"
        assert ratio <= 3, f"the register costs {ratio:.2f}× the bare rows"
    finally:
        connection.creation.destroy_test_db(original, verbosity=0)


if __name__ == "__main__":
    main()
