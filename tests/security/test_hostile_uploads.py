"""Hostile certificate uploads: only validated certificates get in, and a private key is called one.

Issue #8, part 1. Every attack here was accepted by the old intake (a key hidden where the zip
reader does not look), or refused as "unknown format" / "unexpected file" without telling the
user that they had sent a private key. Of a refused upload the database keeps the attempt, its
findings and its size – no bytes and no hash; of an accepted one only the canonical PEM.
"""

import hashlib
import io
import struct
import zipfile
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.serialization import pkcs12
from django.db import connection
from django.urls import reverse

from certificates import services
from certificates.models import Certificate, CertificateBundle, CertificateUpload
from certificates.testing import ec_key, key_der, key_pem, pem, rsa_key, zip_bytes
from certificates.validation import _RATIO_FLOOR, MAX_ZIP_ENTRIES, inspect_bundle
from tests.certificates.requests import csr_pem

APPLEDOUBLE = b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        " + b"\x00" * 200
DS_STORE = b"\x00\x00\x00\x01Bud1" + b"\x00" * 200
PASSWORD = b"hemmelig"


def check(data: bytes, trust, filename: str = "kaede.zip"):
    return inspect_bundle(data, filename, trust=trust, at=datetime.now(UTC))


def assert_refused_as_private_key(report) -> None:
    assert not report.valid and report.chain == ()
    assert report.contains_private_key
    assert report.sha256 == "" and report.canonical_pem == b""
    assert "private_key" in report.codes("error"), report.codes()
    finding = next(f for f in report.findings if f.code == "private_key")
    assert "indeholder en privat nøgle" in finding.da
    assert "aldrig forlade leverandøren" in finding.da and "spærret og genudstedt" in finding.da
    assert "contains a private key" in finding.en
    assert "never leave the vendor" in finding.en and "revoked and reissued" in finding.en


def chain_of(pki, leaf) -> bytes:
    return pem(leaf, pki.issuing)


# --- Private keys in every format, hidden in every place -------------------------------------


def _pkcs12(pki, leaf) -> bytes:
    encryption = serialization.BestAvailableEncryption(PASSWORD)
    return pkcs12.serialize_key_and_certificates(b"system", rsa_key(3072, 1), leaf, [pki.issuing], encryption)


def _ed25519() -> bytes:
    return ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _openssh() -> bytes:
    return rsa_key(3072, 1).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
    )


KEYS = {
    # name: builder(pki, leaf) -> the key's bytes
    "PKCS#1 PEM": lambda p, leaf: key_pem(rsa_key(3072, 1), traditional=True),
    "PKCS#8 PEM": lambda p, leaf: key_pem(rsa_key(3072, 1)),
    "encrypted PKCS#8 PEM": lambda p, leaf: key_pem(rsa_key(3072, 1), password=PASSWORD),
    "SEC1 PEM": lambda p, leaf: key_pem(ec_key(), traditional=True),
    "PKCS#1 DER": lambda p, leaf: key_der(rsa_key(3072, 1), traditional=True),
    "PKCS#8 DER": lambda p, leaf: key_der(rsa_key(3072, 1)),
    "encrypted PKCS#8 DER": lambda p, leaf: key_der(rsa_key(3072, 1), password=PASSWORD),
    "SEC1 DER": lambda p, leaf: key_der(ec_key(), traditional=True),
    "EC PKCS#8 DER": lambda p, leaf: key_der(ec_key()),
    "encrypted EC PKCS#8 DER": lambda p, leaf: key_der(ec_key(), password=PASSWORD),
    "Ed25519 PKCS#8 DER": lambda p, leaf: _ed25519(),
    "PKCS#12": _pkcs12,
    "OpenSSH": lambda p, leaf: _openssh(),
}

