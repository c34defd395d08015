"""The order page's certificate section (certificates.selectors.certificate_section): the chain in use and the one
waiting, each with its certificates, read by prepared queries (core/prepared.py)."""

from certificates import selectors
from certificates import services as cert_services
from certificates.models import CertificateBundle
from certificates.testing import make_leaf, pem

Status = CertificateBundle.Status


def test_the_section_holds_the_chain_in_use_and_the_one_waiting_each_with_its_own_certificates(
    cast, individual_order, pki, django_assert_num_queries
):
    order = individual_order("active")
    leaf = make_leaf(pki, cvr="31415926", common_name="Waiting 2027")
    cert_services.certificate_upload(order=order, actor=cast.orderer_a, data=pem(leaf, pki.issuing), filename="k.pem")
    with django_assert_num_queries(3):  # the chains, their certificates, the latest uploads
        section = selectors.certificate_section(order)
        current, pending = section["current"], section["pending"]
        assert current.status == Status.CURRENT and pending.status == Status.PENDING
        for bundle in (current, pending):
            assert [c.bundle_id for c in bundle.certificates.all()] == [bundle.pk] * 2
        assert "CN=Waiting 2027," in pending.leaf.subject and "CN=Waiting 2027," not in current.leaf.subject
    assert len(section["uploads"]) == 2


def test_a_chain_uploaded_between_the_two_reads_waits_for_the_next_page(cast, individual_order, pki, monkeypatch):
    order = individual_order("active")
    (current,) = CertificateBundle.objects.filter(order=order)
    read_chains = selectors._SHOWN_BUNDLES.all

    def chains_then_an_upload(**values):
        chains = read_chains(**values)
        leaf = make_leaf(pki, cvr="31415926", common_name="Just now")
        cert_services.certificate_upload(
            order=order, actor=cast.orderer_a, data=pem(leaf, pki.issuing), filename="k.pem"
        )
        return chains

    monkeypatch.setattr(selectors._SHOWN_BUNDLES, "all", chains_then_an_upload)
    section = selectors.certificate_section(order)
    assert section["current"].pk == current.pk and section["pending"] is None
    assert len(section["current"].certificates.all()) == 2
    assert CertificateBundle.objects.filter(order=order, status=Status.PENDING).exists()  # there for the next page
