"""Migration 0003: every stored chain becomes the canonical PEM of its certificates; no key bytes stay."""

import hashlib
import importlib

from django.apps import apps

from certificates import services
from certificates.models import CertificateBundle, CertificateUpload
from certificates.testing import key_pem, make_leaf, pem, rsa_key, zip_bytes

migration = importlib.import_module("certificates.migrations.0003_canonical_pem_bundles")


def test_every_stored_bundle_is_rewritten_to_the_canonical_pem_of_its_certificates(
    cast, individual_order, pki, vendor_leaf
):
    order = individual_order("draft")  # its chain: vendor_leaf and the issuing CA
    second_leaf = make_leaf(pki, cvr="31415926")
    services.certificate_upload(
        order=order, actor=cast.orderer_a, data=pem(second_leaf, pki.issuing), filename="ny.pem"
    )
    refused, _report = services.certificate_upload(order=order, actor=cast.orderer_a, data=b"hej", filename="x.pem")
    # What main used to store: the bytes as uploaded, here with a private key beside the chain, and their hash.
    key = key_pem(rsa_key(3072, 5))
    for bundle in CertificateBundle.objects.all():
        canonical = "".join(c.pem for c in bundle.certificates.order_by("position")).encode()
        raw = zip_bytes({"kaede.pem": canonical, "__MACOSX/._kaede.pem": key}) + key
        CertificateBundle.objects.filter(pk=bundle.pk).update(data=raw)
        CertificateUpload.objects.filter(pk=bundle.upload_id).update(sha256=hashlib.sha256(raw).hexdigest())
    CertificateUpload.objects.filter(pk=refused.pk).update(sha256=hashlib.sha256(b"hej").hexdigest())

    migration.canonical_pem_bundles(apps, None)

    bundles = list(CertificateBundle.objects.order_by("pk"))
    assert len(bundles) == 2
    for bundle, leaf in zip(bundles, [vendor_leaf, second_leaf], strict=True):
        expected = pem(leaf, pki.issuing)
        assert bytes(bundle.data) == expected
        assert bundle.upload.sha256 == hashlib.sha256(expected).hexdigest()
        assert b"PRIVATE KEY" not in bytes(bundle.data)
    refused.refresh_from_db()
    assert refused.sha256 == ""


def test_a_second_run_changes_nothing_and_going_back_is_a_no_op(cast, individual_order):
    individual_order("draft")
    migration.canonical_pem_bundles(apps, None)
    before = list(CertificateBundle.objects.values_list("pk", "data"))
    migration.canonical_pem_bundles(apps, None)
    assert list(CertificateBundle.objects.values_list("pk", "data")) == before
    (operation,) = migration.Migration.operations
    assert operation.reversible and operation.reverse_code is operation.noop
