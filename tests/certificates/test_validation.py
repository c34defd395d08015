"""The pure validation core: what it accepts, and a specific finding for everything it refuses."""

import io
import stat
import struct
import zipfile
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID

from certificates.testing import (
    key_pem,
    make_issuing_ca,
    make_leaf,
    pem,
    resign_with_sha1,
    rsa_key,
    zip_bytes,
)
from certificates.validation import (
    MAX_DECOMPRESSED_BYTES,
    MAX_UPLOAD_BYTES,
    TrustAnchors,
    inspect_bundle,
)
from tests.certificates.requests import csr_pem
from tests.certificates.test_pem_intake import HIDDEN_KEYS

SHIPPED_TRUST = Path(__file__).resolve().parents[2] / "certificates" / "trust" / "oces3-test"
# What Finder really writes: an AppleDouble file (magic, version 2) and a .DS_Store ("Bud1"), padded with zeros.
APPLEDOUBLE = b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        " + b"\x00" * 4000
DS_STORE = b"\x00\x00\x00\x01Bud1" + b"\x00" * 6140


def check(data: bytes, trust, filename: str = "kaede.zip", **kwargs):
    return inspect_bundle(data, filename, trust=trust, at=kwargs.pop("at", datetime.now(UTC)), **kwargs)


# --- Accepted ---------------------------------------------------------------------------------


def test_a_leaf_and_its_issuer_in_one_pem_are_accepted(pki, leaf, trust):
    report = check(pem(leaf, pki.issuing), trust, "kaede.pem", expected_cvr="26457513")
    assert report.valid, report.findings
    assert [e.role for e in report.chain] == ["leaf", "intermediate"]
    assert report.leaf.cvr == "26457513"
    assert report.leaf.key == "RSA 3072"
    assert report.findings == ()


def test_the_preferred_form_a_pem_in_a_zip_is_accepted(pki, leaf, trust):
    report = check(zip_bytes({"kaede.pem": pem(leaf, pki.issuing, pki.root)}), trust)
    assert report.valid, report.findings
    assert [e.role for e in report.chain] == ["leaf", "intermediate", "root"]


def test_a_chain_split_over_several_files_in_any_order_is_accepted(pki, leaf, trust):
    data = zip_bytes({"ca/rod.cer": pem(pki.root), "udsteder.crt": pem(pki.issuing), "system.pem": pem(leaf)})
    report = check(data, trust)
    assert report.valid, report.findings
    assert report.chain[0].sha256 == leaf.fingerprint(hashes.SHA256()).hex()


def test_order_in_the_file_does_not_matter(pki, leaf, trust):
    assert check(pem(pki.root, pki.issuing, leaf), trust, "x.pem").valid


def test_crlf_line_endings_and_a_byte_order_mark_are_tolerated(pki, leaf, trust):
    data = b"\xef\xbb\xbf" + pem(leaf, pki.issuing).replace(b"\n", b"\r\n")
    assert check(data, trust, "windows.pem").valid


def test_the_text_openssl_pkcs12_nokeys_writes_between_blocks_is_tolerated(pki, leaf, trust):
    data = (
        b"Bag Attributes\n    localKeyID: 01 00 00 00\n    friendlyName: Fravaersoverblik\n"
        b"subject=/C=DK/O=Lokal IT ApS/CN=Fravaersoverblik\nissuer=/C=DK/O=Den Danske Stat\n"
        + pem(leaf)
        + b"Bag Attributes: <No Attributes>\nsubject=/CN=Den Danske Stat OCES udstedende-CA 1\n"
        + pem(pki.issuing)
    )
    assert check(data, trust, "fra-p12.pem").valid


def test_duplicates_are_dropped_with_a_note(pki, leaf, trust):
    report = check(pem(leaf, pki.issuing, pki.issuing), trust, "dubletter.pem")
    assert report.valid
    assert report.codes() == ["duplicate_certificate"]
    assert report.findings[0].severity == "info"


