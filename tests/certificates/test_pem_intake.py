"""PEM text: only certificate blocks, each exactly a certificate; a finding names the block by its number.

Around the blocks only blank lines and the lines OpenSSL writes about certificates pass; any other line is
refused with its number and a short excerpt of it.
"""

import base64
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives import serialization

from certificates.testing import key_der, pem, rsa_key, zip_bytes
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
    assert report.findings[0].da.startswith("„csr.pem“ indeholder en „CERTIFICATE REQUEST“-blok (nr. 3): en ")
    assert report.findings[0].en.startswith("“csr.pem” contains a “CERTIFICATE REQUEST” block (no. 3): a ")


def test_a_damaged_second_certificate_is_named_as_number_two(pki, leaf, trust):
    report = check(pem(leaf) + _damaged(pem(pki.issuing)), trust)
    assert report.codes() == ["pem_invalid_certificate"]
    assert report.findings[0].da.startswith("Certifikat nr. 2 i „kaede.pem“ er beskadiget")


def test_a_stray_end_line_before_any_block_counts_as_number_one(pki, leaf, trust):
    report = check(b"-----END CERTIFICATE-----\n" + pem(leaf, pki.issuing), trust)
    assert report.codes() == ["pem_invalid_certificate"]
    assert report.findings[0].en.startswith("Certificate no. 1 in “kaede.pem” is damaged")


def test_bytes_in_a_block_beyond_its_certificate_make_it_damaged(pki, leaf, trust):
    der = leaf.public_bytes(serialization.Encoding.DER) + b"\x05\x00"
    block = b"-----BEGIN CERTIFICATE-----\n" + base64.encodebytes(der) + b"-----END CERTIFICATE-----\n"
    report = check(pem(pki.issuing) + block, trust)
    assert report.codes() == ["pem_invalid_certificate"]
    assert report.findings[0].da.startswith("Certifikat nr. 2 i „kaede.pem“ er beskadiget")


@pytest.mark.parametrize(("length", "shown"), [(40, 40), (41, 40)])
def test_a_foreign_blocks_label_is_shown_up_to_40_characters(pki, leaf, trust, length, shown):
    """Whatever a file calls its block, the sentence quotes at most 40 characters of it."""
    foreign = b"-----BEGIN " + b"X" * length + b"-----\nAAAA\n-----END " + b"X" * length + b"-----\n"
    report = check(pem(leaf, pki.issuing) + foreign, trust, "odd.pem")
    assert report.codes() == ["pem_unexpected_block"]
    assert report.findings[0].en.startswith(f"“odd.pem” contains a “{'X' * shown}” block (no. 3): a block of another")


# --- Text outside the blocks --------------------------------------------------------------------


def lines_of(text: bytes) -> int:
    return text.count(b"\n")


def _hex_key() -> bytes:
    """A private key written as hex, 64 characters a line: no key search reads hex."""
    text = key_der(rsa_key(3072, 1)).hex().encode()
    return b"".join(text[i : i + 64] + b"\n" for i in range(0, len(text), 64))


def _double_base64_key() -> bytes:
    """A private key's base64 encoded once more: decoded once, it is base64 text, not a key."""
    return base64.encodebytes(base64.b64encode(key_der(rsa_key(3072, 1))))


HIDDEN_KEYS = {"in hex": _hex_key, "in double base64": _double_base64_key}


@pytest.mark.parametrize("form", list(HIDDEN_KEYS))
def test_a_private_key_after_the_chain_in_a_form_no_key_search_reads_is_refused_by_its_first_line(
    form, pki, leaf, trust
):
    """Issue #21: accepted before (page 302, API 201), though nothing but certificates is to pass."""
    chain, key = pem(leaf, pki.issuing), HIDDEN_KEYS[form]()
    for data, filename in ((chain + key, "kaede.pem"), (zip_bytes({"kaede.pem": chain + key}), "kaede.zip")):
        report = check(data, trust, filename)
        assert report.codes() == ["pem_unexpected_text"], (filename, report.codes())
        assert not report.valid and report.chain == () and report.canonical_pem == b""
        first = key.split(b"\n")[0].decode()
        assert report.findings[0].da.startswith(
            f"Linje {lines_of(chain) + 1} i „kaede.pem“ hører ikke hjemme i en certifikatfil: "
            f"„{len(first)} tegn kodede data, ikke gengivet“."
        )
        assert report.findings[0].en.startswith(
            f"Line {lines_of(chain) + 1} of “kaede.pem” does not belong in a certificate file: "
            f"“{len(first)} characters of encoded data, not repeated here”."
        )
        # The finding is kept with the refused upload: no piece of the key is in it.
        assert first[:8] not in report.findings[0].da + report.findings[0].en


