"""Closing an access on a future date (e.g. year end): asked by the orderer, decided by the account manager,
done by the daily beat task on the date, cancellable until then.

The source, "Lukning af adgang": "Hvis I ønsker at et lukke for adgang for et eksternt system, skal I kontakte
jeres faste salgs- og kundeansvarlige på KMD Opus Personale. Vedkommende kan sørge for, at lukningen bliver
igangsat, samt at evt. fakturering stoppes."
"""

import datetime
import zoneinfo

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from billing.models import RecurringFee
from ordering import services, tasks
from ordering.models import AccessOrder
from ordering.selectors import account_manager_queue_page
from tests.pages import post_action

COPENHAGEN = zoneinfo.ZoneInfo("Europe/Copenhagen")
PEOPLE = ["orderer_a", "signatory_a", "am_a", "support", "am_b", "orderer_b", "signatory_b", "outsider"]


def queued(user) -> list:
    """The account manager's whole queue (here it fits one page), as the start page reads it."""
    orders, count = account_manager_queue_page(user, 0, 100)
    assert count == len(orders)
    return orders


def in_days(days: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=days)


@pytest.fixture
def clock(monkeypatch):
    """A frozen clock: `clock(day, hour, minute)` makes it that moment in Copenhagen for everything that asks."""

    def freeze(day: datetime.date, hour: int = 0, minute: int = 0) -> None:
        moment = datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=COPENHAGEN)
        monkeypatch.setattr(timezone, "now", lambda: moment.astimezone(datetime.UTC))

    return freeze


@pytest.fixture
def package_access(order_in, cast):
    """An active access through an integration package: its package fee runs until the access closes."""
    return order_in("active", purchase_model="package", package=cast.package, codes=())


def last_event() -> AuditEvent:
    return AuditEvent.objects.order_by("-seq").first()


# --- The orderer asks --------------------------------------------------------------------------


def test_the_orderer_asks_the_account_manager_to_close_on_a_wished_date(
    cast, order_in, django_capture_on_commit_callbacks
):
    """The source: "Hvis I ønsker at et lukke for adgang for et eksternt system, skal I kontakte jeres faste salgs- og
    kundeansvarlige på KMD Opus Personale." The wish, e.g. year end, goes to the account manager."""
    order = order_in("active")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        asked = services.order_request_closure(
            order=order, actor=cast.orderer_a, wished_on=datetime.date(2099, 12, 31), comment="Udfases."
        )
    assert (asked.state, asked.closure_wished_on) == ("closure_requested", datetime.date(2099, 12, 31))
    assert last_event().kind == "request_closure"
    assert (last_event().params, last_event().comment) == ({"wished_on": "2099-12-31"}, "Udfases.")
    assert last_event().comment_for_reader == "Ønsket lukkedato: 31.12.2099.\nUdfases."
    assert [m.to for m in mail.outbox] == [["am_a@example.test"]]


def test_a_wished_closing_date_that_has_passed_is_refused(cast, order_in):
    """The source: "Hvis I ønsker at et lukke for adgang …": a wish for yesterday cannot be met, and nothing is written."""
    order = order_in("active")
    events = AuditEvent.objects.count()
    with pytest.raises(services.Invalid, match="Den ønskede dato er overskredet"):
        services.order_request_closure(order=order, actor=cast.orderer_a, wished_on=in_days(-1))
    assert AccessOrder.objects.get(pk=order.pk).state == "active"
    assert AuditEvent.objects.count() == events


def test_the_orderer_may_withdraw_the_request_and_a_closure_scheduled_for_it_goes_too(cast, order_in):
    """The source: "… skal I kontakte jeres faste salgs- og kundeansvarlige": the customer asked, so the customer may take
    it back; the access then continues and is not closed on the date KMD scheduled at its request."""
    order = services.order_request_closure(order=order_in("active"), actor=cast.orderer_a, wished_on=in_days(40))
    order = services.order_schedule_closure(order=order, actor=cast.am_a, on=in_days(40))
    withdrawn = services.order_withdraw_closure_request(order=order, actor=cast.orderer_a)
    assert (withdrawn.state, withdrawn.closure_wished_on, withdrawn.closure_scheduled_on) == ("active", None, None)
    assert last_event().kind == "withdraw_closure_request"
    assert "annulleret" in last_event().comment_for_reader and last_event().comment == ""


# --- The account manager decides ---------------------------------------------------------------


