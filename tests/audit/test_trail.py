"""The audit app: one function records every app's writes; kinds, persons and jobs, parameters read in the
reader's language; events recorded before the trail had its own app keep their seal."""

import datetime
import importlib

import pytest
from django.db import connection, transaction
from django.db.models import TextChoices
from django.utils import translation

from accounts.audit import AccountAuditKind
from audit import vocabulary
from audit.models import ActorKind, AuditEvent, AuditHead
from audit.trail import audit_record
from audit.verification import audit_verify
from ordering.audit import AuditKind


def head() -> tuple[int, str]:
    found = AuditHead.objects.filter(pk=1).first()
    return (found.seq, found.hash) if found else (0, "0" * 64)


def test_a_kind_nobody_registered_is_refused_and_nothing_is_written(cast, order_in):
    order = order_in("active")
    before, count = head(), AuditEvent.objects.count()
    with pytest.raises(ValueError, match="Unknown audit kind 'made_up'"), transaction.atomic():
        audit_record(kind="made_up", order=order, actor=cast.am_a, role="account_manager")
    assert head() == before and AuditEvent.objects.count() == count


def test_a_kind_has_one_meaning_two_apps_cannot_register_the_same_value():
    class Clash(TextChoices):
        BRAND_NEW = "brand_new", "Registered before the clash is found"
        CREATE = "create", "Something else"

    with pytest.raises(ValueError, match="registered by ordering already"):
        vocabulary.register_kinds("billing", Clash)
    assert vocabulary.kind("create").app == "ordering"
    with pytest.raises(ValueError, match="Unknown audit kind 'brand_new'"):
        vocabulary.kind("brand_new")  # a refused registration registers nothing


def test_a_system_job_acts_without_a_person_and_reads_as_opus_adgang(cast, order_in):
    order = order_in("active")
    with transaction.atomic():
        event = audit_record(kind=AuditKind.TEST_ACCESS_EXPIRING, order=order, job="test_access_sweep")
    event.refresh_from_db()
    assert event.actor is None and event.actor_kind == ActorKind.SYSTEM and event.job == "test_access_sweep"
    with translation.override("da"):
        assert event.actor_name == "Opus Adgang, automatisk"
    with translation.override("en"):
        assert event.actor_name == "Opus Adgang, automatically"
    assert audit_verify() == []


@pytest.mark.parametrize("who", [{}, {"job": "nightly", "actor": "person"}])
def test_an_event_is_by_a_person_or_by_a_job_never_neither_nor_both(cast, order_in, who):
    order = order_in("active")
    if who.get("actor") == "person":
        who = {**who, "actor": cast.am_a}
    before = head()
    with pytest.raises(ValueError, match="by a person"), transaction.atomic():
        audit_record(kind=AuditKind.EDIT, order=order, **who)
    assert head() == before


def test_the_database_refuses_a_person_event_without_a_person(cast, order_in):
    """The check constraint, not only the function: a row written around audit_record is refused too."""
    from django.db import IntegrityError

    order = order_in("active")
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEvent(
            seq=10_000,
            order=order,
            kind=AuditKind.EDIT,
            actor=None,
            actor_kind=ActorKind.PERSON,
            created_at=datetime.datetime.now(datetime.UTC),
            prev_hash="0" * 64,
            hash="f" * 64,
        ).save()


def test_an_event_about_an_orders_own_object_is_about_that_order(cast, order_in):
    from ordering.models import TestAccess

    order, other = order_in("active"), order_in("draft")
    starts_on, ends_on = datetime.date(2027, 1, 1), datetime.date(2027, 1, 31)
    access = TestAccess.objects.create(order=order, starts_on=starts_on, ends_on=ends_on)
    access = TestAccess.objects.get(pk=access.pk)  # its order read from the database, as a service would
    with transaction.atomic():
        about_its_order = audit_record(kind=AuditKind.TEST_ACCESS_EXTENDED, subject=access, actor=cast.am_a)
        named = audit_record(kind=AuditKind.TEST_ACCESS_EXTENDED, subject=access, order=other, actor=cast.am_a)
    assert AuditEvent.objects.get(pk=about_its_order.pk).order == order
    assert (about_its_order.from_state, about_its_order.to_state) == (order.state, order.state)
    assert AuditEvent.objects.get(pk=named.pk).order == other  # the order the caller names wins
    assert audit_verify() == []