def test_a_stray_word_between_the_certificates_is_refused_saying_what_passes_and_what_to_do(pki, leaf, trust):
    data = pem(leaf) + b"hemmelig\n" + pem(pki.issuing)
    report = check(data, trust)
    assert report.codes() == ["pem_unexpected_text"]
    number = lines_of(pem(leaf)) + 1
    assert report.findings[0].da == (
        f"Linje {number} i „kaede.pem“ hører ikke hjemme i en certifikatfil: „hemmelig“. Ud over certifikaterne "
        "(„-----BEGIN CERTIFICATE-----“) må filen kun indeholde tomme linjer og de linjer, OpenSSL skriver om dem "
        "(„Bag Attributes“ med de indrykkede linjer under, „subject=“, „issuer=“). Fjern linjen, og upload igen. "
        "Er linjen en del af en privat nøgle, skal certifikatet spærres og udskiftes."
    )
    assert report.findings[0].en == (
        f"Line {number} of “kaede.pem” does not belong in a certificate file: “hemmelig”. Besides the certificates "
        "(“-----BEGIN CERTIFICATE-----”) the file may hold only blank lines and the lines OpenSSL writes about them "
        "(“Bag Attributes” with the indented lines under it, “subject=”, “issuer=”). Remove the line and upload "
        "again. If the line is part of a private key, the certificate must be revoked and replaced."
    )


OPENSSL_LINES = {
    # name: what stands before each certificate block; every one of these lines passes
    "a bag with its attributes (OpenSSL 1.1)": b"Bag Attributes\n    localKeyID: 01 00 00 00\n"
    b"    friendlyName: Fravaersoverblik\nsubject=/C=DK/O=Lokal IT ApS/CN=Fravaersoverblik\n"
    b"issuer=/C=DK/O=Den Danske Stat\n",
    "OpenSSL 3's names and blank lines": b"Bag Attributes\n    localKeyID: 5A 3B 11 0C\n"
    b"subject=C = DK, O = Lokal IT ApS, CN = Fravaersoverblik\n\nissuer=C = DK, O = Den Danske Stat\n\n",
    "a bag without attributes": b"Bag Attributes: <No Attributes>\n",
    "a bag with an empty set of attributes": b"Bag Attributes: <Empty Attributes>\n",
    "an attribute named by its number": b"Bag Attributes\n    2.16.840.1.113894.746875.1.1: <Unsupported tag 6>\n",
    "an attribute with a tab and an empty value": b"Bag Attributes\n\tfriendlyName: \n",
    "an attribute whose name has spaces and a hyphen": b"Bag Attributes\n    Microsoft CSP-Name: x\n",
    "a subject line alone": b"subject=CN = Fravaersoverblik\n",
    "an issuer line alone": b"issuer=CN = Den Danske Stat OCES udstedende-CA 1\n",
    "an empty subject": b"subject=\n",
    "blank lines with spaces and tabs": b"\n  \n\t\n",
    "trailing spaces after each line": b"Bag Attributes  \n    localKeyID: 01 \t\nsubject=/CN=x \n",
}


@pytest.mark.parametrize("case", list(OPENSSL_LINES))
def test_the_lines_openssl_writes_about_a_certificate_pass(case, pki, leaf, trust):
    lines = OPENSSL_LINES[case]
    report = check(lines + pem(leaf) + lines + pem(pki.issuing) + lines, trust)
    assert report.valid, report.findings


def test_a_windows_file_with_openssls_lines_trailing_spaces_and_blank_lines_passes(pki, leaf, trust):
    text = (
        b"Bag Attributes \n    localKeyID: 01 00 00 00\nsubject=/CN=Fravaersoverblik  \n\n"
        + pem(leaf).replace(b"-----\n", b"-----   \n")
        + b"\n\t\n"
        + pem(pki.issuing)
        + b"\n\n"
    )
    assert check(b"\xef\xbb\xbf" + text.replace(b"\n", b"\r\n"), trust, "windows.pem").valid
    assert check(text.replace(b"\n", b"\r"), trust, "gammel-mac.pem").valid


NOT_OPENSSL_LINES = {
    # name: (what stands before the first certificate block, the line refused, its number)
    "a key's attributes": (b"Key Attributes\n    localKeyID: 01 00 00 00\n", "Key Attributes", 1),
    "a key without attributes": (b"Key Attributes: <No Attributes>\n", "Key Attributes: <No Attributes>", 1),
    "an attribute without a bag": (b"    localKeyID: 01 00 00 00\n", "localKeyID: 01 00 00 00", 1),
    "an attribute after a blank line": (b"Bag Attributes\n\n    localKeyID: 01\n", "localKeyID: 01", 3),
    "an attribute under a subject": (b"Bag Attributes\nsubject=/CN=x\n    localKeyID: 01\n", "localKeyID: 01", 3),
    "an attribute under a bag without attributes": (
        b"Bag Attributes: <No Attributes>\n    localKeyID: 01\n",
        "localKeyID: 01",
        2,
    ),
    "an attribute without a colon": (b"Bag Attributes\n    localKeyID 01\n", "localKeyID 01", 2),
    "an attribute without a name": (b"Bag Attributes\n    : 01\n", ": 01", 2),
    "an attribute whose colon is not followed by a space": (
        b"Bag Attributes\n    localKeyID:01\n",
        "localKeyID:01",
        2,
    ),
    "a bag header with more after it": (b"Bag Attributes: <Key>\n", "Bag Attributes: <Key>", 1),
    "a bag header in other case": (b"bag attributes\n", "bag attributes", 1),
    "an indented subject": (b" subject=/CN=x\n", "subject=/CN=x", 1),
    "a subject in other case": (b"Subject=/CN=x\n", "Subject=/CN=x", 1),
    "a subject without its equals sign": (b"subject /CN=x\n", "subject /CN=x", 1),
    "a name printed over several lines": (
        b"subject=\n    commonName                = x\n",
        "commonName                = x",
        2,
    ),
    "a word after blank lines": (b"\n\nHej KMD\n", "Hej KMD", 3),
    "a form feed": (b"\x0c\n", "?", 1),
}