def test_macos_zip_leftovers_are_ignored(pki, leaf, trust):
    data = zip_bytes(
        {
            "kaede.pem": pem(leaf, pki.issuing),
            "__MACOSX/": b"",
            "__MACOSX/._kaede.pem": APPLEDOUBLE,
            ".DS_Store": DS_STORE,
        }
    )
    report = check(data, trust)
    assert report.valid, report.findings
    assert set(report.codes()) == {"zip_entry_ignored"}


def test_an_uncompressed_zip_is_accepted(pki, leaf, trust):
    assert check(zip_bytes({"k.pem": pem(leaf, pki.issuing)}, compression=zipfile.ZIP_STORED), trust).valid


def test_a_leaf_with_san_and_client_auth_eku_is_accepted(pki, trust):
    leaf = make_leaf(
        pki,
        extended_key_usage=[ExtendedKeyUsageOID.CLIENT_AUTH],
        subject_alt_name=[x509.DNSName("vagtplan.example")],
    )
    assert check(pem(leaf, pki.issuing), trust, "x.pem").valid


def test_an_ec_p256_leaf_is_accepted(pki, trust):
    key = ec.generate_private_key(ec.SECP256R1())
    report = check(pem(make_leaf(pki, key=key), pki.issuing), trust, "ec.pem")
    assert report.valid, report.findings
    assert report.leaf.key == "EC secp256r1"


def test_a_leaf_expiring_within_the_renewal_window_is_accepted_with_a_warning(pki, trust, now):
    leaf = make_leaf(pki, not_before=now - timedelta(days=1000), not_after=now + timedelta(days=10))
    report = check(pem(leaf, pki.issuing), trust, "x.pem")
    assert report.valid
    assert report.codes("warning") == ["leaf_expires_soon"]


def test_a_cvr_other_than_the_vendors_is_a_warning(pki, leaf, trust):
    report = check(pem(leaf, pki.issuing), trust, "x.pem", expected_cvr="12345678")
    assert report.valid
    assert report.codes("warning") == ["cvr_mismatch"]
    assert "26457513" in report.findings[0].da and "12345678" in report.findings[0].en


def test_a_leaf_without_ntrdk_is_a_warning(pki, trust):
    report = check(pem(make_leaf(pki, cvr=""), pki.issuing), trust, "x.pem")
    assert report.valid
    assert report.codes("warning") == ["cvr_missing"]


def test_validity_is_judged_at_the_given_moment(pki, leaf, trust, now):
    assert not check(pem(leaf, pki.issuing), trust, "x.pem", at=now + timedelta(days=4 * 365)).valid
    assert check(pem(leaf, pki.issuing), trust, "x.pem", at=now + timedelta(days=365)).valid


def test_the_shipped_oces3_test_anchors_are_the_real_root_and_issuing_ca():
    anchors = TrustAnchors.from_pem_files("test", [p.read_bytes() for p in sorted(SHIPPED_TRUST.glob("*.pem"))])
    assert [r.subject.rfc4514_string() for r in anchors.roots] == [
        "C=DK,O=Den Danske Stat,OU=Test - cti,CN=Den Danske Stat OCES rod-CA"
    ]
    (issuing,) = anchors.known_intermediates
    issuing.verify_directly_issued_by(anchors.roots[0])  # RSASSA-PSS/SHA-512, as in production


def test_the_shipped_issuing_ca_with_a_look_alike_leaf_names_what_is_wrong():
    anchors = TrustAnchors.from_pem_files("test", [p.read_bytes() for p in sorted(SHIPPED_TRUST.glob("*.pem"))])
    report = check(
        SHIPPED_TRUST.joinpath("Den_Danske_Stat_OCES_udstedende_CA_1_Test_cti.pem").read_bytes(), anchors, "ca.pem"
    )
    assert report.codes() == ["leaf_is_ca"]


# --- Refused: each hostile or broken input gets its own finding --------------------------------


