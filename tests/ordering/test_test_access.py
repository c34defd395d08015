"""The startup package's test access: individual integration only, 6 months, ends by itself, and leads to production.

From "Integration til KMD Opus Personale", Indhold i opstartspakken.
"""

import datetime

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from audit.verification import audit_verify
from billing.models import Charge, RecurringFee, StartupPackage
from core.errors import Invalid, NotAllowedNow, NotPermitted
from ordering import services
from ordering.audit import AuditKind
from ordering.models import AccessOrder, State, TestAccess, add_months
from ordering.selectors import orders_visible_to
from ordering.tasks import watch_test_accesses

from ..conftest import facts


@pytest.fixture
def frozen_today(monkeypatch):
    """Freeze the date the services read (`timezone.localdate()`), as the daily task sees it."""
    original = timezone.localdate

    def freeze(day: datetime.date) -> None:
        def localdate(value=None, timezone=None):
            return day if value is None else original(value, timezone)

        monkeypatch.setattr("django.utils.timezone.localdate", localdate)

    return freeze


@pytest.fixture
def startup_order(individual_order):
    """An individual-integration order with the startup package, access established today."""
    return individual_order("active", startup_package=True)


def run_task_on(frozen_today, day, django_capture_on_commit_callbacks) -> dict:
    frozen_today(day)
    with django_capture_on_commit_callbacks(execute=True):
        return watch_test_accesses.delay().get()


# --- Part 1: only with individual integration ------------------------------------------------


def test_the_startup_package_is_refused_with_a_standard_integration(cast):
    """ "Opstartspakken tilkøbes til individuel integration" – not to a standard integration."""
    with pytest.raises(Invalid) as refused:
        services.order_create(
            actor=cast.orderer_a, customer=cast.customer_a, facts=facts(cast, environment="test", startup_package=True)
        )
    assert "kun til individuel integration" in refused.value.errors["startup_package"]
    assert not AccessOrder.objects.exists()


def test_the_startup_package_is_bought_for_the_test_environment(cast):
    """ "6 måneders adgang for ekstern leverandør til webservices på eksternt testmiljø": the package's access is
    a test access, so it is ordered for the test environment and production is ordered from it later."""
    with pytest.raises(Invalid) as refused:
        services.order_create(
            actor=cast.orderer_a,
            customer=cast.customer_a,
            facts=facts(cast, system=cast.own_system, environment="production", startup_package=True),
        )
    assert "eksterne testmiljø" in refused.value.errors["startup_package"]


def test_the_order_form_shows_the_refusal_at_the_startup_package(cast, client):
    """ "Opstartspakken tilkøbes til individuel integration": the form says so where the box is ticked."""
    client.force_login(cast.orderer_a)
    data = {
        "external_system": cast.rostering.pk,
        "purchase_model": "single",
        "interfaces": [cast.interfaces["opret-fravaer"].pk],
        "environment": "test",
        "reason": "new",
        "startup_package": "on",
    }
    response = client.post(reverse("ordering:order_create"), data)
    assert response.status_code == 400
    assert "Opstartspakken sælges kun til individuel integration" in response.content.decode()


# --- Part 1: the test access, established with the order, covered by the package --------------


def test_activating_the_order_opens_a_six_month_test_access_covered_by_the_package(cast, startup_order):
    """ "6 måneders adgang for ekstern leverandør til webservices på eksternt testmiljø på KMD Opus Personale":
    established with the order, covered by the package – no licence or setup charge."""
    access = TestAccess.objects.get(order=startup_order)
    assert access.starts_on == startup_order.activated_on
    assert access.ends_on == add_months(startup_order.activated_on, 6)
    assert access.status == TestAccess.Status.ACTIVE
    charges = {c.rule: c.amount for c in Charge.objects.filter(order=startup_order)}
    assert list(charges) == ["startup_package"]
    assert not RecurringFee.objects.filter(order=startup_order).exists()
    assert StartupPackage.objects.filter(order=startup_order).exists()


def test_six_months_from_the_last_day_of_a_month_end_on_the_last_day_of_a_shorter_one():
    """ "6 måneders adgang": 31 August plus 6 months is the last day of February."""
    assert add_months(datetime.date(2026, 8, 31), 6) == datetime.date(2027, 2, 28)
    assert add_months(datetime.date(2027, 8, 31), 6) == datetime.date(2028, 2, 29)
    assert add_months(datetime.date(2026, 3, 15), 6) == datetime.date(2026, 9, 15)


# --- Part 1: ends by itself; notices 30 and 7 days before ------------------------------------