PLACES = {
    # name: builder(chain, key) -> (upload, filename); the valid chain is always there too
    "as system.key in the zip": lambda chain, key: (zip_bytes({"kaede.pem": chain, "system.key": key}), "k.zip"),
    "in __MACOSX/._kaede.pem": lambda chain, key: (
        zip_bytes({"kaede.pem": chain, "__MACOSX/": b"", "__MACOSX/._kaede.pem": APPLEDOUBLE + key}),
        "k.zip",
    ),
    "in .DS_Store": lambda chain, key: (zip_bytes({"kaede.pem": chain, ".DS_Store": DS_STORE + key}), "k.zip"),
    "in the zip comment": lambda chain, key: (zip_bytes({"kaede.pem": chain}, comment=key), "k.zip"),
    "appended after the zip": lambda chain, key: (zip_bytes({"kaede.pem": chain}) + key, "k.zip"),
    "prepended before the zip": lambda chain, key: (key + zip_bytes({"kaede.pem": chain}), "k.zip"),
}


@pytest.mark.parametrize("place", list(PLACES))
@pytest.mark.parametrize("key", list(KEYS))
def test_a_private_key_beside_a_valid_chain_is_refused_and_named(key, place, pki, leaf, trust):
    data, filename = PLACES[place](chain_of(pki, leaf), KEYS[key](pki, leaf))
    assert_refused_as_private_key(check(data, trust, filename))


def _armour(key: bytes, begin: bytes, end: bytes) -> bytes:
    lines = key.strip().split(b"\n")
    return b"\n".join([begin, *lines[1:-1], end]) + b"\n"


def _key_body(key: bytes) -> bytes:
    return b"\n".join(key.strip().split(b"\n")[1:-1]) + b"\n"


def _openssl_text_dump() -> bytes:
    numbers = rsa_key(3072, 1).private_numbers()
    hex_bytes = numbers.d.to_bytes(384, "big").hex(":")
    return (
        b"Private-Key: (3072 bit, 2 primes)\nmodulus:\n    00:c1:5e\npublicExponent: 65537 (0x10001)\n"
        b"privateExponent:\n    " + hex_bytes.encode() + b"\n"
    )


TEXT_KEYS = {
    # name: builder() -> what follows the valid chain in one .pem file
    "lower-case PEM label": lambda: _armour(
        key_pem(rsa_key(3072, 1)), b"-----begin private key-----", b"-----end private key-----"
    ),
    "mixed-case SEC1 label": lambda: _armour(
        key_pem(ec_key(), traditional=True), b"-----Begin Ec Private Key-----", b"-----End Ec Private Key-----"
    ),
    "spaces inside the dashes": lambda: _armour(
        key_pem(rsa_key(3072, 1), traditional=True),
        b"----- BEGIN RSA PRIVATE KEY -----",
        b"----- END RSA PRIVATE KEY -----",
    ),
    "two spaces in the label": lambda: _armour(
        key_pem(rsa_key(3072, 1), traditional=True),
        b"-----BEGIN RSA PRIVATE  KEY-----",
        b"-----END RSA PRIVATE  KEY-----",
    ),
    "a tab in the label": lambda: _armour(
        key_pem(rsa_key(3072, 1)), b"-----BEGIN PRIVATE\tKEY-----", b"-----END PRIVATE\tKEY-----"
    ),
    "labelled as a certificate": lambda: _armour(
        key_pem(rsa_key(3072, 1)), b"-----BEGIN CERTIFICATE-----", b"-----END CERTIFICATE-----"
    ),
    "under an unknown label": lambda: _armour(key_pem(ec_key()), b"-----BEGIN STUFF-----", b"-----END STUFF-----"),
    "base64 without armour": lambda: _key_body(key_pem(rsa_key(3072, 1))),
    "encrypted, base64 without armour": lambda: _key_body(key_pem(ec_key(), password=PASSWORD)),
    "an openssl -text dump": _openssl_text_dump,
    "DER bytes after the text": lambda: key_der(rsa_key(3072, 1)),
}


@pytest.mark.parametrize("case", list(TEXT_KEYS))
def test_a_private_key_written_any_way_after_the_chain_in_a_pem_file_is_refused_and_named(case, pki, leaf, trust):
    data = chain_of(pki, leaf) + TEXT_KEYS[case]()
    assert_refused_as_private_key(check(data, trust, "kaede.pem"))
    assert_refused_as_private_key(check(zip_bytes({"kaede.pem": data}), trust, "kaede.zip"))