def _patch_central_directory(data: bytes, index: int, **fields) -> bytes:
    """Rewrite fields of one central-directory record (offsets from APPNOTE 4.3.12)."""
    buffer = bytearray(data)
    archive = zipfile.ZipFile(io.BytesIO(data))
    position = archive.start_dir
    for i in range(index + 1):
        n, m, k = struct.unpack("<HHH", buffer[position + 28 : position + 34])
        if i == index:
            break
        position += 46 + n + m + k
    layout = {"flags": (8, "<H"), "crc": (16, "<I"), "compressed": (20, "<I"), "size": (24, "<I"), "offset": (42, "<I")}
    for name, value in fields.items():
        offset, fmt = layout[name]
        struct.pack_into(fmt, buffer, position + offset, value)
    return bytes(buffer)


def _bomb(size: int = 20 * 1024 * 1024) -> bytes:
    return zip_bytes({"kaede.pem": b"\0" * size})


def _lying_bomb() -> bytes:
    data = _bomb(8 * 1024 * 1024)
    data = _patch_central_directory(data, 0, size=900)  # claims 900 bytes, holds 8 MB of zeros
    return data


def _overlapping(pki, leaf) -> bytes:
    data = zip_bytes({"a.pem": pem(leaf), "b.pem": pem(pki.issuing)})
    return _patch_central_directory(data, 1, offset=0)


def _encrypted(pki, leaf) -> bytes:
    data = bytearray(zip_bytes({"kaede.pem": pem(leaf, pki.issuing)}))
    struct.pack_into("<H", data, 6, 0x1)  # local header flag
    return _patch_central_directory(bytes(data), 0, flags=0x1)


def _symlink() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        info = zipfile.ZipInfo("kaede.pem")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(info, "/etc/passwd")
    return buffer.getvalue()


def _entries(count: int) -> bytes:
    return zip_bytes({f"cert{i}.pem": b"x" for i in range(count)})


def _named(name: str, content: bytes = b"-----BEGIN CERTIFICATE-----\n") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(zipfile.ZipInfo(name), content)
    return buffer.getvalue()


def _duplicate_names(pki, leaf) -> bytes:
    buffer = io.BytesIO()
    with pytest.warns(UserWarning), zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("kaede.pem", pem(leaf))
        archive.writestr("kaede.pem", pem(pki.issuing))
    return buffer.getvalue()


def _pkcs12(pki, leaf, with_key: bool = True) -> bytes:
    return pkcs12.serialize_key_and_certificates(
        b"system",
        rsa_key(3072, 1) if with_key else None,
        leaf,
        [pki.issuing],
        serialization.BestAvailableEncryption(b"pw"),
    )


def _der_key() -> bytes:
    return rsa_key(3072, 1).private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _pdf() -> bytes:
    return b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\ntrailer\n%%EOF\n"


def _corrupt_block(leaf) -> bytes:
    lines = pem(leaf).split(b"\n")
    lines[5] = b"!!!!" + lines[5][4:]
    return b"\n".join(lines)


