"""A zip's layout, to the byte: sizes and CRCs that must agree, every byte accounted for, each entry judged alone."""

import io
import struct
import zipfile
import zlib
from datetime import UTC, datetime

import pytest

from certificates.testing import pem, zip_bytes
from certificates.validation import inspect_bundle

from .test_validation import _patch_central_directory


def check(data: bytes, trust, filename: str = "kaede.zip"):
    return inspect_bundle(data, filename, trust=trust, at=datetime.now(UTC))


@pytest.fixture
def chain(pki, leaf) -> bytes:
    return pem(leaf, pki.issuing)


def _only_entry(data: bytes) -> zipfile.ZipInfo:
    (info,) = zipfile.ZipFile(io.BytesIO(data)).infolist()
    return info


def _zip(entries: dict[str, bytes], *, comment: bytes = b"", extra: bytes = b"") -> bytes:
    """A deflated zip whose entries carry this comment and this extra field (in both their headers)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in entries.items():
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.comment = comment
            info.extra = extra
            archive.writestr(info, content)
    return buffer.getvalue()


def _insert(data: bytes, at: int, extra: bytes) -> bytes:
    """`extra` inserted at offset `at`, every offset the central directory and end record give corrected."""
    archive = zipfile.ZipFile(io.BytesIO(data))
    start_dir = archive.start_dir + len(extra) if at <= archive.start_dir else archive.start_dir
    buffer = bytearray(data[:at] + extra + data[at:])
    position = start_dir
    for info in archive.infolist():
        n, m, k = struct.unpack_from("<HHH", buffer, position + 28)
        if info.header_offset >= at:
            struct.pack_into("<I", buffer, position + 42, info.header_offset + len(extra))
        position += 46 + n + m + k
    struct.pack_into("<I", buffer, len(buffer) - 6, start_dir)  # the end record's directory offset
    return bytes(buffer)


# --- Size and CRC: each must agree with the unpacked bytes on its own ---------------------------


@pytest.mark.parametrize("compression", [zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED], ids=["deflated", "stored"])
@pytest.mark.parametrize("off_by", [1, -1])
def test_a_declared_size_that_differs_from_the_data_is_damage_even_when_the_crc_matches(
    compression, off_by, chain, trust
):
    data = zip_bytes({"kaede.pem": chain}, compression=compression)
    info = _only_entry(data)
    assert zlib.crc32(chain) == info.CRC  # the CRC stays right; only the size lies
    report = check(_patch_central_directory(data, 0, size=info.file_size + off_by), trust)
    assert report.codes() == ["zip_corrupt"]
    assert report.findings[0].da == (
        "„kaede.pem“ i zip-filen er beskadiget og kan ikke pakkes ud. Pak certifikaterne igen."
    )
    assert (
        report.findings[0].en
        == "“kaede.pem” in the zip file is damaged and cannot be unpacked. Zip the certificates again."
    )


@pytest.mark.parametrize("compression", [zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED], ids=["deflated", "stored"])
def test_a_crc_that_differs_from_the_data_is_damage_even_when_the_size_matches(compression, chain, trust):
    data = zip_bytes({"kaede.pem": chain}, compression=compression)
    report = check(_patch_central_directory(data, 0, crc=zlib.crc32(chain) ^ 1), trust)
    assert report.codes() == ["zip_corrupt"]
    assert "„kaede.pem“ i zip-filen er beskadiget" in report.findings[0].da


# --- Every byte accounted for ---------------------------------------------------------------------


def test_extra_fields_in_both_headers_are_accounted_for_and_accepted(pki, leaf, trust):
    timestamp = b"UT\x05\x00\x01" + struct.pack("<I", 1_700_000_000)  # Info-ZIP's extended timestamp
    data = _zip({"system.pem": pem(leaf), "udsteder.pem": pem(pki.issuing)}, extra=timestamp)
    assert all(info.extra == timestamp for info in zipfile.ZipFile(io.BytesIO(data)).infolist())
    report = check(data, trust)
    assert report.valid, report.findings
    assert [entry.role for entry in report.chain] == ["leaf", "intermediate"]


def test_a_non_ascii_entry_name_matches_its_local_header_and_is_accepted(chain, trust):
    assert check(zip_bytes({"kæde.pem": chain}), trust).valid


def test_a_one_byte_comment_on_an_entry_is_the_only_thing_refused(chain, trust):
    report = check(_zip({"kaede.pem": chain}, comment=b"x"), trust)
    assert report.codes() == ["zip_comment"]  # the rest of the directory is accounted for to the byte
    assert "Zip-filen har en kommentar" in report.findings[0].da


def test_a_one_byte_comment_on_the_archive_is_the_only_thing_refused(chain, trust):
    report = check(zip_bytes({"kaede.pem": chain}, comment=b"x"), trust)
    assert report.codes() == ["zip_comment"]
    assert "The zip file has a comment" in report.findings[0].en


def test_one_byte_after_the_end_record_is_data_outside_the_packed_files(chain, trust):
    report = check(zip_bytes({"kaede.pem": chain}) + b"x", trust)
    assert report.codes() == ["zip_extra_data"]
    assert "Zip-filen indeholder data uden for de pakkede filer" in report.findings[0].da


def test_one_byte_between_the_last_entry_and_the_central_directory_is_refused(chain, trust):
    data = zip_bytes({"kaede.pem": chain})
    gapped = _insert(data, zipfile.ZipFile(io.BytesIO(data)).start_dir, b"x")
    assert zipfile.ZipFile(io.BytesIO(gapped)).testzip() is None  # a zip reader still finds every entry
    assert check(gapped, trust).codes() == ["zip_extra_data"]


def test_one_byte_between_two_entries_is_refused(pki, leaf, trust):
    data = zip_bytes({"system.pem": pem(leaf), "udsteder.pem": pem(pki.issuing)})
    gapped = _insert(data, zipfile.ZipFile(io.BytesIO(data)).infolist()[1].header_offset, b"x")
    assert zipfile.ZipFile(io.BytesIO(gapped)).testzip() is None
    assert check(gapped, trust).codes() == ["zip_extra_data"]


def test_a_local_header_naming_another_file_than_the_directory_is_refused(chain, trust):
    data = bytearray(zip_bytes({"kaede.pem": chain}))
    assert data[30:39] == b"kaede.pem"
    data[30:39] = b"kaedx.pem"  # the local header only; the central directory still says kaede.pem
    report = check(bytes(data), trust)
    assert report.codes() == ["zip_corrupt"]
    assert report.findings[0].en == (
        "The zip file is damaged (an entry points outside the archive). Zip the certificates again."
    )


def test_a_streamed_zip_with_data_descriptors_is_accepted(chain, trust):
    data = zip_bytes({"kaede.pem": chain}, streamed=True)
    assert _only_entry(data).flag_bits & 0x8
    assert check(data, trust).valid


def test_a_name_in_the_old_dos_code_page_without_the_utf8_flag_is_read_as_such_and_accepted(chain, trust):
    # Windows' own zip writes names in the OEM code page and leaves the UTF-8 flag (bit 11) unset.
    data = zip_bytes({"kxde.pem": chain}).replace(b"kxde.pem", "kæde.pem".encode("cp437"))
    info = _only_entry(data)
    assert info.filename == "kæde.pem" and not info.flag_bits & 0x800
    assert check(data, trust).valid


# --- Each entry judged alone: one finding for each problem, and nothing more ---------------------


def _one_entry(name: str, content: bytes, **fields) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        info = zipfile.ZipInfo(name)
        for field, value in fields.items():
            setattr(info, field, value)
        archive.writestr(info, content)
    return buffer.getvalue()


def _twice(name: str, first: bytes, second: bytes) -> bytes:
    buffer = io.BytesIO()
    with pytest.warns(UserWarning), zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(name, first)
        archive.writestr(name, second)
    return buffer.getvalue()


def _password_protected(content: bytes) -> bytes:
    data = bytearray(_one_entry("kaede.pem", content))
    data[6] |= 0x1  # the local header's flags
    return _patch_central_directory(bytes(data), 0, flags=0x1)


ENTRY_PROBLEMS = {
    # Each entry holds text that would itself be refused if it were read: it must not be.
    "a repeated name": (lambda chain: _twice("kaede.pem", chain, b"hej"), "zip_duplicate_name"),
    "an unsafe path": (lambda chain: _one_entry("../kaede.pem", b"hej"), "zip_unsafe_path"),
    "a symbolic link": (
        lambda chain: _one_entry("kaede.pem", b"/etc/passwd", external_attr=(0o120777 << 16)),
        "zip_symlink",
    ),
    "a password": (lambda chain: _password_protected(b"hej"), "zip_encrypted"),
    "bzip2 compression": (
        lambda chain: _one_entry("kaede.pem", b"hej", compress_type=zipfile.ZIP_BZIP2),
        "zip_unsupported_compression",
    ),
}


@pytest.mark.parametrize("case", list(ENTRY_PROBLEMS))
def test_an_entry_refused_from_the_directory_gets_that_one_finding_and_is_not_read_further(case, chain, trust):
    builder, code = ENTRY_PROBLEMS[case]
    report = check(builder(chain), trust)
    assert report.codes() == [code]
    assert not report.contains_private_key


def test_overlapping_entries_are_named_once_and_nothing_else_is_said(pki, leaf, trust):
    data = zip_bytes({"a.pem": pem(leaf), "b.pem": pem(pki.issuing)})
    report = check(_patch_central_directory(data, 1, offset=0), trust)
    assert report.codes() == ["zip_overlapping_entries"]
    # Both start at a.pem's header; b.pem's packed data is the shorter, so it is named first.
    assert "Filerne „b.pem“ og „a.pem“ i zip-filen deler de samme data." in report.findings[0].da


def test_an_empty_file_in_a_zip_is_refused_as_unreadable_and_an_empty_folder_is_skipped(chain, trust):
    empty_file = zip_bytes({"kaede.pem": chain, "tom.pem": b""}, compression=zipfile.ZIP_STORED)
    assert _only_entry(zip_bytes({"tom.pem": b""}, compression=zipfile.ZIP_STORED)).compress_size == 0
    report = check(empty_file, trust)
    assert report.codes() == ["unknown_format"]
    assert report.findings[0].da.startswith("„tom.pem“ kan ikke læses som certifikater.")
    assert check(zip_bytes({"kaede.pem": chain, "mappe/": b""}, compression=zipfile.ZIP_STORED), trust).valid


@pytest.mark.parametrize(
    ("name", "content", "code", "danish"),
    [
        ("x.pem", b"\x1f\x8b\x08\x00gzip", "zip_nested_archive", "„x.pem“ i zip-filen er selv et arkiv."),
        ("x.pem", b"7z\xbc\xaf\x27\x1c7-Zip", "zip_nested_archive", "„x.pem“ i zip-filen er selv et arkiv."),
        ("x.pem", b"Rar!\x1a\x07\x00", "zip_nested_archive", "„x.pem“ i zip-filen er selv et arkiv."),
        ("x.pem", b"%PDF-1.7\n", "wrong_file_type", "„x.pem“ er en PDF-fil, ikke et certifikat."),
        ("x.pem", b"\x89PNG\r\n\x1a\n", "wrong_file_type", "„x.pem“ er et PNG-billede, ikke et certifikat."),
        ("mappe/.DS_Store", b"hej", "zip_unexpected_file", "„mappe/.DS_Store“ er navngivet som en systemfil"),
        ("__MACOSX/._x.pem", b"hej", "zip_unexpected_file", "„__MACOSX/._x.pem“ er navngivet som en systemfil"),
        ("LAES-MIG.txt", b"hej", "zip_unexpected_file", "„LAES-MIG.txt“ hører ikke hjemme i zip-filen"),
    ],
)
def test_an_entry_that_is_not_a_certificate_file_is_named_for_what_it_is(name, content, code, danish, chain, trust):
    report = check(zip_bytes({"kaede.pem": chain, name: content}), trust)
    assert report.codes() == [code]
    assert report.findings[0].da.startswith(danish)


# --- Pointing outside, and data riding along ------------------------------------------------------


def test_an_entry_whose_offset_points_past_the_packed_files_is_damage(chain, trust):
    data = zip_bytes({"kaede.pem": chain})
    report = check(_patch_central_directory(data, 0, offset=zipfile.ZipFile(io.BytesIO(data)).start_dir), trust)
    assert report.codes() == ["zip_corrupt"]
    assert report.findings[0].da == "Zip-filen er beskadiget (en fil peger uden for arkivet). Pak certifikaterne igen."


def test_a_data_descriptor_that_disagrees_with_the_directory_is_damage(chain, trust):
    data = zip_bytes({"kaede.pem": chain}, streamed=True)
    info = _only_entry(data)
    descriptor = b"PK\x07\x08" + struct.pack("<L", info.CRC)
    assert data.count(descriptor) == 1
    report = check(data.replace(descriptor, b"PK\x07\x08" + struct.pack("<L", info.CRC ^ 1)), trust)
    assert report.codes() == ["zip_corrupt"]
    assert "en fil peger uden for arkivet" in report.findings[0].da


def test_bytes_after_an_entrys_deflate_stream_are_refused_as_riding_along(chain, trust):
    data = zip_bytes({"kaede.pem": chain})
    info = _only_entry(data)
    name_length, extra_length = struct.unpack_from("<HH", data, 26)
    end = 30 + name_length + extra_length + info.compress_size
    riding = bytearray(data[:end] + b"x" + data[end:])
    struct.pack_into("<I", riding, 18, info.compress_size + 1)  # the local header's packed size
    directory = zipfile.ZipFile(io.BytesIO(data)).start_dir + 1
    struct.pack_into("<I", riding, directory + 20, info.compress_size + 1)  # the central directory's
    struct.pack_into("<I", riding, len(riding) - 6, directory)  # where the directory starts
    report = check(bytes(riding), trust)
    assert report.codes() == ["zip_extra_data"]
    assert report.findings[0].da.startswith("“kaede.pem” i zip-filen har data efter sit pakkede indhold.")