def test_the_daily_task_gives_notice_30_and_7_days_before_each_once(
    cast, startup_order, frozen_today, django_capture_on_commit_callbacks
):
    """ "6 måneders adgang ...": the access ends by itself, so orderers and account manager are told
    30 and 7 days before – at exactly those boundaries, and each notice once."""
    end = TestAccess.objects.get(order=startup_order).ends_on
    notices = AuditEvent.objects.filter(order=startup_order, kind=AuditKind.TEST_ACCESS_EXPIRING)
    mail.outbox.clear()

    assert run_task_on(frozen_today, end - datetime.timedelta(days=31), django_capture_on_commit_callbacks) == {
        "expired": 0,
        "notified": 0,
    }
    assert not notices.exists()

    run_task_on(frozen_today, end - datetime.timedelta(days=30), django_capture_on_commit_callbacks)
    assert notices.count() == 1
    assert sorted(a for m in mail.outbox for a in m.to) == ["am_a@example.test", "orderer_a@example.test"]
    assert "Testadgangen udløber" in mail.outbox[0].subject

    run_task_on(frozen_today, end - datetime.timedelta(days=30), django_capture_on_commit_callbacks)
    run_task_on(frozen_today, end - datetime.timedelta(days=8), django_capture_on_commit_callbacks)
    assert notices.count() == 1

    run_task_on(frozen_today, end - datetime.timedelta(days=7), django_capture_on_commit_callbacks)
    run_task_on(frozen_today, end - datetime.timedelta(days=6), django_capture_on_commit_callbacks)
    assert notices.count() == 2
    assert len(mail.outbox) == 4


def test_the_test_access_expires_on_its_end_date_not_the_day_before(
    cast, startup_order, frozen_today, django_capture_on_commit_callbacks
):
    """ "6 måneders adgang": on the end date the daily task closes it as expired, audited with its own kind,
    and billing tied to it stops as on any closure."""
    end = TestAccess.objects.get(order=startup_order).ends_on

    run_task_on(frozen_today, end - datetime.timedelta(days=1), django_capture_on_commit_callbacks)
    startup_order.refresh_from_db()
    assert startup_order.state == State.ACTIVE

    assert run_task_on(frozen_today, end, django_capture_on_commit_callbacks)["expired"] == 1
    startup_order.refresh_from_db()
    access = TestAccess.objects.get(order=startup_order)
    assert (startup_order.state, startup_order.closed_on) == (State.CLOSED, end)
    assert (access.status, access.expired_on) == (TestAccess.Status.EXPIRED, end)
    event = AuditEvent.objects.filter(order=startup_order).latest("seq")
    assert (event.kind, event.from_state, event.to_state) == (AuditKind.TEST_ACCESS_EXPIRED, "active", "closed")
    assert (event.actor, event.actor_kind, event.job) == (None, "system", "test_access_sweep")
    assert event.params == {"test_access_ended_on": end.isoformat()}
    assert audit_verify() == []

    assert run_task_on(frozen_today, end, django_capture_on_commit_callbacks) == {"expired": 0, "notified": 0}


def test_the_beat_runs_the_task_daily(settings):
    """The access "ends by itself": a beat entry runs the task every day."""
    entry = settings.CELERY_BEAT_SCHEDULE["test-access-expiry"]
    assert entry["task"] == "ordering.tasks.watch_test_accesses"


# --- Part 1: the account manager extends it ----------------------------------------------------


def test_the_account_manager_extends_the_test_access_with_a_reason(cast, startup_order, client):
    """The 6 months can be extended by the account manager, with a reason the customer sees; audited."""
    access = TestAccess.objects.get(order=startup_order)
    access.notified_days = 30
    access.save(update_fields=["notified_days"])
    until = access.ends_on + datetime.timedelta(days=60)
    client.force_login(cast.am_a)
    response = client.post(
        reverse("ordering:test_access_extend", args=[startup_order.pk]),
        {"until": until.isoformat(), "reason": "Leverandøren er forsinket."},
        follow=True,
    )
    assert "Testadgangen ophører nu den" in response.content.decode()
    access.refresh_from_db()
    assert (access.ends_on, access.extended_by, access.notified_days) == (until, cast.am_a, None)
    event = AuditEvent.objects.filter(order=startup_order).latest("seq")
    assert event.kind == AuditKind.TEST_ACCESS_EXTENDED and "Leverandøren er forsinket." in event.comment


def test_only_the_account_manager_extends_and_never_backwards_or_without_a_reason(cast, startup_order):
    """An extension is the account manager's decision, to a later date, with a reason."""
    access = TestAccess.objects.get(order=startup_order)
    later = access.ends_on + datetime.timedelta(days=10)
    with pytest.raises(NotPermitted):
        services.test_access_extend(order=startup_order, actor=cast.orderer_a, until=later, reason="x")
    with pytest.raises(Invalid):
        services.test_access_extend(order=startup_order, actor=cast.am_a, until=access.ends_on, reason="x")
    with pytest.raises(Invalid):
        services.test_access_extend(order=startup_order, actor=cast.am_a, until=later, reason="  ")
    access.refresh_from_db()
    assert access.extended_by is None


# --- Part 1: the end date on every page that shows it ------------------------------------------