HOSTILE = {
    # name: (builder(pki, other_pki, leaf, now) -> (bytes, filename), expected code)
    "empty file": (lambda p, o, leaf, now: (b"", "tom.pem"), "empty_file"),
    "over 1 MiB": (lambda p, o, leaf, now: (b"-" * (MAX_UPLOAD_BYTES + 1), "stor.pem"), "file_too_large"),
    "zip bomb": (lambda p, o, leaf, now: (_bomb(), "bombe.zip"), "zip_bomb"),
    "zip bomb by ratio": (lambda p, o, leaf, now: (_bomb(200_000), "ratio.zip"), "zip_bomb"),
    "zip bomb lying about its size": (lambda p, o, leaf, now: (_lying_bomb(), "loegn.zip"), "zip_corrupt"),
    "overlapping entries": (lambda p, o, leaf, now: (_overlapping(p, leaf), "overlap.zip"), "zip_overlapping_entries"),
    "zip slip with slashes": (lambda p, o, leaf, now: (_named("../../etc/kaede.pem"), "slip.zip"), "zip_unsafe_path"),
    "zip slip with backslashes": (lambda p, o, leaf, now: (_named("..\\..\\kaede.pem"), "slip.zip"), "zip_unsafe_path"),
    "absolute path": (lambda p, o, leaf, now: (_named("/etc/kaede.pem"), "abs.zip"), "zip_unsafe_path"),
    "drive letter": (lambda p, o, leaf, now: (_named("C:/kaede.pem"), "drev.zip"), "zip_unsafe_path"),
    "control character in a name": (lambda p, o, leaf, now: (_named("kae\x07de.pem"), "ctl.zip"), "zip_unsafe_path"),
    "nested zip by name": (
        lambda p, o, leaf, now: (zip_bytes({"indre.zip": zip_bytes({"k.pem": pem(leaf)})}), "ydre.zip"),
        "zip_nested_archive",
    ),
    "nested zip renamed .pem": (
        lambda p, o, leaf, now: (zip_bytes({"k.pem": zip_bytes({"k.pem": pem(leaf)})}), "ydre.zip"),
        "zip_nested_archive",
    ),
    "encrypted entry": (lambda p, o, leaf, now: (_encrypted(p, leaf), "krypteret.zip"), "zip_encrypted"),
    "symlink": (lambda p, o, leaf, now: (_symlink(), "link.zip"), "zip_symlink"),
    "1,000 entries": (lambda p, o, leaf, now: (_entries(1000), "mange.zip"), "zip_too_many_entries"),
    "11 entries": (lambda p, o, leaf, now: (_entries(11), "elleve.zip"), "zip_too_many_entries"),
    "truncated zip": (
        lambda p, o, leaf, now: (zip_bytes({"k.pem": pem(leaf, p.issuing)})[:700], "halv.zip"),
        "zip_corrupt",
    ),
    "bzip2 compression": (
        lambda p, o, leaf, now: (zip_bytes({"k.pem": pem(leaf)}, compression=zipfile.ZIP_BZIP2), "bz.zip"),
        "zip_unsupported_compression",
    ),
    "unexpected file in zip": (
        lambda p, o, leaf, now: (zip_bytes({"k.pem": pem(leaf, p.issuing), "LAES-MIG.txt": b"hej"}), "x.zip"),
        "zip_unexpected_file",
    ),
    "duplicate names in zip": (lambda p, o, leaf, now: (_duplicate_names(p, leaf), "dub.zip"), "zip_duplicate_name"),
    "zip with only macOS leftovers": (
        lambda p, o, leaf, now: (zip_bytes({"__MACOSX/._k.pem": APPLEDOUBLE}), "mac.zip"),
        "zip_no_certificate_files",
    ),
    "renamed PDF": (lambda p, o, leaf, now: (_pdf(), "kaede.pem"), "wrong_file_type"),
    "renamed JPEG": (lambda p, o, leaf, now: (b"\xff\xd8\xff\xe0\x00\x10JFIF", "kaede.zip"), "wrong_file_type"),
    "DER certificate": (
        lambda p, o, leaf, now: (leaf.public_bytes(serialization.Encoding.DER), "system.cer"),
        "der_certificate",
    ),
    "PKCS#12 with key": (lambda p, o, leaf, now: (_pkcs12(p, leaf), "system.p12"), "private_key"),
    "PKCS#12 without key": (lambda p, o, leaf, now: (_pkcs12(p, leaf, with_key=False), "kaede.pfx"), "pkcs12_file"),
    "PKCS#8 private key with the chain": (
        lambda p, o, leaf, now: (pem(leaf, p.issuing) + key_pem(rsa_key(3072, 1)), "alt.pem"),
        "private_key",
    ),
    "traditional RSA private key": (
        lambda p, o, leaf, now: (key_pem(rsa_key(3072, 1), traditional=True) + pem(leaf), "key.pem"),
        "private_key",
    ),
    "encrypted private key": (
        lambda p, o, leaf, now: (pem(leaf) + key_pem(rsa_key(3072, 1), password=b"hemmelig"), "k.pem"),
        "private_key",
    ),
    "EC private key": (
        lambda p, o, leaf, now: (key_pem(ec.generate_private_key(ec.SECP256R1()), traditional=True), "ec.pem"),
        "private_key",
    ),
    "DER private key": (lambda p, o, leaf, now: (_der_key(), "key.der"), "private_key"),
    "private key inside a zip": (
        lambda p, o, leaf, now: (
            zip_bytes({"k.pem": pem(leaf, p.issuing), "key.pem": key_pem(rsa_key(3072, 1))}),
            "alt.zip",
        ),
        "private_key",
    ),
    "broken private key block": (
        lambda p, o, leaf, now: (pem(leaf, p.issuing) + b"-----BEGIN PRIVATE KEY-----\nMIIE\n", "k.pem"),
        "private_key",
    ),
    "missing intermediate": (lambda p, o, leaf, now: (pem(leaf), "kun-system.pem"), "missing_intermediate"),
    "wrong root": (lambda p, o, leaf, now: (pem(make_leaf(o), o.issuing), "forkert.pem"), "root_not_trusted"),
    "untrusted root included": (
        lambda p, o, leaf, now: (pem(make_leaf(o), o.issuing, o.root), "forkert.pem"),
        "root_not_trusted",
    ),
    "expired leaf": (
        lambda p, o, leaf, now: (
            pem(make_leaf(p, not_before=now - timedelta(days=1200), not_after=now - timedelta(days=1)), p.issuing),
            "x.pem",
        ),
        "leaf_expired",
    ),
    "not yet valid leaf": (
        lambda p, o, leaf, now: (pem(make_leaf(p, not_before=now + timedelta(days=3)), p.issuing), "x.pem"),
        "leaf_not_yet_valid",
    ),
    "CA as leaf": (lambda p, o, leaf, now: (pem(make_leaf(p, ca=True), p.issuing), "ca.pem"), "leaf_is_ca"),
    "only CA certificates": (lambda p, o, leaf, now: (pem(p.issuing, p.root), "cas.pem"), "leaf_is_ca"),
    "RSA 1024 leaf": (
        lambda p, o, leaf, now: (pem(make_leaf(p, key=rsa_key(1024, 1)), p.issuing), "svag.pem"),
        "weak_key",
    ),
    "EC P-521 leaf": (
        lambda p, o, leaf, now: (
            pem(make_leaf(p, key=ec.generate_private_key(ec.SECP521R1())), p.issuing),
            "ec521.pem",
        ),
        "weak_key",
    ),
    "SHA-1 signature": (
        lambda p, o, leaf, now: (
            pem(resign_with_sha1(make_leaf(p, pkcs1v15=True), p.issuing_key), p.issuing),
            "sha1.pem",
        ),
        "weak_signature_algorithm",
    ),
    "tampered signature": (lambda p, o, leaf, now: (pem(_tampered(leaf), p.issuing), "rettet.pem"), "chain_invalid"),
    "unrelated extra certificate": (
        lambda p, o, leaf, now: (pem(leaf, p.issuing, o.root), "ekstra.pem"),
        "unrelated_certificate",
    ),
    "two system certificates": (
        lambda p, o, leaf, now: (pem(leaf, make_leaf(p, cvr="12345678"), p.issuing), "to.pem"),
        "multiple_leaves",
    ),
    "server-only EKU": (
        lambda p, o, leaf, now: (
            pem(make_leaf(p, extended_key_usage=[ExtendedKeyUsageOID.SERVER_AUTH]), p.issuing),
            "tls.pem",
        ),
        "eku_not_client_auth",
    ),
    "certificate request block": (
        lambda p, o, leaf, now: (pem(leaf, p.issuing) + csr_pem(), "csr.pem"),
        "pem_unexpected_block",
    ),
    "a private key in hex after the chain": (
        lambda p, o, leaf, now: (pem(leaf, p.issuing) + HIDDEN_KEYS["in hex"](), "x.pem"),
        "pem_unexpected_text",
    ),
    "corrupt base64": (
        lambda p, o, leaf, now: (_corrupt_block(leaf) + pem(p.issuing), "x.pem"),
        "pem_invalid_certificate",
    ),
    "text without certificates": (
        lambda p, o, leaf, now: (b"Hej KMD, her er certifikatet.\n", "x.pem"),
        "unknown_format",
    ),
    "expired issuing CA": (lambda p, o, leaf, now: _expired_issuer(p, now), "issuer_expired"),
}


