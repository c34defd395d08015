"""A package access gives what its signatory accepted: the registers read the interfaces frozen when the
contract addendum was issued, not what a catalogue admin has put in the package since."""

import datetime
import json

import pytest
from django.utils import timezone

from ordering import services
from registers.access import access_register
from registers.controller import controller_register
from tests.conftest import accept_rendered, make_order

pytestmark = pytest.mark.django_db


def register(now: datetime.datetime, **kwargs) -> dict:
    return json.loads(access_register("production", now=now, **kwargs).body)


def codes(register_: dict) -> list[list[str]]:
    return [entry["interfaces"] for entry in register_["accesses"]]


def controller_interfaces(cast, order) -> list[str]:
    return next(e.interfaces for e in controller_register(cast.customer_a).entries if e.order.pk == order.pk)


def test_adding_an_interface_to_a_package_changes_no_running_access_in_the_access_register(cast):
    make_order(cast, "active", purchase_model="package", package=cast.package, codes=())
    before_at = timezone.now() + datetime.timedelta(minutes=10)
    before = access_register("production", now=before_at)

    cast.package.interfaces.add(cast.interfaces["medarbejderoplysninger"])
    after_at = before_at + datetime.timedelta(minutes=1)
    after = access_register("production", now=after_at)

    assert codes(json.loads(after.body)) == [["moedetidsplaner", "opret-fravaer"]]
    assert after.etag == before.etag
    delta = register(after_at, since=before_at)
    assert delta["accesses"] == [] and delta["removed"] == []


def test_removing_an_interface_from_a_package_takes_nothing_from_a_running_access(cast):
    make_order(cast, "closure_requested", purchase_model="package", package=cast.package, codes=())
    cast.package.interfaces.remove(cast.interfaces["moedetidsplaner"])

    assert codes(register(timezone.now())) == [["moedetidsplaner", "opret-fravaer"]]


def test_the_controllers_register_lists_the_accepted_interfaces_of_a_package_access(cast):
    order = make_order(cast, "active", purchase_model="package", package=cast.package, codes=())
    cast.package.interfaces.add(cast.interfaces["medarbejderoplysninger"])

    assert controller_interfaces(cast, order) == ["Mødetidsplaner", "Opret Fravær"]


def test_a_package_changed_before_the_addendum_is_issued_is_what_the_access_gets(cast):
    order = make_order(cast, "submitted", purchase_model="package", package=cast.package, codes=())
    cast.package.interfaces.add(cast.interfaces["medarbejderoplysninger"])

    order = services.order_issue_addendum(order=order, actor=cast.am_a)
    order = accept_rendered(order=order, actor=cast.signatory_a)
    order = services.order_activate(order=order, actor=cast.am_a)

    assert codes(register(timezone.now())) == [["medarbejderoplysninger", "moedetidsplaner", "opret-fravaer"]]
    assert controller_interfaces(cast, order) == ["Medarbejderoplysninger", "Mødetidsplaner", "Opret Fravær"]


def test_a_revised_addendum_freezes_the_package_again(cast):
    order = make_order(cast, "awaiting_signature", purchase_model="package", package=cast.package, codes=())
    cast.package.interfaces.add(cast.interfaces["medarbejderoplysninger"])

    order = services.order_revise(order=order, actor=cast.am_a, comment="Pakken har fået en snitflade mere")
    order = accept_rendered(order=order, actor=cast.signatory_a)
    services.order_activate(order=order, actor=cast.am_a)
    cast.package.interfaces.remove(cast.interfaces["opret-fravaer"])

    assert codes(register(timezone.now())) == [["medarbejderoplysninger", "moedetidsplaner", "opret-fravaer"]]
