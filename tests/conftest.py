"""The cast every test draws from: two customers, their people, KMD's people, a small catalogue."""

import io
import json
import logging
import os
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from accounts.models import User
from certificates.testing import make_leaf, make_pki
from certificates.validation import TrustAnchors
from config import celery_app
from config.logs import JsonLinesFormatter
from ordering import models, services


def pytest_configure(config):
    """Every prepared query is compared with the ORM's own for the same values wherever a test runs it
    (core/prepared.py).

    OPUS_TEST_NOW=2027-01-31T23:30:00+01:00 runs the whole suite from that instant on (the clock ticks on).

    No test may depend on the day of the month, the time of day or the month's length; running the suite
    from the 1st, the 12th and the 31st of a month, and just before midnight, shows whether one does
    (README, "Tests"). Started here, before collection, so that module constants read the moved clock too.
    """
    from core import prepared

    prepared.CHECK = True
    moment = os.environ.get("OPUS_TEST_NOW")
    if moment:
        import time_machine

        config._opus_clock = time_machine.travel(datetime.fromisoformat(moment), tick=True)
        config._opus_clock.start()


def pytest_unconfigure(config):
    clock = getattr(config, "_opus_clock", None)
    if clock is not None:
        clock.stop()


def pytest_report_header(config):
    moment = os.environ.get("OPUS_TEST_NOW")
    return f"clock moved to {moment} (OPUS_TEST_NOW)" if moment else None


@pytest.fixture(autouse=True)
def eager_celery():
    """Run tasks in-process: a test asserts what a task did. One test uses the real broker instead."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


TEST_DATABASE_SUFFIX = "OPUS_TEST_DATABASE_SUFFIX"


def with_test_database_suffix(databases: dict, suffix: str) -> None:
    """Each server database's test database named test_<name>_<suffix>; SQLite's is in memory, one per process."""
    if not suffix:
        return
    for db in databases.values():
        if db["ENGINE"] != "django.db.backends.sqlite3":
            db.setdefault("TEST", {})["NAME"] = f"test_{db['NAME']}_{suffix}"


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """OPUS_TEST_DATABASE_SUFFIX=x: a test database of this run's own. `make test` runs the tests marked
    `processes` in a second pytest beside the rest (Makefile), and two runs at once must not create, use and drop
    the same test database."""
    from django.conf import settings

    with_test_database_suffix(settings.DATABASES, os.environ.get(TEST_DATABASE_SUFFIX, ""))


@pytest.fixture(scope="session", autouse=True)
def flush_past_the_audit_trigger():
    """Let transactional tests empty the database between tests on PostgreSQL.

    The audit table refuses TRUNCATE (migration 0006). Django's flush after a transactional test
    truncates every table; here it does so as a replication session, which fires no ordinary trigger.
    Only the test run does this; the application never flushes.
    """
    from django.db.backends.postgresql.operations import DatabaseOperations

    original = DatabaseOperations.sql_flush

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        statements = original(self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
        if not statements:
            return statements
        return ["SET LOCAL session_replication_role = replica", *statements]

    DatabaseOperations.sql_flush = sql_flush
    yield
    DatabaseOperations.sql_flush = original


@pytest.fixture(scope="session", autouse=True)
def plain_http(django_test_environment):
    """The test client and the live server speak plain HTTP; outside DEBUG the app redirects that to HTTPS.

    Session-wide, so that it is in force before the (session-wide) live server loads its middleware.
    """
    from django.test.utils import override_settings

    # The cast logs in with passwords, as in the demo; tests of the production rule set PASSWORD_LOGIN themselves.
    with override_settings(SECURE_SSL_REDIRECT=False, PASSWORD_LOGIN="all"):
        yield


@pytest.fixture(autouse=True)
def support_contact(settings):
    """Support's phone and e-mail as production sets them: an addendum is not issued with the placeholders."""
    settings.SUPPORT_PHONE = "+45 44 60 10 00"
    settings.SUPPORT_EMAIL = "opus-support@kmd.example"


@pytest.fixture(autouse=True)
def menu_counted_every_page(monkeypatch):
    """The menu's count afresh on every page and kept nowhere, as before it was kept a minute in the session
    (config.context_processors.waiting_count): a test that compares two requests' queries then compares like
    with like, the counting path included. The tests of keeping it (tests/test_counting.py) put it back."""
    from config import context_processors

    monkeypatch.setattr(
        context_processors, "waiting_count", lambda request, user: context_processors.count_waiting(user)
    )


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # The production hasher is slow on purpose; tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# --- PostgreSQL without autovacuum ----------------------------------------------------------------
# The machines' PostgreSQL runs with autovacuum off. Every test's rolled-back rows stay behind as dead tuples in
# never-analysed tables, and after a thousand tests the planner reads bloated tables with guessed statistics:
# the page walk over the demo data took 270 s in CI's PostgreSQL run, 17 s on its own. So, between modules, once
# enough tests have run, the test database is vacuumed and analysed as a running server's autovacuum would.
VACUUM_AFTER_TESTS = 100
_tests_since_vacuum = 0