ENCODINGS = {
    "UTF-16 LE with BOM": lambda text: b"\xff\xfe" + text.encode("utf-16-le"),
    "UTF-16 BE with BOM": lambda text: b"\xfe\xff" + text.encode("utf-16-be"),
    "UTF-16 LE": lambda text: text.encode("utf-16-le"),
    "UTF-16 BE": lambda text: text.encode("utf-16-be"),
    "UTF-32 LE with BOM": lambda text: b"\xff\xfe\x00\x00" + text.encode("utf-32-le"),
    "UTF-32 BE": lambda text: text.encode("utf-32-be"),
}


@pytest.mark.parametrize("encoding", list(ENCODINGS))
def test_a_private_key_saved_as_utf16_or_utf32_is_refused_and_named(encoding, pki, leaf, trust):
    key = ENCODINGS[encoding](key_pem(rsa_key(3072, 1)).decode("ascii"))
    chain_and_key = ENCODINGS[encoding]((chain_of(pki, leaf) + key_pem(ec_key())).decode("ascii"))
    assert_refused_as_private_key(check(key, trust, "system.key"))
    assert_refused_as_private_key(check(chain_and_key, trust, "kaede.pem"))
    assert_refused_as_private_key(
        check(zip_bytes({"kaede.pem": chain_of(pki, leaf), "noegle.pem": key}), trust, "kaede.zip")
    )


def test_a_pkcs12_file_with_its_key_says_private_key_and_how_to_export_only_the_certificates(pki, leaf, trust):
    report = check(_pkcs12(pki, leaf), trust, "system.p12")
    assert_refused_as_private_key(report)
    assert report.codes() == ["private_key"]
    assert "openssl pkcs12 -in system.p12 -nokeys" in report.findings[0].da
    assert "openssl pkcs12 -in system.p12 -nokeys" in report.findings[0].en


# --- Blocks that are not certificates, and are not keys either ---------------------------------


def _crl(pki) -> bytes:
    now = datetime.now(UTC)
    crl = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(pki.issuing.subject)
        .last_update(now)
        .next_update(now + timedelta(days=1))
        .sign(pki.issuing_key, hashes.SHA256())
    )
    return crl.public_bytes(serialization.Encoding.PEM)


