"""A package order's interfaces are frozen when each version of its contract addendum is issued: what the
signatory accepts is what the access gives, whatever a catalogue admin does to the package afterwards.
(The registers' side is in tests/registers/test_frozen_package_interfaces.py.)"""

import importlib

import pytest
from django.apps import apps
from django.urls import reverse

from ordering import documents, services
from ordering.forms import OrderForm
from ordering.models import AccessOrder, Addendum
from tests.conftest import make_order

pytestmark = pytest.mark.django_db

PACKAGE = ["Mødetidsplaner", "Opret Fravær"]
PACKAGE_AND_MORE = ["Medarbejderoplysninger", "Mødetidsplaner", "Opret Fravær"]


def names(interfaces) -> list[str]:
    return sorted(i.name_da for i in interfaces)


def package_order(cast, state: str) -> AccessOrder:
    return make_order(cast, state, purchase_model="package", package=cast.package, codes=())


def add_to_package(cast) -> None:
    """What a catalogue admin does in the admin: the package bundles one more interface from now on."""
    cast.package.interfaces.add(cast.interfaces["medarbejderoplysninger"])


def test_a_package_edited_after_the_addendum_was_issued_changes_nothing_the_order_gives(cast):
    order = package_order(cast, "active")
    add_to_package(cast)

    assert names(AccessOrder.objects.get(pk=order.pk).requested_interfaces()) == PACKAGE


def test_a_package_edited_after_issue_changes_nothing_on_the_order_page(cast, client):
    order = package_order(cast, "awaiting_signature")
    add_to_package(cast)
    client.force_login(cast.orderer_a)

    response = client.get(reverse("ordering:order_detail", args=[order.pk]))

    assert names(response.context["interfaces"]) == PACKAGE


def test_the_addendum_lists_the_interfaces_frozen_at_issue(cast):
    order = package_order(cast, "awaiting_signature")
    add_to_package(cast)
    addendum = order.addenda.get(status=Addendum.Status.ISSUED)

    assert names(documents.addendum_context(addendum)["interfaces"]) == PACKAGE
    assert "Medarbejderoplysninger" not in documents.addendum_html(addendum)


def test_a_package_edited_while_the_orderer_is_still_choosing_is_what_the_addendum_lists(cast):
    draft = package_order(cast, "draft")
    submitted = package_order(cast, "submitted")
    add_to_package(cast)
    assert names(draft.requested_interfaces()) == PACKAGE_AND_MORE
    assert names(submitted.requested_interfaces()) == PACKAGE_AND_MORE

    order = services.order_issue_addendum(order=submitted, actor=cast.am_a)

    assert names(order.requested_interfaces()) == PACKAGE_AND_MORE
    addendum = order.addenda.get(status=Addendum.Status.ISSUED)
    assert names(documents.addendum_context(addendum)["interfaces"]) == PACKAGE_AND_MORE


def test_a_revised_addendum_freezes_the_package_as_it_is_then(cast):
    order = package_order(cast, "awaiting_signature")
    add_to_package(cast)
    assert names(order.requested_interfaces()) == PACKAGE

    order = services.order_revise(order=order, actor=cast.am_a, comment="Pakken er udvidet")

    assert names(order.requested_interfaces()) == PACKAGE_AND_MORE
    addendum = order.addenda.get(status=Addendum.Status.ISSUED)
    assert addendum.version == 2
    assert names(documents.addendum_context(addendum)["interfaces"]) == PACKAGE_AND_MORE


def test_a_copy_of_a_package_order_takes_the_package_not_its_frozen_interfaces(cast):
    order = package_order(cast, "active")

    initial = OrderForm.copy_of(order)

    assert initial["package"] == cast.package and initial["interfaces"] == []
    copy = services.order_create(
        actor=cast.orderer_a, customer=cast.customer_a, facts={**initial, "environment": "test"}
    )
    assert names(copy.requested_interfaces()) == PACKAGE


def test_the_migration_freezes_package_orders_past_submission_as_their_package_is_now(cast):
    active, draft = package_order(cast, "active"), package_order(cast, "draft")
    active.interfaces.clear()  # an order issued before interfaces were frozen
    add_to_package(cast)
    migration = importlib.import_module("ordering.migrations.0016_freeze_package_order_interfaces")

    migration.freeze(apps, None)

    assert names(active.interfaces.all()) == PACKAGE_AND_MORE
    assert list(draft.interfaces.all()) == []


def test_billing_relies_on_live_accesses_never_reading_their_package_live():
    from ordering.models import ACCESS_AGREED_STATES, PACKAGE_READ_LIVE_STATES

    # billing/quotes.py licences_serving_system and billing/selectors.py licences_only_this_access_uses read a
    # live access's own interfaces only: true while no live state reads its package as it is today.
    assert not set(ACCESS_AGREED_STATES) & set(PACKAGE_READ_LIVE_STATES)


def test_a_package_edited_after_issue_neither_serves_nor_frees_a_licence(cast):
    from billing.quotes import licences_serving_system

    order = package_order(cast, "active")
    before = licences_serving_system(cast.customer_a.pk, order.external_system_id)
    add_to_package(cast)

    assert licences_serving_system(cast.customer_a.pk, order.external_system_id) == before
    assert "medarbejderoplysninger" not in before