def test_the_end_date_is_on_the_order_page_and_in_the_lists(cast, startup_order, client):
    """The vendor's "6 måneders adgang" ends on a date the customer can see wherever the access is shown."""
    end = TestAccess.objects.get(order=startup_order).ends_on
    shown = end.strftime("%d.%m.%Y")
    client.force_login(cast.orderer_a)
    detail = client.get(reverse("ordering:order_detail", args=[startup_order.pk])).content.decode()
    assert "Testadgang fra opstartspakken" in detail and shown in detail
    listing = client.get(reverse("ordering:order_list")).content.decode()
    assert f"testadgang ophører {shown}" in listing
    home = client.get("/").content.decode()
    assert f"testadgang ophører {shown}" in home


def test_the_lists_read_each_rows_test_access_or_none_from_the_rows_own_query(
    cast, startup_order, order_in, django_assert_num_queries
):
    without = order_in("draft", codes=("medarbejderoplysninger",))
    access = TestAccess.objects.get(order=startup_order)
    rows = {o.pk: o for o in orders_visible_to(cast.orderer_a).filter(pk__in=[startup_order.pk, without.pk])}
    with django_assert_num_queries(0):  # read with the row (select_related): neither asks the database again
        assert rows[without.pk].test_access_if_any is None
        assert rows[startup_order.pk].test_access_if_any == access


# --- Part 2: from test to production -----------------------------------------------------------


def test_a_running_test_access_offers_a_linked_production_draft(cast, startup_order, client):
    """From the vendor's test access to production: "Bestil produktionsadgang" makes a production draft
    with the same system, interfaces and integration type, linked to the test access."""
    client.force_login(cast.orderer_a)
    detail = client.get(reverse("ordering:order_detail", args=[startup_order.pk])).content.decode()
    assert "Bestil produktionsadgang" in detail
    client.post(reverse("ordering:order_from_test_access", args=[startup_order.pk]))
    draft = AccessOrder.objects.get(test_order=startup_order)
    assert (draft.state, draft.environment, draft.external_system, draft.integration_type) == (
        State.DRAFT,
        "production",
        startup_order.external_system,
        startup_order.integration_type,
    )
    assert list(draft.interfaces.all()) == list(startup_order.interfaces.all())
    assert not draft.startup_package
    detail = client.get(reverse("ordering:order_detail", args=[startup_order.pk])).content.decode()
    assert draft.reference in detail and "Bestil produktionsadgang</button>" not in detail
    with pytest.raises(NotAllowedNow):
        services.order_create_from_test_access(test_order=startup_order, actor=cast.orderer_a)


def test_an_expired_test_access_still_offers_production(
    cast, startup_order, frozen_today, django_capture_on_commit_callbacks
):
    """An expired test access still leads on to production."""
    run_task_on(frozen_today, TestAccess.objects.get(order=startup_order).ends_on, django_capture_on_commit_callbacks)
    startup_order.refresh_from_db()
    draft = services.order_create_from_test_access(test_order=startup_order, actor=cast.orderer_a)
    assert draft.test_order == startup_order and draft.environment == "production"


def test_an_order_without_a_test_access_offers_no_production_draft(cast, order_in):
    """Only a test access from the startup package offers it."""
    order = order_in("active", environment="test")
    assert not services.production_order_offered(order)
    with pytest.raises(NotAllowedNow):
        services.order_create_from_test_access(test_order=order, actor=cast.orderer_a)


def test_a_refused_extension_shows_the_page_again_with_the_sentence_by_the_date_and_the_reason_kept(
    cast, startup_order, client
):
    access = TestAccess.objects.get(order=startup_order)
    client.force_login(cast.am_a)
    response = client.post(
        reverse("ordering:test_access_extend", args=[startup_order.pk]),
        {"until": access.ends_on.isoformat(), "reason": "Leverandøren er forsinket."},
    )
    assert response.status_code == 400
    form = response.context["test_access_form"]
    assert list(form.errors) == ["until"]
    assert ">Leverandøren er forsinket.</textarea>" in response.content.decode()
    access.refresh_from_db()
    assert access.extended_by is None


def test_the_order_page_reads_the_test_access_and_who_extended_it_with_the_order(cast, startup_order, client):
    access = TestAccess.objects.get(order=startup_order)
    services.test_access_extend(
        order=startup_order, actor=cast.am_a, until=access.ends_on + datetime.timedelta(days=30), reason="Forsinket."
    )
    client.force_login(cast.orderer_a)
    url = reverse("ordering:order_detail", args=[startup_order.pk])
    client.get(url)  # the session's first request writes it
    with CaptureQueriesContext(connection) as read:
        detail = client.get(url).content.decode()
    assert f"{cast.am_a}: Forsinket." in detail
    accesses = [q["sql"] for q in read.captured_queries if q["sql"].startswith('SELECT "ordering_testaccess"')]
    users = [q["sql"] for q in read.captured_queries if q["sql"].startswith('SELECT "accounts_user"')]
    # One read of the access: the rule offering a production order (production_order_offered), which the service
    # checks too. One user: the one signed in, read by the session.
    assert (len(accesses), len(users)) == (1, 1)
