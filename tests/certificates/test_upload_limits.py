"""The intake's limits, each at its exact boundary: at the limit passes, one past it is refused.

The limits are written out here (1 MiB, 20:1, 64 KiB, 10) rather than imported, so that a changed
limit is a decision a test notices, not a number that moves silently.
"""

import hashlib
import io
import zipfile
from datetime import UTC, datetime

import pytest

from certificates.testing import make_leaf, pem, zip_bytes
from certificates.validation import inspect_bundle

from .test_validation import DS_STORE

ONE_MIB = 1024 * 1024


def check(data: bytes, trust, filename: str = "kaede.zip"):
    return inspect_bundle(data, filename, trust=trust, at=datetime.now(UTC))


def _only_entry(data: bytes) -> zipfile.ZipInfo:
    (info,) = zipfile.ZipFile(io.BytesIO(data)).infolist()
    return info


def _padded(content: bytes, size: int) -> bytes:
    """`content` followed by name lines up to exactly `size` bytes; they pack only about 2:1.

    The lines are OpenSSL's `subject=`, text a PEM file may carry beside its certificates; the last
    one is as long as it takes to reach `size`.
    """
    lines, length, number = [content], len(content), 0
    while size - length > 200:
        lines.append(f"subject=CN = {number} {hashlib.sha256(str(number).encode()).hexdigest()}\n".encode())
        length += len(lines[-1])
        number += 1
    lines.append(b"subject=" + b"x" * (size - length - 9) + b"\n")
    padded = b"".join(lines)
    assert len(padded) == size
    return padded


# --- The upload -----------------------------------------------------------------------------------


def test_an_upload_of_exactly_one_mib_is_read_and_one_byte_more_is_refused_unread(pki, leaf, trust):
    chain = pem(leaf, pki.issuing)
    report = check(_padded(chain, ONE_MIB), trust, "kaede.pem")
    assert report.valid, report.findings
    assert report.canonical_pem == chain
    too_large = check(_padded(chain, ONE_MIB + 1), trust, "kaede.pem")
    assert too_large.codes() == ["file_too_large"]
    assert too_large.findings[0].da.startswith("Filen er større end grænsen på 1 MB.")


# --- Unpacked bytes -------------------------------------------------------------------------------


def test_a_zip_unpacking_to_exactly_one_mib_is_read_and_one_byte_more_is_a_bomb(pki, leaf, trust):
    chain = pem(leaf, pki.issuing)
    at_the_limit = zip_bytes({"kaede.pem": _padded(chain, ONE_MIB)})
    assert _only_entry(at_the_limit).file_size == ONE_MIB
    report = check(at_the_limit, trust)
    assert report.valid, report.findings
    assert report.decompressed_bytes == ONE_MIB
    report = check(zip_bytes({"kaede.pem": _padded(chain, ONE_MIB + 1)}), trust)
    assert report.codes() == ["zip_bomb"]
    assert report.decompressed_bytes == 0


def test_entries_declaring_exactly_one_mib_together_are_read_and_one_byte_more_is_a_bomb(pki, leaf, trust):
    half = ONE_MIB // 2
    system, issuer = _padded(pem(leaf), half), _padded(pem(pki.issuing), half)
    report = check(zip_bytes({"system.pem": system, "udsteder.pem": issuer}), trust)
    assert report.valid, report.findings
    assert report.decompressed_bytes == ONE_MIB
    report = check(zip_bytes({"system.pem": system, "udsteder.pem": _padded(pem(pki.issuing), half + 1)}), trust)
    assert report.codes() == ["zip_bomb"]  # each entry alone is far below the limit; together they are not
    assert "“udsteder.pem”" in report.findings[0].da
    assert report.decompressed_bytes == half  # only the first is unpacked (and searched for a key)


# --- The compression ratio ------------------------------------------------------------------------