@pytest.fixture(autouse=True)
def _counted_for_vacuum():
    global _tests_since_vacuum
    _tests_since_vacuum += 1


@pytest.fixture(scope="module", autouse=True)
def _postgresql_vacuumed(request, django_db_blocker):
    global _tests_since_vacuum
    from django.db import connection

    if connection.vendor == "postgresql" and _tests_since_vacuum >= VACUUM_AFTER_TESTS:
        request.getfixturevalue("django_db_setup")  # made by the tests before: this only finds it
        with django_db_blocker.unblock(), connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")  # outside any test's transaction: between modules
        _tests_since_vacuum = 0


@pytest.fixture(autouse=True)
def fast_documents(request, monkeypatch, settings, tmp_path):
    """Addendum PDFs go to a temporary private storage, rendered by a fast stand-in.

    WeasyPrint takes about half a second a document; tests about the document itself are marked
    `weasyprint` and render the real thing. The stand-in's bytes depend on the HTML, so a changed
    document still has a different hash.
    """
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {**settings.STORAGES["default"], "OPTIONS": {"location": str(tmp_path / "private")}},
    }
    # Signed audit checkpoints (written after an acceptance, an emergency closure, every Nth event) go there too.
    settings.AUDIT_CHECKPOINT_DIR = tmp_path / "private" / "audit-checkpoints"
    if request.node.get_closest_marker("weasyprint"):
        return
    import hashlib

    from ordering import documents

    def stand_in(html: str) -> bytes:
        return b"%PDF-1.7\n% test stand-in\n% " + hashlib.sha256(html.encode()).hexdigest().encode() + b"\n%%EOF\n"

    monkeypatch.setattr(documents, "html_to_pdf", stand_in)


@pytest.fixture(autouse=True)
def static_files_from_finders(settings):
    # Tests do not run collectstatic; pages link to the files where the finders find them.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def form_tokens_sent_like_csrf(monkeypatch):
    """The test client sends a fresh form token with each POST of a logged-in user, as it skips the CSRF check.

    Tests post data, not the pages that carry the token (core/form_tokens.py); tests about the tokens
    send `form_token` themselves, and then exactly what they send is posted.
    """
    from django.conf import settings as django_settings
    from django.contrib.auth import SESSION_KEY
    from django.test import Client

    from core.form_tokens import FIELD, form_token_issue

    post = Client.post

    def post_with_token(self, path, data=None, *args, **kwargs):
        logged_in = django_settings.SESSION_COOKIE_NAME in self.cookies and self.session.get(SESSION_KEY)
        if logged_in and (data is None or (isinstance(data, dict) and FIELD not in data)):
            data = {**(data or {}), FIELD: form_token_issue(self.session[SESSION_KEY])}
        return post(self, path, data, *args, **kwargs)

    monkeypatch.setattr(Client, "post", post_with_token)


def make_user(username: str, **extra) -> User:
    return User.objects.create_user(
        username=username,
        password="a-long-test-password",
        email=f"{username}@example.test",
        first_name=username.split("_")[0].capitalize(),
        **extra,
    )