def _tampered(leaf):
    der = bytearray(leaf.public_bytes(serialization.Encoding.DER))
    der[-10] ^= 0xFF  # inside the signature
    return x509.load_der_x509_certificate(bytes(der))


def _expired_issuer(pki, now):
    issuing, key = make_issuing_ca(pki, not_before=now - timedelta(days=3000), not_after=now - timedelta(days=2))
    leaf = make_leaf(pki, issuer=issuing, issuer_key=key, not_before=now - timedelta(days=900))
    return pem(leaf, issuing), "gammel.pem"


@pytest.mark.parametrize("case", list(HOSTILE))
def test_each_hostile_or_broken_input_is_refused_with_its_own_finding(case, pki, other_pki, leaf, trust, now):
    builder, code = HOSTILE[case]
    data, filename = builder(pki, other_pki, leaf, now)
    report = check(data, trust, filename)
    assert not report.valid
    assert code in report.codes("error"), (case, report.codes())
    assert report.chain == ()
    error = next(f for f in report.findings if f.code == code)
    assert error.da and error.en and error.da != error.en


def test_there_are_at_least_thirty_distinct_hostile_inputs():
    assert len(HOSTILE) >= 30


def test_a_zip_bomb_is_refused_from_its_directory_without_decompressing(trust):
    report = check(_bomb(), trust)
    assert report.codes() == ["zip_bomb"]
    assert report.decompressed_bytes == 0