@pytest.mark.parametrize("case", list(NOT_OPENSSL_LINES))
def test_any_other_line_is_refused_with_its_number(case, pki, leaf, trust):
    before, refused, number = NOT_OPENSSL_LINES[case]
    report = check(before + pem(leaf, pki.issuing), trust)
    assert report.codes() == ["pem_unexpected_text"]
    assert report.findings[0].en.startswith(
        f"Line {number} of “kaede.pem” does not belong in a certificate file: “{refused}”."
    )


def test_text_on_an_armour_line_or_after_the_last_line_end_is_refused(pki, leaf, trust):
    chain = pem(leaf, pki.issuing)
    report = check(chain.replace(b"-----END CERTIFICATE-----\n", b"-----END CERTIFICATE----- ok\n", 1), trust)
    assert report.findings[0].en.startswith(f"Line {lines_of(pem(leaf))} of “kaede.pem” does not belong")
    assert "“ok”" in report.findings[0].en
    report = check(b"x" + chain, trust)
    assert report.findings[0].en.startswith("Line 1 of “kaede.pem” does not belong in a certificate file: “x”.")
    report = check(chain + b"slut", trust)
    assert report.findings[0].en.startswith(f"Line {lines_of(chain) + 1} of “kaede.pem” does not belong")


def test_the_first_line_not_allowed_is_the_one_named(pki, leaf, trust):
    report = check(pem(leaf) + b"Bag Attributes\nen\nto\n" + pem(pki.issuing) + b"tre\n", trust)
    assert report.codes() == ["pem_unexpected_text"]
    assert report.findings[0].en.startswith(f"Line {lines_of(pem(leaf)) + 2} of “kaede.pem” does not belong")


def test_in_a_zip_the_entry_holding_the_line_is_named(pki, leaf, trust):
    data = zip_bytes({"a.pem": pem(leaf), "ca/b.pem": pem(pki.issuing) + b"\nnoter\n"})
    report = check(data, trust, "kaede.zip")
    assert report.codes() == ["pem_unexpected_text"]
    assert report.findings[0].da.startswith(
        f"Linje {lines_of(pem(pki.issuing)) + 2} i „ca/b.pem“ hører ikke hjemme i en certifikatfil: „noter“."
    )


@pytest.mark.parametrize(("length", "quoted"), [(40, "x " + "x" * 38), (41, "x " + "x" * 38 + "…")])
def test_a_refused_line_is_quoted_up_to_40_characters(pki, leaf, trust, length, quoted):
    line = b"x " + b"x" * (length - 2)  # words, not one run of encoded data
    report = check(pem(leaf, pki.issuing) + b"  " + line + b"  \n", trust)
    assert f"does not belong in a certificate file: “{quoted}”." in report.findings[0].en
    assert f"hører ikke hjemme i en certifikatfil: „{quoted}“." in report.findings[0].da


def test_a_refused_line_is_quoted_as_plain_text(pki, leaf, trust):
    """Control and formatting characters and backslashes become "?"; letters of any script stay."""
    line = "nøgle\x07\\\u202eabc\u200b<b>".encode()
    report = check(pem(leaf, pki.issuing) + line + b"\n", trust)
    assert "„nøgle???abc?<b>“" in report.findings[0].da and "“nøgle???abc?<b>”" in report.findings[0].en


def test_a_block_of_another_kind_is_named_before_any_stray_line(pki, leaf, trust):
    report = check(b"Hej KMD\n" + pem(leaf, pki.issuing) + csr_pem(), trust, "csr.pem")
    assert report.codes() == ["pem_unexpected_block"]


@pytest.mark.parametrize(("run", "quoted"), [(15, True), (16, False)])
def test_a_run_of_encoded_data_from_16_characters_on_is_never_quoted(pki, leaf, trust, run, quoted):
    """A piece of a key must not end up in the finding kept with the refused upload; a shorter word is quoted."""
    line = "0123456789abcdefABCDEF"[:run]
    report = check(pem(leaf, pki.issuing) + line.encode() + b"\n", trust)
    assert report.codes() == ["pem_unexpected_text"]
    assert (f"“{line}”" in report.findings[0].en) is quoted
    assert (f"“{run} characters of encoded data, not repeated here”" in report.findings[0].en) is not quoted