@pytest.fixture
def cast(db):
    am_a = make_user("am_a", is_staff=True)
    am_b = make_user("am_b", is_staff=True)
    support = make_user("support", is_staff=True, is_support=True)
    outsider = make_user("outsider")

    # What an addendum states for each interface (ordering.services refuses to issue one without them).
    web = {
        code: models.Interface.objects.create(
            code=code,
            name_da=name,
            name_en=name,
            cpr_numbers=True,
            processing_purpose=f"Udveksling af oplysninger gennem {name} til brug for Kundens lønadministration.",
            data_subjects="Kundens medarbejdere",
        )
        for code, name in [
            ("opret-fravaer", "Opret Fravær"),
            ("medarbejderoplysninger", "Medarbejderoplysninger"),
            ("engangsydelser", "Engangsydelser"),
            ("moedetidsplaner", "Mødetidsplaner"),
        ]
    }
    ind01 = models.Interface.objects.create(
        code="ind01", name_da="IND01", kind="file", replaced_by=web["engangsydelser"]
    )
    vendor = models.Vendor.objects.create(name="Vagtdata A/S", cvr="31415926")
    rostering = models.ExternalSystem.objects.create(
        name="VagtPlan", vendor=vendor, category="rostering", is_standard=True
    )
    rostering.standard_interfaces.set([web["opret-fravaer"], web["medarbejderoplysninger"], web["moedetidsplaner"]])
    canteen = models.ExternalSystem.objects.create(
        name="KantineKort", vendor=vendor, category="canteen", is_standard=True
    )
    canteen.standard_interfaces.set([web["engangsydelser"]])
    package = models.IntegrationPackage.objects.create(
        code="vagtplanpakke", name_da="Vagtplanpakke", external_system=rostering
    )
    package.interfaces.set([web["opret-fravaer"], web["moedetidsplaner"]])

    customer_a = models.Customer.objects.create(
        name="Aarhus Kommune", cvr="55133018", ean="5798000137004", account_manager=am_a
    )
    customer_b = models.Customer.objects.create(
        name="Odense Kommune", cvr="35209115", ean="5798000164505", account_manager=am_b
    )
    contract = models.MainContract.objects.create(customer=customer_a, reference="HA-1")
    models.ContractInterface.objects.create(contract=contract, interface=web["opret-fravaer"])
    own_system = models.ExternalSystem.objects.create(
        name="Eget værktøj", vendor=vendor, category="other", owner=customer_a
    )

    price_list = make_price_list(web, [package])

    people = {}
    for customer, suffix in ((customer_a, "a"), (customer_b, "b")):
        orderer = make_user(f"orderer_{suffix}")
        signatory = make_user(f"signatory_{suffix}")
        models.CustomerMembership.objects.create(user=orderer, customer=customer, is_orderer=True)
        models.CustomerMembership.objects.create(user=signatory, customer=customer, is_signatory=True)
        people[f"orderer_{suffix}"], people[f"signatory_{suffix}"] = orderer, signatory

    return SimpleNamespace(
        customer_a=customer_a,
        customer_b=customer_b,
        am_a=am_a,
        am_b=am_b,
        support=support,
        outsider=outsider,
        interfaces=web,
        ind01=ind01,
        rostering=rostering,
        canteen=canteen,
        own_system=own_system,
        package=package,
        price_list=price_list,
        **people,
    )


def make_price_list(interfaces: dict, packages: list, *, effective_from=None, name: str = "Prisliste 2026"):
    """Round example prices, so expected amounts are easy to read in tests."""
    import datetime
    from decimal import Decimal

    from billing.models import InterfacePrice, PackagePrice, PriceList

    price_list = PriceList.objects.create(
        name=name,
        effective_from=effective_from or datetime.date(2020, 1, 1),
        is_example=True,
        setup_fee=Decimal("5000.00"),
        startup_package_price=Decimal("25000.00"),
        consulting_hourly_rate=Decimal("1500.00"),
    )
    for interface in interfaces.values():
        InterfacePrice.objects.create(
            price_list=price_list,
            interface=interface,
            licence_start_fee=Decimal("10000.00"),
            monthly_fee=Decimal("3100.00"),
            additional_system_fee=Decimal("2500.00"),
        )
    for package in packages:
        PackagePrice.objects.create(price_list=price_list, package=package, monthly_fee=Decimal("6200.00"))
    return price_list


def facts(cast, *, system=None, codes=("opret-fravaer",), environment="production", **overrides) -> dict:
    base = {
        "external_system": system or cast.rostering,
        "purchase_model": "single",
        "package": None,
        "interfaces": [cast.interfaces[c] for c in codes],
        "environment": environment,
        "reason": "new",
        "replaces_file_interface": None,
        "changes_order": None,
        "requisition_number": "",
        "note": "",
        "startup_package": False,
        # The orderer confirms the agreement with the vendor on the draft (ordering.services.order_submit needs it).
        "vendor_agreement_confirmed": True,
    }
    base.update(overrides)
    return base


def acceptance(order) -> dict:
    """What a signatory sends when accepting: the hash of the rendered document they read, and who they are."""
    from ordering.models import Addendum

    addendum = order.addenda.get(status=Addendum.Status.ISSUED)
    addendum = services.addendum_render(addendum.pk)
    return {
        "document_sha256": addendum.pdf_sha256,
        "signer_name": "Tove Tegner",
        "signer_title": "HR-chef",
        "authorised": True,
    }


def accept_rendered(*, order, actor, **kwargs):
    return services.order_accept(order=order, actor=actor, **{**acceptance(order), **kwargs})


def clarify_access(*, order, actor, data_scope: str = "Alle Kundens medarbejdere; fravær og fraværskvoter."):
    """The account manager's clarification of an individual integration's access rights, for all its interfaces."""
    from ordering.clarifications import access_clarification_record

    return access_clarification_record(
        order=order, actor=actor, interfaces=order.requested_interfaces(), data_scope=data_scope
    )


def issue_addendum(*, order, actor, **kwargs):
    """Issue the addendum as the account manager does: an individual integration's access rights clarified first."""
    from ordering.models import AccessClarification, AccessOrder

    individual = order.integration_type == AccessOrder.IntegrationType.INDIVIDUAL
    if individual and not AccessClarification.objects.filter(order=order).exists():
        clarify_access(order=order, actor=actor)
    return services.order_issue_addendum(order=order, actor=actor, **kwargs)


