"""A chain a confirmed rollover replaced names its successor (CertificateBundle.replaced_by): set when the
rollover is confirmed, filled for existing data by migration 0006, and what the access register reads to list
the old chain during the overlap, instead of two equal timestamps."""

import datetime
import importlib

from django.apps import apps
from django.utils import timezone

from certificates import services as cert_services
from certificates.models import CertificateBundle
from certificates.testing import make_leaf, pem
from tests.registers.test_access_register import at

migration = importlib.import_module("certificates.migrations.0006_bundle_replaced_by")
Status = CertificateBundle.Status


def upload(cast, order, pki, name: str):
    leaf = make_leaf(pki, cvr="31415926", common_name=name)
    cert_services.certificate_upload(order=order, actor=cast.orderer_a, data=pem(leaf, pki.issuing), filename="k.pem")
    return leaf


def bundle_named(order, name: str) -> CertificateBundle:
    """The order's bundle whose leaf has this common name."""
    return CertificateBundle.objects.get(
        order=order, certificates__role="leaf", certificates__subject__contains=f"CN={name},"
    )


def test_confirming_a_rollover_links_the_old_chain_to_the_new_one(cast, individual_order, pki):
    order = individual_order("active")
    (old,) = CertificateBundle.objects.filter(order=order)
    upload(cast, order, pki, "Waiting 2027")
    upload(cast, order, pki, "Waiting 2028")  # replaces the first waiting chain before it was ever in use
    new = cert_services.certificate_rollover_confirm(order=order, actor=cast.am_a)

    old.refresh_from_db()
    assert (old.status, old.replaced_by_id) == (Status.SUPERSEDED, new.pk)
    assert bundle_named(order, "Waiting 2028").pk == new.pk and new.replaced_by_id is None
    waiting = bundle_named(order, "Waiting 2027")
    assert waiting.status == Status.SUPERSEDED and waiting.replaced_by_id is None


def test_a_drafts_replaced_chain_names_no_successor(cast, individual_order, pki):
    order = individual_order("draft")
    upload(cast, order, pki, "Second try")
    superseded = CertificateBundle.objects.get(order=order, status=Status.SUPERSEDED)
    assert superseded.replaced_by_id is None


def test_the_register_lists_the_old_chain_by_its_link_not_by_equal_timestamps(cast, individual_order, pki):
    order = individual_order("active")
    old = CertificateBundle.objects.get(order=order)
    old_leaf = old.leaf
    upload(cast, order, pki, "New 2027")
    new = cert_services.certificate_rollover_confirm(order=order, actor=cast.am_a)
    # The two moments need not be equal any more: the link says which chain was in use.
    CertificateBundle.objects.filter(replaced_by=new).update(
        superseded_at=new.confirmed_at + datetime.timedelta(microseconds=1)
    )
    roles = {c["sha256"]: c["role"] for c in at(timezone.now())["accesses"][0]["certificates"]}
    assert roles[old_leaf.sha256] == "previous" and len(roles) == 2

    # Without the link, equal timestamps alone list nothing.
    CertificateBundle.objects.filter(pk=old.pk).update(replaced_by=None, superseded_at=new.confirmed_at)
    roles = {c["sha256"]: c["role"] for c in at(timezone.now())["accesses"][0]["certificates"]}
    assert list(roles.values()) == ["current"]


def test_the_migration_links_each_rollover_and_nothing_else(cast, individual_order, pki):
    active = individual_order("active")
    (in_use_before,) = CertificateBundle.objects.filter(order=active)
    upload(cast, active, pki, "Waiting, replaced")
    upload(cast, active, pki, "Confirmed")
    confirmed = cert_services.certificate_rollover_confirm(order=active, actor=cast.am_a)
    draft = individual_order("draft", codes=("medarbejderoplysninger",))
    upload(cast, draft, pki, "Draft's second")
    # A draft chain superseded at the very moment another order's chain was confirmed: not its successor.
    CertificateBundle.objects.filter(order=draft, status=Status.SUPERSEDED).update(superseded_at=confirmed.confirmed_at)
    CertificateBundle.objects.update(replaced_by=None)  # as every bundle was before the migration

    migration.link_rollovers(apps, None)

    links = dict(CertificateBundle.objects.values_list("pk", "replaced_by_id"))
    assert links.pop(in_use_before.pk) == confirmed.pk
    assert set(links.values()) == {None}, links
    migration.link_rollovers(apps, None)  # running again changes nothing
    assert CertificateBundle.objects.filter(replaced_by__isnull=False).count() == 1


def test_migrating_back_drops_the_link_with_its_column():
    add_field, backfill = migration.Migration.operations
    assert add_field.name == "replaced_by" and backfill.reverse_code is backfill.noop
