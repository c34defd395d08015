"""The report of an inspection: fixed once made, in both languages, and valid only with a chain and no error."""

import dataclasses
import hashlib
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives import serialization

from certificates.chains import describe_name
from certificates.findings import Finding
from certificates.testing import pem, zip_bytes
from certificates.validation import BundleReport, inspect_bundle


def check(data: bytes, trust, filename: str = "kaede.pem"):
    return inspect_bundle(data, filename, trust=trust, at=datetime.now(UTC))


def test_a_report_and_everything_in_it_cannot_be_changed_once_made(pki, leaf, trust):
    report = check(pem(leaf, pki.issuing, pki.issuing), trust)
    for thing, field in [
        (report, "chain"),
        (report.findings[0], "code"),
        (report.leaf, "subject"),
        (trust, "roots"),
        (describe_name(report.leaf.subject), "holder"),
    ]:
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(thing, field, None)


@pytest.mark.parametrize(
    ("language", "expected"), [("da", "dansk"), ("en", "English"), ("en-gb", "English"), ("de", "dansk")]
)
def test_a_finding_speaks_english_to_english_readers_and_danish_to_everyone_else(language, expected):
    assert Finding("x", "error", "dansk", "English").message(language) == expected


def test_a_finding_speaks_danish_by_default():
    assert Finding("x", "error", "dansk", "English").message() == "dansk"


def test_an_accepted_report_is_hashed_over_its_canonical_pem_and_a_refused_one_not_at_all(pki, leaf, trust):
    accepted = check(pem(leaf, pki.issuing), trust)
    assert accepted.valid and accepted.sha256 == hashlib.sha256(pem(leaf, pki.issuing)).hexdigest()
    refused = check(pem(leaf), trust)
    assert not refused.valid and refused.sha256 == "" and refused.canonical_pem == b""


def _report(chain, findings) -> BundleReport:
    return BundleReport("x.pem", 1, "", "pem", tuple(findings), tuple(chain), False, 0)


def test_a_report_is_valid_only_with_a_chain_and_without_an_error(pki, leaf, trust):
    chain = check(pem(leaf, pki.issuing), trust).chain
    warning, error = Finding("w", "warning", "", ""), Finding("e", "error", "", "")
    assert _report(chain, [warning]).valid
    assert not _report((), [warning]).valid
    assert not _report(chain, [warning, error]).valid
    assert _report((), []).leaf is None


def test_a_der_certificate_in_a_folder_of_the_zip_gets_a_command_with_its_file_name(leaf, trust):
    data = zip_bytes({"mappe/system.cer": leaf.public_bytes(serialization.Encoding.DER)})
    report = check(data, trust, "kaede.zip")
    assert report.codes() == ["der_certificate"]
    assert "`openssl x509 -inform DER -in system.cer -out certifikat.pem`" in report.findings[0].da


def test_a_file_name_unfit_for_a_command_is_replaced_in_it(leaf, trust):
    report = check(leaf.public_bytes(serialization.Encoding.DER), trust, "mit system (1).cer")
    assert "`openssl x509 -inform DER -in fil -out certifikat.pem`" in report.findings[0].da
    assert report.findings[0].da.startswith("„mit system (1).cer“ er et enkelt certifikat")