# The path from draft to each state, as (service, who acts) steps.
PATH = [
    ("submitted", services.order_submit, "orderer", {}),
    ("awaiting_signature", issue_addendum, "am", {}),
    ("provisioning", accept_rendered, "signatory", {}),
    ("active", services.order_activate, "am", {}),
    ("closure_requested", services.order_request_closure, "orderer", {}),
]
SIDE = {
    "withdrawn": ("submitted", services.order_withdraw, "orderer", {}),
    "rejected": ("submitted", services.order_reject, "am", {"comment": "Nej"}),
    "closed": ("active", services.order_close, "am", {}),
    "emergency_closed": ("active", services.order_emergency_close, "support", {"reason": "Sikkerhedsbrud"}),
}


def actors(cast, customer):
    suffix = "a" if customer == cast.customer_a else "b"
    return {
        "orderer": getattr(cast, f"orderer_{suffix}"),
        "signatory": getattr(cast, f"signatory_{suffix}"),
        "am": customer.account_manager,
        "support": cast.support,
    }


def make_order(cast, state: str = "draft", *, customer=None, **fact_overrides):
    """An order driven through the real services to `state`."""
    customer = customer or cast.customer_a
    who = actors(cast, customer)
    order = services.order_create(actor=who["orderer"], customer=customer, facts=facts(cast, **fact_overrides))
    if state == "draft":
        return order
    target = state
    side = SIDE.get(state)
    if side:
        target = side[0]
    for reached, service, role, kwargs in PATH:
        order = service(order=order, actor=who[role], **kwargs)
        if reached == target:
            break
    if side:
        _, service, role, kwargs = side
        order = service(order=order, actor=who[role], **kwargs)
    assert order.state == state
    return order


@pytest.fixture
def order_in(cast):
    def build(state: str = "draft", **kwargs):
        return make_order(cast, state, **kwargs)

    return build


# --- Certificates: a look-alike OCES3 test PKI, made once per session ----------------------------


@pytest.fixture(scope="session")
def pki():
    return make_pki()


@pytest.fixture(scope="session")
def other_pki():
    """Another root of the same name: what a wrong or production chain looks like to the test environment."""
    return make_pki(slot=1, unit="")


@pytest.fixture(scope="session")
def leaf(pki):
    return make_leaf(pki)


@pytest.fixture(scope="session")
def trust(pki):
    return TrustAnchors("test", (pki.root,), (pki.issuing,))


@pytest.fixture
def now():
    return datetime.now(UTC)


@pytest.fixture
def trusted_test_environment(settings, tmp_path, pki):
    """The look-alike root (and issuing CA) as the test environment's anchors; no production anchors."""
    from certificates.testing import pem

    directory = tmp_path / "trust-test"
    directory.mkdir()
    (directory / "rod.pem").write_bytes(pem(pki.root))
    (directory / "udstedende.pem").write_bytes(pem(pki.issuing))
    settings.CERTIFICATE_TRUST_DIRS = {"test": [directory], "production": []}
    return directory


@pytest.fixture
def vendor_leaf(pki, cast):
    """A system certificate issued to the own system's vendor."""
    return make_leaf(pki, cvr=cast.own_system.vendor.cvr)


@pytest.fixture
def good_bundle(pki, vendor_leaf):
    from certificates.testing import pem, zip_bytes

    return zip_bytes({"kaede.pem": pem(vendor_leaf, pki.issuing)})


@pytest.fixture
def individual_order(cast, trusted_test_environment, good_bundle):
    """An individual-integration order (the customer's own system, test environment) driven to a state."""
    from certificates.services import certificate_upload

    def build(state: str = "draft", *, upload: bool = True, **fact_overrides):
        order = make_order(cast, "draft", system=cast.own_system, environment="test", **fact_overrides)
        if upload:
            certificate_upload(order=order, actor=cast.orderer_a, data=good_bundle, filename="kaede.zip")
        who = actors(cast, cast.customer_a)
        for reached, service, role, kwargs in PATH:
            if state == "draft":
                break
            order = service(order=order, actor=who[role], **kwargs)
            if reached == state:
                break
        assert order.state == state
        return order

    return build


@pytest.fixture
def security_log():
    """The security log as the operator sees it: a function returning its JSON lines, parsed."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLinesFormatter())
    logger = logging.getLogger("security")
    logger.addHandler(handler)

    def lines(event: str | None = None) -> list[dict]:
        parsed = [json.loads(line) for line in stream.getvalue().splitlines()]
        return [line for line in parsed if event is None or line["event"] == event]

    yield lines
    logger.removeHandler(handler)
