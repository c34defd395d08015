"""Certificates own how long before expiry the app acts (certificates/windows.py), and every place that asks
uses those windows, each at its exact last day: the renewal window (orderer's and support's worklists, the
first notice, the upload warning), the notice thresholds, and KMD's watch page."""

import ast
import datetime
from datetime import timedelta
from pathlib import Path

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

import ordering
from certificates import services as cert_services
from certificates.models import Certificate, ExpiryNotice
from certificates.selectors import expiring_certificates
from certificates.testing import make_leaf, pem
from certificates.windows import EXPIRY_NOTICE_DAYS, RENEWAL_WINDOW_DAYS, WATCH_WINDOW_DAYS
from ordering import lifecycle, services
from ordering.models import AccessOrder
from ordering.selectors import orderer_worklist, support_worklist
from tests.conftest import make_order


def test_the_windows_agree_with_each_other():
    assert (RENEWAL_WINDOW_DAYS, WATCH_WINDOW_DAYS, EXPIRY_NOTICE_DAYS) == (60, 90, (60, 30, 7))
    assert EXPIRY_NOTICE_DAYS[0] == RENEWAL_WINDOW_DAYS  # the first notice is when renewal falls due
    assert WATCH_WINDOW_DAYS > RENEWAL_WINDOW_DAYS  # KMD sees it coming before the customer is told


@pytest.fixture
def order_with_leaf(cast, trusted_test_environment, pki, now):
    """A submitted individual order whose certificate in use expires on the day the test sets."""
    leaf = make_leaf(pki, cvr="31415926", not_before=now - timedelta(days=900), not_after=now + timedelta(days=400))
    order = make_order(cast, "draft", system=cast.own_system, environment="test")
    cert_services.certificate_upload(order=order, actor=cast.orderer_a, data=pem(leaf, pki.issuing), filename="k.pem")
    order = services.order_submit(order=order, actor=cast.orderer_a)

    def expiring(on: datetime.date, at: datetime.time) -> AccessOrder:
        moment = timezone.make_aware(datetime.datetime.combine(on, at))
        Certificate.objects.filter(bundle__order=order, role=Certificate.Role.LEAF).update(not_after=moment)
        return order

    return expiring


TODAY = datetime.date(2027, 3, 1)
LAST_MOMENT, FIRST_MOMENT = datetime.time.max, datetime.time.min


def due(order: AccessOrder, today: datetime.date) -> bool:
    due = lifecycle.certificates().renewal_due(lifecycle.certificates().renewal_window_end(today))
    return AccessOrder.objects.filter(due, pk=order.pk).exists()


def test_renewal_is_due_through_the_last_moment_of_the_windows_last_day(order_with_leaf):
    order = order_with_leaf(TODAY + timedelta(days=RENEWAL_WINDOW_DAYS), LAST_MOMENT)
    assert due(order, TODAY)


def test_renewal_is_not_due_from_the_first_moment_of_the_day_after(order_with_leaf):
    order = order_with_leaf(TODAY + timedelta(days=RENEWAL_WINDOW_DAYS + 1), FIRST_MOMENT)
    assert not due(order, TODAY)


@pytest.mark.parametrize(("days", "listed"), [(RENEWAL_WINDOW_DAYS, True), (RENEWAL_WINDOW_DAYS + 1, False)])
def test_the_orderers_and_supports_worklists_use_the_renewal_window(cast, individual_order, days, listed):
    today = timezone.localdate()
    order = individual_order("active")  # where the orderer can upload a new certificate
    moment = timezone.make_aware(datetime.datetime.combine(today + timedelta(days=days), datetime.time(12)))
    Certificate.objects.filter(bundle__order=order, role=Certificate.Role.LEAF).update(not_after=moment)
    assert sum(wl.orders.count() for wl in orderer_worklist(cast.orderer_a, today) if wl.key == "renew") == listed
    assert sum(wl.orders.count() for wl in support_worklist(cast.support, today) if wl.key == "expiring") == listed