def test_the_account_manager_schedules_a_closure_and_the_access_stays_active_and_billed(
    cast, package_access, django_capture_on_commit_callbacks
):
    """The source: "Vedkommende kan sørge for, at lukningen bliver igangsat, samt at evt. fakturering stoppes." Closing at
    year end is decided now and done then: until the date the access runs and its fees run."""
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        scheduled = services.order_schedule_closure(order=package_access, actor=cast.am_a, on=in_days(30))
    assert (scheduled.state, scheduled.closure_scheduled_on, scheduled.closed_on) == ("active", in_days(30), None)
    assert not RecurringFee.objects.filter(order=scheduled, ends_on__isnull=False).exists()
    event = last_event()
    assert (event.kind, event.actor, event.actor_role, event.from_state, event.to_state) == (
        "schedule_closure",
        cast.am_a,
        "account_manager",
        "active",
        "active",
    )
    assert [m.to for m in mail.outbox] == [["orderer_a@example.test"]]
    assert "lukkes" in mail.outbox[0].body


def test_the_account_manager_schedules_the_closure_the_orderer_asked_for(cast, order_in):
    """The source: "Vedkommende kan sørge for, at lukningen bliver igangsat": the request stays a request until the date,
    with the wished date offered, and no longer waits in the account manager's queue."""
    asked = services.order_request_closure(order=order_in("active"), actor=cast.orderer_a, wished_on=in_days(60))
    assert asked in queued(cast.am_a)
    from ordering.transitions import TRANSITIONS

    assert TRANSITIONS["schedule_closure"].bind(order=asked, user=cast.am_a).initial["on"] == in_days(60)
    scheduled = services.order_schedule_closure(order=asked, actor=cast.am_a, on=in_days(60))
    assert (scheduled.state, scheduled.closure_scheduled_on) == ("closure_requested", in_days(60))
    assert scheduled not in queued(cast.am_a)


@pytest.mark.parametrize("days", [0, -1])
def test_a_scheduled_closure_lies_after_today(cast, order_in, days):
    """The source: "… at lukningen bliver igangsat": today or a past date is closing now (the "Close access" action)."""
    order = order_in("active")
    with pytest.raises(services.Invalid, match="Vælg en dato efter i dag"):
        services.order_schedule_closure(order=order, actor=cast.am_a, on=in_days(days))
    assert AccessOrder.objects.get(pk=order.pk).closure_scheduled_on is None


def test_the_account_manager_may_still_close_at_once_although_a_closure_is_scheduled(cast, order_in):
    """The source: "Vedkommende kan sørge for, at lukningen bliver igangsat": now, if plans change."""
    order = services.order_schedule_closure(order=order_in("active"), actor=cast.am_a, on=in_days(30))
    closed = services.order_close(order=order, actor=cast.am_a)
    assert (closed.state, closed.closed_on) == ("closed", timezone.localdate())
    assert tasks.close_scheduled_accesses() == 0


def test_a_scheduled_closure_can_be_cancelled_and_the_access_runs_on(cast, package_access, clock):
    """The source: "… at lukningen bliver igangsat, samt at evt. fakturering stoppes": a cancelled closure closes nothing
    and stops no billing on the date."""
    day = in_days(30)
    order = services.order_schedule_closure(order=package_access, actor=cast.am_a, on=day)
    cancelled = services.order_cancel_scheduled_closure(order=order, actor=cast.am_a, comment="Kontrakten forlænges.")
    assert (cancelled.state, cancelled.closure_scheduled_on) == ("active", None)
    assert last_event().kind == "cancel_scheduled_closure"
    clock(day, 0, 15)
    assert tasks.close_scheduled_accesses() == 0
    assert AccessOrder.objects.get(pk=order.pk).state == "active"
    assert not RecurringFee.objects.filter(order=order, ends_on__isnull=False).exists()


def test_cancelling_when_nothing_is_scheduled_is_refused(cast, order_in):
    order = order_in("active")
    with pytest.raises(services.NotAllowedNow, match="ikke planlagt nogen lukning"):
        services.order_cancel_scheduled_closure(order=order, actor=cast.am_a)


# --- The date comes: the beat task -------------------------------------------------------------


def test_the_daily_task_closes_on_the_scheduled_date_not_the_day_before_and_billing_stops_that_day(
    cast, package_access, clock, django_capture_on_commit_callbacks
):
    """The source: "Vedkommende kan sørge for, at lukningen bliver igangsat, samt at evt. fakturering stoppes." Scheduled
    for a date, the access closes on that date and its billing stops on that date."""
    day = in_days(45)
    order = services.order_schedule_closure(order=package_access, actor=cast.am_a, on=day)

    clock(day - datetime.timedelta(days=1), 23, 59)
    assert tasks.close_scheduled_accesses() == 0
    assert AccessOrder.objects.get(pk=order.pk).state == "active"

    clock(day, 0, 15)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.close_scheduled_accesses() == 1
    closed = AccessOrder.objects.get(pk=order.pk)
    assert (closed.state, closed.closed_on) == ("closed", day)
    package_fee = RecurringFee.objects.get(order=closed, kind=RecurringFee.Kind.PACKAGE)
    assert package_fee.ends_on == day
    event = last_event()
    # Closing was the account manager's decision, recorded when they scheduled it; this is the job that kept
    # the date, and says so: no person, no role.
    assert (event.kind, event.actor, event.job, event.actor_role, event.from_state, event.to_state) == (
        "close",
        None,
        "close_as_scheduled",
        "",
        "active",
        "closed",
    )
    assert event.params == {"closed_as_scheduled": True}
    assert timezone.localdate(event.created_at) == day
    assert [m.to for m in mail.outbox] == [["orderer_a@example.test"]]