def test_a_zip_bomb_lying_about_its_size_never_decompresses_past_what_it_declared(trust):
    report = check(_lying_bomb(), trust)
    assert not report.valid
    assert report.decompressed_bytes <= 900 < MAX_DECOMPRESSED_BYTES


def test_private_key_messages_say_the_key_must_not_be_shared_and_should_be_replaced(pki, leaf, trust):
    report = check(pem(leaf, pki.issuing) + key_pem(rsa_key(3072, 1)), trust, "alt.pem")
    assert report.contains_private_key
    finding = report.findings[-1]
    assert "aldrig deles" in finding.da and "udskiftes" in finding.da
    assert "never be shared" in finding.en and "replaced" in finding.en


@pytest.mark.parametrize(
    ("data_of", "command"),
    [
        (lambda p, leaf: leaf.public_bytes(serialization.Encoding.DER), "openssl x509 -inform DER -in system.cer"),
        (lambda p, leaf: _pkcs12(p, leaf), "openssl pkcs12 -in system.cer -nokeys"),
    ],
)
def test_der_and_pkcs12_messages_give_the_exact_openssl_command(pki, leaf, trust, data_of, command):
    report = check(data_of(pki, leaf), trust, "system.cer")
    assert command in report.findings[0].da and command in report.findings[0].en


def test_without_trust_anchors_validation_says_so_plainly(pki, leaf):
    report = check(pem(leaf, pki.issuing), TrustAnchors("production", ()), "x.pem")
    assert report.codes() == ["no_trust_anchors"]
    assert "produktionsmiljøet" in report.findings[0].da


def test_a_file_name_with_markup_is_only_text_in_findings(trust):
    report = check(_named("<script>alert(1)</script>.txt", b"x"), trust)
    assert report.codes() == ["zip_unexpected_file"]
    assert "<script>" in report.findings[0].da  # the page escapes it; the core keeps the plain text


def test_a_huge_declared_entry_count_is_refused_before_anything_is_read(trust):
    report = check(_entries(1000), trust)
    assert report.decompressed_bytes == 0


def test_the_real_ratio_of_a_pem_chain_is_far_below_the_bomb_limit(pki, leaf):
    text = pem(leaf, pki.issuing, pki.root)
    assert len(text) / len(zlib.compress(text)) < 3


@pytest.mark.parametrize("module", ["validation", "intake", "keys", "chains", "findings"])
def test_the_validation_core_does_not_depend_on_django(module):
    import ast

    source = (Path(__file__).resolve().parents[2] / "certificates" / f"{module}.py").read_text()
    imported = {
        (node.module or "") if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(ast.parse(source))
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in node.names
    }
    assert not any(name.split(".")[0] == "django" for name in imported)
