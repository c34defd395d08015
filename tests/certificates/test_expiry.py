"""The daily expiry watch mails the orderers 60, 30 and 7 days ahead, once per threshold."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from certificates import services as cert_services
from certificates.models import ExpiryNotice
from certificates.tasks import watch_certificate_expiry
from certificates.testing import make_leaf, pem
from ordering import services
from tests.conftest import make_order


@pytest.fixture
def expiring_order(cast, trusted_test_environment, pki, now):
    """A submitted individual order whose certificate expires in exactly 100 days."""
    leaf = make_leaf(pki, cvr="31415926", not_before=now - timedelta(days=900), not_after=now + timedelta(days=100))
    order = make_order(cast, "draft", system=cast.own_system, environment="test")
    cert_services.certificate_upload(order=order, actor=cast.orderer_a, data=pem(leaf, pki.issuing), filename="k.pem")
    return services.order_submit(order=order, actor=cast.orderer_a)


def day(offset: int):
    """`offset` days into the future, as the watch would see it."""
    return timezone.localdate() + timedelta(days=offset)


def test_each_threshold_is_mailed_once_to_the_orderers(cast, expiring_order):
    mail.outbox.clear()
    assert cert_services.certificate_expiry_notify(today=day(10)) == 0  # 90 days left
    assert cert_services.certificate_expiry_notify(today=day(41)) == 1  # 59 days left
    assert [m.to for m in mail.outbox] == [["orderer_a@example.test"]]
    assert "udløber om 59 dage" in mail.outbox[0].subject
    assert cert_services.certificate_expiry_notify(today=day(42)) == 0
    assert cert_services.certificate_expiry_notify(today=day(71)) == 1  # 29 days
    assert cert_services.certificate_expiry_notify(today=day(94)) == 1  # 6 days
    assert cert_services.certificate_expiry_notify(today=day(95)) == 0
    assert sorted(ExpiryNotice.objects.values_list("threshold_days", flat=True)) == [7, 30, 60]
    assert len(mail.outbox) == 3


def test_a_late_start_sends_one_mail_for_all_thresholds_passed(cast, expiring_order):
    mail.outbox.clear()
    assert cert_services.certificate_expiry_notify(today=day(80)) == 1  # 20 days left: 60 and 30 passed
    assert sorted(ExpiryNotice.objects.values_list("threshold_days", flat=True)) == [30, 60]


def test_closed_accesses_are_not_watched(cast, expiring_order):
    services.order_withdraw(order=expiring_order, actor=cast.orderer_a)
    assert cert_services.certificate_expiry_notify(today=day(45)) == 0


def test_the_daily_task_runs_the_watch(cast, expiring_order, settings):
    assert "certificate-expiry-watch" in settings.CELERY_BEAT_SCHEDULE
    assert watch_certificate_expiry.delay().get() == 0  # 100 days left today


def test_a_failed_mail_records_no_notice_so_tomorrow_tries_again(cast, expiring_order, monkeypatch):
    def broken(*args, **kwargs):
        raise ConnectionError("smtp down")

    monkeypatch.setattr(cert_services, "_send_expiry_mail", broken)
    with pytest.raises(ConnectionError):
        cert_services.certificate_expiry_notify(today=day(41))
    assert not ExpiryNotice.objects.exists()
