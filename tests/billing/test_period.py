"""A month is billed once it has ended in Copenhagen, never before: its invoices are final."""

import datetime
import json
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone, translation

from billing import services as billing
from billing.models import BillingRun, Invoice
from billing.tasks import run_monthly_billing
from tests.billing.builders import package_fee
from tests.conftest import make_order

COPENHAGEN = ZoneInfo("Europe/Copenhagen")
day = datetime.date


@pytest.fixture
def clock(monkeypatch):
    """Sets Django's clock to a moment on the wall in Copenhagen."""

    def set_to(*moment: int) -> None:
        frozen = datetime.datetime(*moment, tzinfo=COPENHAGEN).astimezone(datetime.UTC)
        monkeypatch.setattr(timezone, "now", lambda: frozen)

    return set_to


@pytest.fixture
def running_fee(cast):
    """A package fee running since the start of 2026, so every month has something to bill."""
    order = make_order(cast, "draft")
    return package_fee(order, start=day(2026, 1, 1))


def test_on_the_last_evening_of_a_month_that_month_is_refused(running_fee, clock):
    clock(2026, 11, 30, 23, 59)
    with translation.override("en"), pytest.raises(billing.BillingError) as refused:
        billing.billing_run(period=day(2026, 11, 1))
    assert refused.value.message == (
        "The month November 2026 has not ended yet, so it cannot be billed. Run the billing on 01/12/2026 or later."
    )
    assert not BillingRun.objects.exists() and not Invoice.objects.exists()


def test_just_after_midnight_in_copenhagen_the_month_is_billed_though_utc_is_still_in_it(running_fee, clock):
    clock(2026, 11, 30, 23, 59)
    with pytest.raises(billing.BillingError):
        billing.billing_run(period=day(2026, 11, 1))
    clock(2026, 12, 1, 0, 30)  # 2026-11-30 23:30 UTC
    assert timezone.now().month == 11
    run = billing.billing_run(period=day(2026, 11, 1))
    assert run.period == day(2026, 11, 1)
    assert Invoice.objects.get(period=day(2026, 11, 1)).total_excl_vat > 0


def test_the_refusal_is_in_danish_by_default(running_fee, clock):
    clock(2026, 11, 28, 12, 0)
    with pytest.raises(billing.BillingError) as refused:
        billing.billing_run(period=day(2026, 11, 1))
    assert refused.value.message == (
        "Måneden november 2026 er ikke slut endnu og kan derfor ikke faktureres. "
        "Kør faktureringen den 01.12.2026 eller senere."
    )


def test_run_billing_refuses_a_month_not_yet_begun(running_fee, clock):
    clock(2026, 11, 28, 12, 0)  # the day the issue was found
    with pytest.raises(CommandError) as refused:
        call_command("run_billing", "--period", "2027-01")
    assert str(refused.value) == (
        "Måneden januar 2027 er ikke slut endnu og kan derfor ikke faktureres. "
        "Kør faktureringen den 01.02.2027 eller senere."
    )
    assert not BillingRun.objects.exists() and not Invoice.objects.exists()


def test_run_billing_answers_success_in_danish_with_danish_numbers(running_fee, clock, capsys):
    clock(2026, 12, 2, 9, 0)
    call_command("run_billing", "--period", "2026-11")
    invoice = Invoice.objects.get(period=day(2026, 11, 1))
    lines = invoice.lines.count()
    total = f"{invoice.total_excl_vat:,.2f}".replace(",", "X").replace(".", ",").replace("X", ".")
    assert capsys.readouterr().out.strip() == (
        f"Fakturering af november 2026 (kørsel 1): 1 fakturaer, {lines} linjer, {total} kr. ekskl. moms"
    )


def test_run_billing_speaks_english_when_asked_both_for_success_and_refusal(running_fee, clock, capsys):
    clock(2026, 12, 2, 9, 0)
    with pytest.raises(CommandError) as refused:
        call_command("run_billing", "--period", "2026-12", "--language", "en")
    assert str(refused.value).startswith("The month December 2026 has not ended yet")
    assert "on 01/01/2027 or later" in str(refused.value)
    call_command("run_billing", "--period", "2026-11", "--language", "en")
    assert capsys.readouterr().out.startswith("Billing of November 2026 (run 1): 1 invoices, ")


def test_run_billing_force_bills_a_month_not_ended_for_tests_and_the_demo(running_fee, clock, capsys):
    clock(2026, 11, 28, 12, 0)
    with pytest.raises(CommandError):
        call_command("run_billing", "--period", "2026-11", "--json")
    call_command("run_billing", "--period", "2026-11", "--force", "--json")
    report = json.loads(capsys.readouterr().out)
    assert (report["period"], report["invoices"]) == ("2026-11", 1)


@pytest.mark.parametrize(
    ("moment", "billed"),
    [
        ((2026, 12, 1, 2, 30), day(2026, 11, 1)),
        ((2027, 1, 1, 2, 30), day(2026, 12, 1)),  # across the year
        ((2028, 3, 1, 2, 30), day(2028, 2, 1)),  # after a leap day
    ],
)
def test_the_monthly_task_bills_the_month_that_just_ended(running_fee, clock, moment, billed):
    clock(*moment)
    run_monthly_billing()
    assert list(BillingRun.objects.values_list("period", flat=True)) == [billed]
    assert Invoice.objects.filter(period=billed).count() == 1


def test_beat_runs_the_monthly_task_on_the_first_copenhagen_time(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["monthly-billing"]
    assert entry["task"] == run_monthly_billing.name
    assert entry["schedule"].day_of_month == {1}
    assert settings.CELERY_TIMEZONE == "Europe/Copenhagen"