def closure_scheduled(cast, order, **kwargs):
    """The trail's event of the account manager scheduling `order`'s closure (its date and comment in `kwargs`)."""
    return audit_record(kind=AuditKind.SCHEDULE_CLOSURE, order=order, actor=cast.am_a, role="account_manager", **kwargs)


def test_dates_are_stored_as_iso_text_and_read_in_the_readers_language(cast, order_in):
    order = order_in("active")
    with transaction.atomic():
        event = closure_scheduled(
            cast, order, comment="Ved årsskiftet.", params={"ends_on": datetime.date(2027, 1, 31), "nothing": None}
        )
    event.refresh_from_db()
    assert event.params == {"ends_on": "2027-01-31"}
    assert event.comment == "Ved årsskiftet."  # what was typed, and nothing the app wrote
    with translation.override("en"):
        assert event.comment_for_reader == "Access ends on 31/01/2027.\nVed årsskiftet."
    with translation.override("da"):
        assert event.comment_for_reader == "Adgangen lukker den 31.01.2027.\nVed årsskiftet."


@pytest.mark.parametrize("value", [datetime.datetime(2027, 1, 31, 12, 0, tzinfo=datetime.UTC), 1.5, ["a"]])
def test_a_parameter_json_would_not_give_back_unchanged_is_refused(cast, order_in, value):
    order = order_in("active")
    before = head()
    with pytest.raises(TypeError, match="must be a date"), transaction.atomic():
        audit_record(kind=AuditKind.EDIT, order=order, actor=cast.orderer_a, params={"x": value})
    assert head() == before


@pytest.mark.skipif("connection.vendor == 'postgresql'", reason="PostgreSQL's trigger refuses the UPDATE itself")
def test_the_seal_covers_the_parameters_and_the_job(cast, order_in):
    order = order_in("active")
    with transaction.atomic():
        dated = closure_scheduled(cast, order, params={"ends_on": datetime.date(2027, 1, 31)})
        by_job = audit_record(kind=AuditKind.TEST_ACCESS_EXPIRING, order=order, job="test_access_sweep")
    assert audit_verify() == []
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET params = %s WHERE id = %s", ['{"ends_on": "2027-12-31"}', dated.pk])
    assert [p.seq for p in audit_verify()] == [dated.seq]
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET params = %s WHERE id = %s", ['{"ends_on": "2027-01-31"}', dated.pk])
    assert audit_verify() == []
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET job = %s WHERE id = %s", ["someone_else", by_job.pk])
    assert [p.seq for p in audit_verify()] == [by_job.seq]


def test_an_event_as_recorded_before_the_move_keeps_its_seal(cast, order_in):
    """Migration 0005's seal — the one every event before the move carries — is the seal of an event with
    no parameters and a person: the new fields are sealed only when they are used."""
    seal = importlib.import_module("ordering.migrations.0005_audit_chain_keyed").seal
    order = order_in("active")
    with transaction.atomic():
        event = audit_record(kind=AuditKind.EDIT, order=order, actor=cast.orderer_a, role="orderer", comment="x")
    event.refresh_from_db()
    key = b"k" * 32
    assert event.compute_hash(key) == seal(event, key)
    event.params = {"ends_on": "2027-01-31"}
    assert event.compute_hash(key) != seal(event, key)


def test_kmds_own_records_are_not_published_to_webhooks():
    assert not vocabulary.is_published(AccountAuditKind.API_TOKEN_CREATED)
    assert not vocabulary.is_published("outbox_sent_again")
    assert not vocabulary.is_published("webhook_secret_rotated")
    assert vocabulary.is_published(AuditKind.ACTIVATE)
    assert vocabulary.is_published("certificate_uploaded") and vocabulary.is_published("quote_adjusted")
    assert not vocabulary.is_published("made_up")