def test_the_daily_task_is_safe_to_run_twice_and_catches_up_a_missed_day(cast, order_in, clock):
    """The source: "… at lukningen bliver igangsat": a day the beat missed still closes on the scheduled date, once."""
    day = in_days(10)
    order = services.order_request_closure(order=order_in("active"), actor=cast.orderer_a, wished_on=day)
    services.order_schedule_closure(order=order, actor=cast.am_a, on=day)
    clock(day + datetime.timedelta(days=2), 9)
    assert tasks.close_scheduled_accesses() == 1
    assert tasks.close_scheduled_accesses() == 0
    closed = AccessOrder.objects.get(pk=order.pk)
    assert (closed.state, closed.closed_on) == ("closed", day)
    assert closed.events.filter(kind="close").count() == 1


# --- Who may do what ---------------------------------------------------------------------------

# action -> (how the order is prepared, service, arguments, the one role allowed)
ACTIONS = {
    "schedule_closure": ("active", services.order_schedule_closure, {"on": 30}, "am_a"),
    "cancel_scheduled_closure": ("scheduled", services.order_cancel_scheduled_closure, {}, "am_a"),
    "withdraw_closure_request": ("closure_requested", services.order_withdraw_closure_request, {}, "orderer_a"),
}


def prepared(cast, order_in, start: str) -> AccessOrder:
    if start == "scheduled":
        return services.order_schedule_closure(order=order_in("active"), actor=cast.am_a, on=in_days(30))
    return order_in(start)


@pytest.mark.parametrize("person", PEOPLE)
@pytest.mark.parametrize("action", list(ACTIONS))
def test_only_the_right_role_may_schedule_cancel_or_withdraw_a_closure(cast, order_in, action, person):
    start, service, kwargs, allowed = ACTIONS[action]
    order = prepared(cast, order_in, start)
    kwargs = {name: in_days(value) if name == "on" else value for name, value in kwargs.items()}
    before = (order.state, order.closure_scheduled_on, AuditEvent.objects.count())
    actor = getattr(cast, person)

    if person == allowed:
        service(order=order, actor=actor, **kwargs)
        assert (last_event().kind, last_event().actor) == (action, actor)
    else:
        with pytest.raises(services.NotPermitted):
            service(order=order, actor=actor, **kwargs)
        after = AccessOrder.objects.get(pk=order.pk)
        assert (after.state, after.closure_scheduled_on, AuditEvent.objects.count()) == before


# --- Seen on the pages -------------------------------------------------------------------------


def test_the_scheduled_date_is_shown_on_the_order_page_and_in_the_lists(cast, order_in, client):
    """The source: "… at lukningen bliver igangsat, samt at evt. fakturering stoppes": the customer sees when, and that
    the access is billed until then."""
    order = services.order_schedule_closure(order=order_in("active"), actor=cast.am_a, on=datetime.date(2099, 12, 31))
    client.force_login(cast.orderer_a)
    page = client.get(reverse("ordering:order_detail", args=[order.pk])).content.decode()
    assert "Adgangen lukker den 31.12.2099" in page
    assert "faktureres" in page
    listing = client.get(reverse("ordering:order_list")).content.decode()
    assert "lukker 31.12.2099" in listing


def test_the_account_manager_schedules_through_the_order_page_typing_the_date_the_danish_way(cast, order_in, client):
    order = order_in("active")
    response = post_action(
        client, cast.am_a, order, "schedule_closure", {"expected_state": "active", "on": "31.12.2099"}
    )
    assert response.status_code == 302
    order.refresh_from_db()
    assert (order.state, order.closure_scheduled_on) == ("active", datetime.date(2099, 12, 31))


def test_the_orderer_types_a_wished_date_on_the_order_page(cast, order_in, client):
    order = order_in("active")
    client.force_login(cast.orderer_a)
    body = client.get(reverse("ordering:order_detail", args=[order.pk])).content.decode()
    assert 'id="request_closure-wished_on"' in body
    client.post(
        reverse("ordering:order_transition", args=[order.pk, "request_closure"]),
        {"expected_state": "active", "wished_on": "31.12.2099"},
    )
    order.refresh_from_db()
    assert (order.state, order.closure_wished_on) == ("closure_requested", datetime.date(2099, 12, 31))