@pytest.mark.parametrize("threshold", EXPIRY_NOTICE_DAYS)
def test_each_notice_is_sent_on_its_day_and_not_the_day_before(cast, order_with_leaf, threshold):
    expires = timezone.localdate() + timedelta(days=400)
    order_with_leaf(expires, datetime.time(12))
    mail.outbox.clear()
    # The day before: that threshold not yet reached (a later one may still be due from an earlier threshold).
    ExpiryNotice.objects.all().delete()
    for earlier in [t for t in EXPIRY_NOTICE_DAYS if t > threshold]:
        ExpiryNotice.objects.create(bundle=Certificate.objects.get(role="leaf").bundle, threshold_days=earlier)
    assert cert_services.certificate_expiry_notify(today=expires - timedelta(days=threshold + 1)) == 0
    assert not ExpiryNotice.objects.filter(threshold_days=threshold).exists()
    assert cert_services.certificate_expiry_notify(today=expires - timedelta(days=threshold)) == 1
    assert ExpiryNotice.objects.filter(threshold_days=threshold).exists()
    assert f"udløber om {threshold} dage" in mail.outbox[-1].subject


def test_kmds_page_looks_exactly_the_watch_window_ahead(cast, order_with_leaf):
    order_with_leaf(TODAY + timedelta(days=WATCH_WINDOW_DAYS), LAST_MOMENT)
    assert expiring_certificates(cast.support, today=TODAY).count() == 1
    assert expiring_certificates(cast.support, today=TODAY + timedelta(days=-1)).count() == 0  # 91 days ahead


def test_kmds_page_states_the_windows_it_uses(cast, client):
    client.force_login(cast.support)
    body = client.get(reverse("certificates:expiring")).content.decode()
    assert f"inden for {WATCH_WINDOW_DAYS} dage" in body
    assert "e-mail {}, {} og {} dage før udløb".format(*EXPIRY_NOTICE_DAYS) in body


def test_ordering_reads_no_certificate_table_and_keeps_no_window_of_its_own():
    """ordering asks certificates through ordering/lifecycle.py; it names none of certificates' tables or windows."""
    root = Path(ordering.__file__).parent
    for path in root.glob("*.py"):
        source = path.read_text()
        assert "certificate_bundles" not in source and "certificate_uploads" not in source, path
        assert "get_model" not in source, path
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.keyword) and node.arg == "days":
                assert not (isinstance(node.value, ast.Constant) and node.value.value in (30, 60, 90)), path


def test_kmds_page_reads_a_row_in_one_query_without_the_certificates_pem_or_chain(cast, client, order_with_leaf):
    """Issue 23: the page shows names and dates; each row's PEM and the whole chain as uploaded stay in the database
    (deferred), and the template never asks for them, which would cost a query per row."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(cast.support)
    order_with_leaf(timezone.localdate() + timedelta(days=WATCH_WINDOW_DAYS), LAST_MOMENT)  # the window's last moment
    with CaptureQueriesContext(connection) as queries:
        body = client.get(reverse("certificates:expiring")).content.decode()
    assert body.count('class="cert-holder"') == 1
    certificates = [q["sql"] for q in queries.captured_queries if '"certificates_certificate"' in q["sql"]]
    # The list's own two: its count (the paginator's) and its page of rows, each certificate with its order.
    (count,) = [sql for sql in certificates if sql.startswith('SELECT COUNT(*) AS "__count" FROM "certificates_')]
    (rows,) = [sql for sql in certificates if sql.startswith('SELECT "certificates_certificate"."id"')]
    assert '"certificates_certificate"."subject"' in rows and '"ordering_accessorder"."id"' in rows
    for sql in certificates:
        assert '"certificates_certificate"."pem"' not in sql and '"certificates_certificatebundle"."data"' not in sql