def _zip_at_ratio(content: bytes, excess: int) -> bytes:
    """A zip whose one entry unpacks to exactly 20 times its packed size, plus `excess` bytes.

    Blank lines after the chain pack about a thousand to one, so adding them raises the ratio of the
    whole. Deflate's output does not grow evenly with its input, and for some contents no number of
    blank lines hits the ratio exactly; a few spaces before them (a blank line too) shift that pattern.
    """

    def surplus(spaces: int, lines: int) -> tuple[int, bytes]:
        data = zip_bytes({"kaede.pem": content + b" " * spaces + b"\n" * lines})
        info = _only_entry(data)
        return info.file_size - 20 * info.compress_size - excess, data

    for spaces in range(64):
        estimate = 0
        for _ in range(5):  # the packed size hardly changes with the padding, so this settles near it
            estimate = max(0, estimate - surplus(spaces, estimate)[0])
        for lines in range(max(0, estimate - 40), estimate + 40):
            left, data = surplus(spaces, lines)
            if left == 0:
                return data
    raise AssertionError("no padding gives that ratio")


def test_an_entry_packed_exactly_twenty_to_one_is_unpacked_and_accepted(pki, leaf, trust):
    data = _zip_at_ratio(pem(leaf, pki.issuing, pki.root), excess=0)
    info = _only_entry(data)
    assert info.file_size == 20 * info.compress_size and info.file_size > 64 * 1024
    report = check(data, trust)
    assert report.valid, report.findings
    assert report.canonical_pem == pem(leaf, pki.issuing, pki.root)
    assert report.decompressed_bytes == info.file_size


def test_an_entry_packed_one_byte_past_twenty_to_one_is_a_bomb_refused_unread(pki, leaf, trust):
    data = _zip_at_ratio(pem(leaf, pki.issuing, pki.root), excess=1)
    size = _only_entry(data).file_size
    report = check(data, trust)
    assert report.codes() == ["zip_bomb"]
    assert report.decompressed_bytes == 0
    (finding,) = report.findings
    danish_size = f"{size:,}".replace(",", ".")
    assert f"“kaede.pem” i zip-filen ville fylde {danish_size} bytes udpakket (pakket 20 gange)" in finding.da
    assert f"“kaede.pem” in the zip file would unpack to {size:,} bytes (compressed 20 times)" in finding.en


def test_up_to_64_kib_any_ratio_is_unpacked_and_one_byte_more_is_judged_by_it(pki, leaf, trust):
    def with_ds_store(size: int) -> bytes:
        return zip_bytes({"kaede.pem": pem(leaf, pki.issuing), ".DS_Store": DS_STORE.ljust(size, b"\x00")})

    at_the_floor = check(with_ds_store(64 * 1024), trust)
    assert at_the_floor.valid, at_the_floor.findings
    assert at_the_floor.codes() == ["zip_entry_ignored"]
    above = check(with_ds_store(64 * 1024 + 1), trust)
    assert above.codes() == ["zip_bomb"]
    assert "“.DS_Store”" in above.findings[0].da


# --- Certificates ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def eleven_leaves(pki):
    return [make_leaf(pki, common_name=f"System {number}") for number in range(11)]


def test_ten_certificates_are_read_and_an_eleventh_is_refused(pki, eleven_leaves, trust):
    ten = check(pem(*eleven_leaves[:9], pki.issuing), trust, "mange.pem")
    assert "too_many_certificates" not in ten.codes() and ten.codes() == ["multiple_leaves"]
    eleven = check(pem(*eleven_leaves[:10], pki.issuing), trust, "mange.pem")
    assert eleven.codes() == ["too_many_certificates"]
    assert eleven.findings[0].da.startswith("Uploaden indeholder 11 certifikater; en kæde har højst 10.")


# --- Entries ----------------------------------------------------------------------------------------


def test_a_zip_of_ten_entries_is_read_and_an_eleventh_is_refused_before_anything_is_unpacked(pki, leaf, trust):
    appledouble = b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        " + b"\x00" * 100
    files = {"kaede.pem": pem(leaf, pki.issuing), "__MACOSX/": b""}
    files |= {f"__MACOSX/._{number}.pem": appledouble for number in range(8)}
    assert len(files) == 10
    assert check(zip_bytes(files), trust).valid
    files["__MACOSX/._en-til.pem"] = appledouble
    report = check(zip_bytes(files), trust)
    assert report.codes() == ["zip_too_many_entries"] and report.decompressed_bytes == 0
    assert report.findings[0].da.startswith("Zip-filen indeholder 11 filer; højst 10 er tilladt.")
