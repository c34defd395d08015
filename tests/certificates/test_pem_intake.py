"""PEM text: only certificate blocks, each exactly a certificate; a finding names the block by its number."""

import base64
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives import serialization

from certificates.testing import pem
from certificates.validation import inspect_bundle
from tests.certificates.requests import csr_pem


def check(data: bytes, trust, filename: str = "kaede.pem"):
    return inspect_bundle(data, filename, trust=trust, at=datetime.now(UTC))


def _damaged(certificate: bytes) -> bytes:
    lines = certificate.split(b"\n")
    lines[5] = b"!!!!" + lines[5][4:]  # no longer base64, so no longer a certificate block
    return b"\n".join(lines)


def test_a_block_of_another_kind_is_named_with_its_number(pki, leaf, trust):
    report = check(pem(leaf, pki.issuing) + csr_pem(), trust, "csr.pem")
    assert report.codes() == ["pem_unexpected_block"]
    assert report.findings[0].da.startswith("“csr.pem” indeholder en “CERTIFICATE REQUEST”-blok (nr. 3): en ")
    assert report.findings[0].en.startswith("“csr.pem” contains a “CERTIFICATE REQUEST” block (no. 3): a ")


def test_a_damaged_second_certificate_is_named_as_number_two(pki, leaf, trust):
    report = check(pem(leaf) + _damaged(pem(pki.issuing)), trust)
    assert report.codes() == ["pem_invalid_certificate"]
    assert report.findings[0].da.startswith("Certifikat nr. 2 i “kaede.pem” er beskadiget")


def test_a_stray_end_line_before_any_block_counts_as_number_one(pki, leaf, trust):
    report = check(b"-----END CERTIFICATE-----\n" + pem(leaf, pki.issuing), trust)
    assert report.codes() == ["pem_invalid_certificate"]
    assert report.findings[0].en.startswith("Certificate no. 1 in “kaede.pem” is damaged")


def test_bytes_in_a_block_beyond_its_certificate_make_it_damaged(pki, leaf, trust):
    der = leaf.public_bytes(serialization.Encoding.DER) + b"\x05\x00"
    block = b"-----BEGIN CERTIFICATE-----\n" + base64.encodebytes(der) + b"-----END CERTIFICATE-----\n"
    report = check(pem(pki.issuing) + block, trust)
    assert report.codes() == ["pem_invalid_certificate"]
    assert report.findings[0].da.startswith("Certifikat nr. 2 i “kaede.pem” er beskadiget")


@pytest.mark.parametrize(("length", "shown"), [(40, 40), (41, 40)])
def test_a_foreign_blocks_label_is_shown_up_to_40_characters(pki, leaf, trust, length, shown):
    """Whatever a file calls its block, the sentence quotes at most 40 characters of it."""
    foreign = b"-----BEGIN " + b"X" * length + b"-----\nAAAA\n-----END " + b"X" * length + b"-----\n"
    report = check(pem(leaf, pki.issuing) + foreign, trust, "odd.pem")
    assert report.codes() == ["pem_unexpected_block"]
    assert report.findings[0].en.startswith(f"“odd.pem” contains a “{'X' * shown}” block (no. 3): a block of another")
