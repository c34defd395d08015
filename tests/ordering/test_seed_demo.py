import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.http import HttpRequest

from accounts.models import User
from audit.verification import audit_verify
from ordering.models import AccessOrder, Customer, ExternalSystem, IntegrationPackage, Interface, State


@pytest.fixture
def seeded(db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("seed_demo", "--force", stdout=None)


def counts():
    return [m.objects.count() for m in (User, Interface, ExternalSystem, IntegrationPackage, Customer, AccessOrder)]


def test_demo_data_has_an_order_in_every_state_and_an_intact_audit_trail(seeded):
    assert set(AccessOrder.objects.values_list("state", flat=True)) == set(State.values)
    assert Interface.objects.filter(kind="web_service").count() == 7
    assert Interface.objects.get(code="ind01").replaced_by.code == "engangsydelser"
    assert Customer.objects.count() == 3
    assert audit_verify() == []


def test_seed_demo_run_twice_changes_nothing(seeded):
    before = counts()
    call_command("seed_demo", "--force")
    assert counts() == before


@pytest.mark.parametrize(
    ("username", "text"),
    [
        ("bestiller", "state=draft"),
        ("tegner", "Aarhus Kommune"),
        ("kundeansvarlig", 'id="queue-heading"'),
        ("support", 'id="support-heading"'),
    ],
)
def test_each_demo_login_reaches_its_start_page(seeded, client, username, text):
    # django-axes checks every authentication against its lockouts, which needs a request.
    assert client.login(request=HttpRequest(), username=username, password="opus-demo-2026")
    body = client.get("/").content.decode()
    assert text in body


def test_seed_demo_refuses_to_run_outside_debug_without_force(db, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="published password"):
        call_command("seed_demo")
    assert not User.objects.exists()


CONSOLE = "django.core.mail.backends.console.EmailBackend"
# transactional_db: the outbox hands each e-mail over when its transaction commits, during the command, as in `make run`.


def test_seed_demo_sends_its_e_mails_without_printing_them_and_says_how_many(transactional_db, settings, capsys):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.EMAIL_BACKEND = CONSOLE  # what `make run` has: e-mails are printed where they are sent
    call_command("seed_demo", "--force", verbosity=1)
    printed = capsys.readouterr().out
    assert "Content-Type:" not in printed
    sent = [line for line in printed.splitlines() if "e-mails sent while seeding were not printed" in line]
    assert len(sent) == 1 and int(sent[0].split()[0]) > 0
    assert "(seed_demo -v 2 prints them)" in sent[0]
    assert printed.rstrip().endswith("Every demo user's password is “opus-demo-2026”.")


def test_seed_demo_prints_its_e_mails_at_verbosity_2(transactional_db, settings, capsys):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.EMAIL_BACKEND = CONSOLE
    call_command("seed_demo", "--force", verbosity=2)
    printed = capsys.readouterr().out
    assert "Content-Type:" in printed
    assert "not printed" not in printed


@pytest.mark.parametrize(
    "moment",
    [
        "2026-12-06T22:59:59+01:00",  # an hour before midnight: 75 days back is still in summer time's day
        "2026-12-06T23:00:00+01:00",  # from here 75 days back by the hour crossed midnight in September
    ],
)
def test_seed_demo_runs_late_in_the_evening_where_its_history_lies_in_other_time(db, settings, moment):
    """The demo's established accesses are dated whole days back; their acceptances on those days, not an hour on."""
    import datetime

    import time_machine

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with time_machine.travel(datetime.datetime.fromisoformat(moment), tick=False):
        call_command("seed_demo", "--force", stdout=None)
    assert AccessOrder.objects.filter(state=State.ACTIVE).exists()
    assert audit_verify() == []