def _public_key() -> bytes:
    return (
        rsa_key(3072, 1)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


NOT_CERTIFICATES = {
    # name: (builder(pki) -> block, words in the Danish message, words in the English one)
    "X509 CRL": (_crl, "spærreliste", "revocation list"),
    "CERTIFICATE REQUEST": (lambda p: csr_pem(), "certifikatanmodning", "signing request"),
    "PUBLIC KEY": (lambda p: _public_key(), "offentlig nøgle", "public key"),
    "lower-case x509 crl": (
        lambda p: _crl(p).replace(b"BEGIN X509 CRL", b"begin x509 crl").replace(b"END X509 CRL", b"end x509 crl"),
        "spærreliste",
        "revocation list",
    ),
}


@pytest.mark.parametrize("case", list(NOT_CERTIFICATES))
def test_a_block_that_is_neither_certificate_nor_key_is_refused_as_not_a_certificate(case, pki, leaf, trust):
    builder, danish, english = NOT_CERTIFICATES[case]
    report = check(chain_of(pki, leaf) + builder(pki), trust, "kaede.pem")
    assert report.codes() == ["pem_unexpected_block"]
    assert not report.contains_private_key
    finding = report.findings[0]
    assert "(nr. 3)" in finding.da and "ikke et certifikat" in finding.da and danish in finding.da
    assert "(no. 3)" in finding.en and "not a certificate" in finding.en and english in finding.en


# --- Zip structure: nothing outside the packed files -------------------------------------------


def _insert_between_entries(data: bytes, extra: bytes) -> bytes:
    """`extra` placed between the first and the second entry, with every offset after it corrected."""
    archive = zipfile.ZipFile(io.BytesIO(data))
    first, second = archive.infolist()[:2]
    at, start_dir = second.header_offset, archive.start_dir
    data = data[:at] + extra + data[at:]
    buffer = bytearray(data)
    position = start_dir + len(extra)
    for info in archive.infolist():
        n, m, k = struct.unpack_from("<HHH", buffer, position + 28)
        if info is not first:
            struct.pack_into("<I", buffer, position + 42, info.header_offset + len(extra))
        position += 46 + n + m + k
    struct.pack_into("<I", buffer, len(buffer) - 6, start_dir + len(extra))  # the end record's directory offset
    return bytes(buffer)


def _after_the_deflate_stream(data: bytes, extra: bytes) -> bytes:
    """`extra` inside the only entry's packed data, after the end of its deflate stream; sizes corrected."""
    archive = zipfile.ZipFile(io.BytesIO(data))
    (info,) = archive.infolist()
    name_length, extra_length = struct.unpack_from("<HH", data, 26)
    end = 30 + name_length + extra_length + info.compress_size
    buffer = bytearray(data[:end] + extra + data[end:])
    struct.pack_into("<I", buffer, 18, info.compress_size + len(extra))  # local header
    directory = archive.start_dir + len(extra)
    struct.pack_into("<I", buffer, directory + 20, info.compress_size + len(extra))  # central directory
    struct.pack_into("<I", buffer, len(buffer) - 6, directory)
    return bytes(buffer)


def _entry_with_comment(chain: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        info = zipfile.ZipInfo("kaede.pem")
        info.comment = b"hello"
        archive.writestr(info, chain)
    return buffer.getvalue()


STRUCTURE = {
    # name: (builder(chain) -> zip, expected code); none of these hides a key, all were accepted before
    "a harmless zip comment": (lambda chain: zip_bytes({"kaede.pem": chain}, comment=b"zip 3.0"), "zip_comment"),
    "a comment on an entry": (_entry_with_comment, "zip_comment"),
    "bytes appended after the archive": (lambda chain: zip_bytes({"kaede.pem": chain}) + b"x" * 100, "zip_extra_data"),
    "another zip prepended before the archive": (
        lambda chain: zip_bytes({"LAES-MIG.txt": b"hej"}) + zip_bytes({"kaede.pem": chain}),
        "zip_extra_data",
    ),
    "bytes between two entries": (
        lambda chain: _insert_between_entries(zip_bytes({"a.pem": chain, "b.pem": chain}), b"x" * 100),
        "zip_extra_data",
    ),
    "bytes after an entry's deflate stream": (
        lambda chain: _after_the_deflate_stream(zip_bytes({"kaede.pem": chain}), b"x" * 100),
        "zip_extra_data",
    ),
    "a .DS_Store that is not one": (
        lambda chain: zip_bytes({"kaede.pem": chain, ".DS_Store": b"hej"}),
        "zip_unexpected_file",
    ),
    "a __MACOSX entry that is not AppleDouble": (
        lambda chain: zip_bytes({"kaede.pem": chain, "__MACOSX/._kaede.pem": chain}),
        "zip_unexpected_file",
    ),
    "a folder entry with content": (
        lambda chain: zip_bytes({"kaede.pem": chain, "mappe/": b"indhold"}, compression=zipfile.ZIP_STORED),
        "zip_unexpected_file",
    ),
}


@pytest.mark.parametrize("case", list(STRUCTURE))
def test_anything_in_a_zip_but_its_packed_files_is_refused(case, pki, leaf, trust):
    builder, code = STRUCTURE[case]
    report = check(builder(chain_of(pki, leaf)), trust)
    assert not report.valid
    assert code in report.codes("error"), report.codes()
    assert not report.contains_private_key
    finding = next(f for f in report.findings if f.code == code)
    assert finding.da and finding.en and finding.da != finding.en


def test_a_key_between_two_entries_is_named_as_a_key(pki, leaf, trust):
    data = _insert_between_entries(zip_bytes({"a.pem": pem(leaf), "b.pem": pem(pki.issuing)}), key_der(ec_key()))
    assert_refused_as_private_key(check(data, trust))


def test_a_key_after_an_entrys_deflate_stream_is_named_as_a_key(pki, leaf, trust):
    data = _after_the_deflate_stream(zip_bytes({"kaede.pem": chain_of(pki, leaf)}), key_pem(rsa_key(3072, 1)))
    assert_refused_as_private_key(check(data, trust))


# --- What real tools write is still accepted ---------------------------------------------------


ACCEPTED = {
    "CRLF line endings and trailing blank lines": lambda chain: chain.replace(b"\n", b"\r\n") + b"\r\n\r\n",
    "a byte-order mark and a missing final newline": lambda chain: b"\xef\xbb\xbf" + chain.rstrip(b"\n"),
    "openssl pkcs12 -nokeys output": lambda chain: b"Bag Attributes\n    localKeyID: 01 00 00 00\n" + chain,
    "a zip from Finder with its leftovers": lambda chain: zip_bytes(
        {
            "kaede/": b"",
            "kaede/kaede.pem": chain,
            "__MACOSX/": b"",
            "__MACOSX/kaede/._kaede.pem": APPLEDOUBLE,
            "kaede/.DS_Store": DS_STORE,
        }
    ),
    "a streamed zip with data descriptors": lambda chain: zip_bytes({"kaede.pem": chain}, streamed=True),
    "an uncompressed zip": lambda chain: zip_bytes({"kaede.pem": chain}, compression=zipfile.ZIP_STORED),
}


@pytest.mark.parametrize("case", list(ACCEPTED))
def test_what_ordinary_tools_write_is_accepted_and_reduced_to_the_canonical_pem(case, pki, leaf, trust):
    report = check(ACCEPTED[case](chain_of(pki, leaf)), trust, "kaede.pem")
    assert report.valid, report.findings
    assert report.canonical_pem == chain_of(pki, leaf)
    assert report.sha256 == hashlib.sha256(chain_of(pki, leaf)).hexdigest()


def test_a_zip_with_exactly_the_entry_limit_is_accepted_and_one_more_is_refused(pki, leaf, trust):
    files = {"kaede.pem": chain_of(pki, leaf), "__MACOSX/": b""}
    files |= {f"__MACOSX/._{i}.pem": APPLEDOUBLE for i in range(MAX_ZIP_ENTRIES - 2)}
    assert len(files) == MAX_ZIP_ENTRIES
    assert check(zip_bytes(files), trust).valid
    files["__MACOSX/._one-more.pem"] = APPLEDOUBLE
    assert check(zip_bytes(files), trust).codes() == ["zip_too_many_entries"]


def test_a_highly_compressed_leftover_is_unpacked_up_to_the_ratio_floor_and_no_further(pki, leaf, trust):
    def with_ds_store(size: int) -> bytes:
        return zip_bytes({"kaede.pem": chain_of(pki, leaf), ".DS_Store": DS_STORE.ljust(size, b"\x00")})

    assert check(with_ds_store(_RATIO_FLOOR), trust).valid
    assert check(with_ds_store(_RATIO_FLOOR + 1), trust).codes() == ["zip_bomb"]


def test_a_pkcs12_file_without_a_key_is_refused_without_claiming_a_key(pki, leaf, trust):
    data = pkcs12.serialize_key_and_certificates(
        b"kaede", None, leaf, [pki.issuing], serialization.BestAvailableEncryption(PASSWORD)
    )
    report = check(data, trust, "kaede.pfx")
    assert report.codes() == ["pkcs12_file"] and not report.contains_private_key


# --- Through the service: what the database keeps ---------------------------------------------


def _stored_anywhere(needle: bytes) -> list[str]:
    """The tables in which any value holds `needle`: the whole database, not just the certificate tables."""
    tables = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608 - our own table names
            for row in cursor.fetchall():
                for value in row:
                    if isinstance(value, memoryview):
                        value = bytes(value)
                    if isinstance(value, str):
                        value = value.encode("utf-8", "surrogatepass")
                    if isinstance(value, bytes) and needle in value:
                        tables.append(table)
    return tables


def _certificate_records() -> tuple:
    return (
        [(b.pk, b.status, bytes(b.data), b.upload_id, b.superseded_at) for b in CertificateBundle.objects.all()],
        list(Certificate.objects.values_list("pk", "bundle_id", "position", "pem", "sha256")),
        list(CertificateUpload.objects.values_list("pk", "sha256", "verdict", "size", "findings")),
    )


def _secret_key():
    """Not the leaf's key: its public half is in the stored certificate, so only private parts are looked for."""
    return rsa_key(3072, 7)


def _secret_needles() -> list[bytes]:
    """Pieces of the private half of the key as DER, as PEM lines, and as UTF-16 PEM lines."""
    key = _secret_key()
    private_exponent = key.private_numbers().d.to_bytes(384, "big")
    lines = key_pem(key).split(b"\n")[-10:-2]  # the primes and exponents at the end of the PEM
    return [private_exponent[100:160], *lines, *(line.decode().encode("utf-16-le") for line in lines)]


SERVICE_ATTACKS = {
    # name: builder(chain) -> (upload, filename)
    "key in __MACOSX": lambda chain: PLACES["in __MACOSX/._kaede.pem"](chain, key_pem(_secret_key())),
    "key in the zip comment": lambda chain: PLACES["in the zip comment"](chain, key_pem(_secret_key())),
    "DER key appended after the zip": lambda chain: PLACES["appended after the zip"](chain, key_der(_secret_key())),
    "UTF-16 key beside the chain": lambda chain: (
        zip_bytes({"kaede.pem": chain, "system.key": key_pem(_secret_key()).decode().encode("utf-16")}),
        "k.zip",
    ),
}


@pytest.mark.parametrize("case", list(SERVICE_ATTACKS))
def test_a_refused_key_upload_leaves_no_byte_of_it_in_the_database_and_changes_nothing_stored(
    case, cast, individual_order, pki, vendor_leaf
):
    order = individual_order("draft")  # already holds an accepted chain
    before = _certificate_records()
    data, filename = SERVICE_ATTACKS[case](pem(vendor_leaf, pki.issuing))

    record, report = services.certificate_upload(order=order, actor=cast.orderer_a, data=data, filename=filename)

    assert report.contains_private_key and record.verdict == "rejected"
    assert [f["code"] for f in record.findings] == ["private_key"]
    assert "privat nøgle" in record.findings[0]["da"] and "spærret og genudstedt" in record.findings[0]["da"]
    assert (record.sha256, record.size) == ("", len(data))
    assert _certificate_records()[:2] == before[:2]  # bundles and certificates
    assert _certificate_records()[2][1:] == before[2]  # the earlier uploads; the new attempt is first
    for needle in [*_secret_needles(), data[-64:]]:
        assert _stored_anywhere(needle) == [], needle
    assert _stored_anywhere(hashlib.sha256(data).hexdigest().encode()) == []


def test_a_refused_upload_without_a_key_keeps_its_size_and_findings_but_no_hash(cast, individual_order, vendor_leaf):
    order = individual_order("draft", upload=False)
    data = pem(vendor_leaf)  # the issuer is missing
    record, report = services.certificate_upload(order=order, actor=cast.orderer_a, data=data, filename="k.pem")
    assert (record.verdict, record.sha256, record.size) == ("rejected", "", len(data))
    assert [f["code"] for f in record.findings] == ["missing_intermediate"]
    assert not CertificateBundle.objects.exists()
    assert _stored_anywhere(hashlib.sha256(data).hexdigest().encode()) == []


def test_an_accepted_upload_stores_exactly_the_canonical_pem_and_the_download_serves_it(
    cast, individual_order, pki, vendor_leaf, client
):
    order = individual_order("draft", upload=False)
    canonical = pem(vendor_leaf, pki.issuing)
    windows = b"Bag Attributes\r\n" + canonical.replace(b"\n", b"\r\n") + b"\r\n"
    data = zip_bytes({"kaede/kaede.pem": windows, "__MACOSX/": b"", "__MACOSX/kaede/._kaede.pem": APPLEDOUBLE})

    record, report = services.certificate_upload(order=order, actor=cast.orderer_a, data=data, filename="k.zip")

    assert report.valid, report.findings
    bundle = CertificateBundle.objects.get()
    assert bytes(bundle.data) == canonical
    assert record.sha256 == hashlib.sha256(canonical).hexdigest()
    assert record.size == len(data)
    assert _stored_anywhere(APPLEDOUBLE[:16]) == [] and _stored_anywhere(b"Bag Attributes") == []
    client.force_login(cast.orderer_a)
    response = client.get(reverse("certificates:chain_download", args=[order.pk, bundle.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/x-pem-file"
    assert response.content == canonical


def test_a_key_in_a_later_entry_is_named_even_when_an_earlier_entry_is_refused_for_something_else(pki, leaf, trust):
    data = zip_bytes({"a.cer": leaf.public_bytes(serialization.Encoding.DER), "z.pem": key_pem(ec_key())})
    assert_refused_as_private_key(check(data, trust))
