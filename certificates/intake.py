"""Reading an upload (a zip or PEM text) down to its certificates: a pure core, no Django, no database.

`read_upload` caps the size, searches the whole upload for private keys (`keys`), sniffs its type
and, for a zip, accounts for every byte of its layout, checks its central directory, unpacks each
entry in memory within bounds and searches it for keys again. `parse_pem_texts` then reads the
certificate blocks. Nothing but certificates passes: a zip comment, bytes around the archive, a
leftover entry, a PEM block of another kind, a line of text around the blocks that OpenSSL does not
write about certificates (see _OPENSSL_LINES) is either refused or (macOS's zip leftovers) skipped
after being searched.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import io
import re
import stat
import struct
import zipfile
import zlib

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization

from .findings import ERROR, INFO, Intake, Rejected, common_name, shell_name, shown, unsafe_name_chars
from .keys import CERT_BLOCK, looks_like_pkcs12, private_key_found, refuse_key_material

# --- Limits -----------------------------------------------------------------------------------

MAX_UPLOAD_BYTES = 1024 * 1024  # the upload itself
MAX_ZIP_ENTRIES = 10
MAX_DECOMPRESSED_BYTES = 1024 * 1024  # all zip entries together, counted while decompressing
MAX_COMPRESSION_RATIO = 20  # PEM text compresses about 1.3:1; 20:1 is far beyond any real chain
RATIO_FLOOR = 64 * 1024  # below this the ratio says nothing: a 6 kB .DS_Store of zeros packs 30:1
MAX_CERTIFICATES = 10
CERTIFICATE_EXTENSIONS = (".pem", ".crt", ".cer")
ARCHIVE_EXTENSIONS = (".zip", ".gz", ".tgz", ".tar", ".7z", ".rar", ".bz2", ".xz", ".jar", ".p7b", ".p7c")
# What macOS's Finder adds to a zip, recognised by name *and* content (see _is_macos_leftover).
_APPLEDOUBLE_MAGIC = b"\x00\x05\x16\x07"  # __MACOSX/._<name>: a file's extended attributes
_DS_STORE_MAGIC = b"\x00\x00\x00\x01Bud1"  # .DS_Store: a folder's view settings

# Any armour line, in any case and spacing: outside a certificate block, each one is refused.
_ARMOUR = re.compile(rb"-{3,}[ \t]*(BEGIN|END)[ \t]*([^\r\n-]*)", re.IGNORECASE)
# _OPENSSL_LINES: what may stand around the certificate blocks of a PEM text, line by line, after a UTF-8
# byte-order mark is dropped, CRLF and CR are read as line ends and spaces and tabs at a line's end are
# ignored. Exactly the lines `openssl pkcs12 -nokeys` and `openssl x509 -subject -issuer` write before a
# certificate, since a chain is often exported that way; any other line is refused by its number, so a key
# written in a form no key search reads (hex, base64 of base64) cannot ride along as stray text.
#   - a blank line;
#   - a bag's header: "Bag Attributes", "Bag Attributes: <No Attributes>", "Bag Attributes: <Empty Attributes>";
#   - one of the bag's attributes, indented, named by words or an OID, then ": " and its value
#     ("    localKeyID: 01 00 00 00", "    friendlyName: system", "    2.16.840.1.113894.746875.1.1: ...")
#     – only directly under "Bag Attributes" or under another attribute of that bag;
#   - "subject=..." or "issuer=...": OpenSSL's one-line name, in any of its formats.
# Refused among others: "Key Attributes" (a private key's), a name printed over several lines
# (`-nameopt multiline`), and what `openssl x509 -text` or `openssl s_client -showcerts` print.
# What follows "subject=", "issuer=" or an attribute's name is not judged: OpenSSL prints there whatever
# the certificate or the bag holds. Like every other byte sent, it is never stored.
_BAG_HEADER = b"Bag Attributes"
_OPENSSL_LINES = re.compile(rb"|Bag Attributes(?:: <(?:No|Empty) Attributes>)?|(?:subject|issuer)=.*")
_BAG_ATTRIBUTE = re.compile(rb"[ \t]+[A-Za-z0-9][A-Za-z0-9 ._-]*:(?: .*)?")
# A refused line or label is quoted with at most this many characters: enough to find it in the file.
# Findings are kept (the upload is not), so a quote is kept short.
_QUOTED = 40
# A refused line that is one run of base64 or hex of this length or more: possibly a piece of a key, so never quoted.
_ENCODED = re.compile(r"[A-Za-z0-9+/=_-]{16,}")


# --- Reading the upload -----------------------------------------------------------------------


def read_upload(data: bytes, filename: str, intake: Intake) -> tuple[str, list[tuple[str, bytes]]]:
    """Return the sniffed kind and the PEM texts found, as (name, bytes) pairs."""
    if len(data) > MAX_UPLOAD_BYTES:
        # The caller may have read only the cap + 1 byte, so the message names the limit, not the size.
        raise intake.stop(
            "file_too_large",
            "Filen er større end grænsen på 1 MB. En certifikatkæde fylder normalt under 10 kB – upload kun de "
            "offentlige certifikater.",
            "The file is larger than the 1 MB limit. A certificate chain is normally under 10 kB – upload only the "
            "public certificates.",
        )
    if not data:
        raise intake.stop(
            "empty_file",
            "Filen er tom. Vælg filen med certifikatkæden igen.",
            "The file is empty. Choose the file with the certificate chain again.",
        )
    # First the whole upload as sent: this sees a key before, after or between a zip's entries, in its
    # comments and in stored (uncompressed) entries. Each unpacked entry is searched again in _read_zip.
    refuse_key_material(filename, data, intake)
    kind = _sniff(data)
    if kind == "zip":
        return kind, _read_zip(data, intake)
    _check_single_file(data, filename, kind, intake)
    return kind, [(filename, data)]


# What a file that is not a certificate is, as a Danish and an English noun phrase ("et PNG-billede", not
# "en PNG-billede-fil").
_MAGIC = [
    (b"%PDF", "en PDF-fil / a PDF file"),
    (b"\x89PNG", "et PNG-billede / a PNG image"),
    (b"\xff\xd8\xff", "et JPEG-billede / a JPEG image"),
    (b"\xd0\xcf\x11\xe0", "et Office-dokument / an Office document"),
    (b"{\\rtf", "et RTF-dokument / an RTF document"),
    (b"\x1f\x8b", "en gzip-fil / a gzip file"),
    (b"7z\xbc\xaf", "en 7-Zip-fil / a 7-Zip file"),
    (b"Rar!", "en RAR-fil / a RAR file"),
]
_ARCHIVE_MAGIC = (b"\x1f\x8b", b"7z\xbc\xaf", b"Rar!")  # gzip, 7-Zip, RAR: an archive inside the zip file


def _sniff(data: bytes) -> str:
    if data[:4] in (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08"):
        return "zip"
    for magic, _name in _MAGIC:
        if data.startswith(magic):
            return "other"
    text = _as_text(data)
    if text is not None and _ARMOUR.search(text):
        return "pem"
    if data[:1] == b"\x30":
        return _sniff_der(data)
    return "other"


def _sniff_der(data: bytes) -> str:
    try:
        x509.load_der_x509_certificate(data)
        return "der"
    except ValueError:
        pass
    if looks_like_pkcs12(data):
        return "pkcs12"
    try:
        serialization.load_der_private_key(data, password=None)
        return "private_key"
    except TypeError:
        return "private_key"  # encrypted: a password was needed, so it is a key
    except (ValueError, UnsupportedAlgorithm):
        return "other"


def _as_text(data: bytes) -> bytes | None:
    """The bytes without a UTF-8 BOM if they are plain text, else None."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return data


def _check_single_file(data: bytes, name: str, kind: str, intake: Intake) -> None:
    """Stop with a specific message for anything that is not PEM text."""
    if kind == "pem":
        return
    if kind == "der":
        raise intake.stop(
            "der_certificate",
            f"„{name}“ er et enkelt certifikat i binært DER-format, ikke PEM. Lav det om til PEM med "
            f"`openssl x509 -inform DER -in {shell_name(name)} -out certifikat.pem`, og upload hele kæden "
            "(systemets certifikat og udstederens) som .pem – gerne samlet i en .zip-fil.",
            f"“{name}” is a single certificate in binary DER format, not PEM. Convert it with "
            f"`openssl x509 -inform DER -in {shell_name(name)} -out certificate.pem` and upload the whole chain "
            "(the system's certificate and its issuer's) as .pem – preferably together in a .zip file.",
        )
    if kind == "pkcs12":
        # No key was seen in it (refuse_key_material comes first), but one may sit in its encrypted part.
        raise intake.stop(
            "pkcs12_file",
            f"„{name}“ er en PKCS#12-fil (.p12/.pfx). Den indeholder normalt systemets private nøgle, som aldrig må "
            "deles – heller ikke med KMD – og filen er ikke gemt. Lav en fil med kun de offentlige certifikater: "
            f"`openssl pkcs12 -in {shell_name(name)} -nokeys -out kaede.pem`. Har filen været sendt til andre, "
            "bør certifikatet spærres og udskiftes.",
            f"“{name}” is a PKCS#12 file (.p12/.pfx). It normally holds the system's private key, which must never be "
            "shared – not even with KMD – and the file was not stored. Make a file with only the public certificates: "
            f"`openssl pkcs12 -in {shell_name(name)} -nokeys -out chain.pem`. If the file was sent to anyone, the "
            "certificate should be revoked and replaced.",
        )
    if kind == "private_key":
        private_key_found(name, intake)
    described = next((label for magic, label in _MAGIC if data.startswith(magic)), None)
    if described:
        raise intake.stop(
            "wrong_file_type",
            f"„{name}“ er {described.split(' / ')[0]}, ikke et certifikat. Upload den offentlige del af systemets "
            "OCES3-certifikat med hele kæden som .pem – gerne i en .zip-fil.",
            f"“{name}” is {described.split(' / ')[-1]}, not a certificate. Upload the public part of the system's "
            "OCES3 certificate with its whole chain as .pem – preferably in a .zip file.",
        )
    raise intake.stop(
        "unknown_format",
        f"„{name}“ kan ikke læses som certifikater. Upload den offentlige del af systemets OCES3-certifikat med hele "
        "kæden som .pem-fil (tekst, der begynder med „-----BEGIN CERTIFICATE-----“) – gerne i en .zip-fil.",
        f"“{name}” cannot be read as certificates. Upload the public part of the system's OCES3 certificate with its "
        "whole chain as a .pem file (text starting with “-----BEGIN CERTIFICATE-----”) – preferably in a .zip file.",
    )


# --- Zip --------------------------------------------------------------------------------------


def _read_zip(data: bytes, intake: Intake) -> list[tuple[str, bytes]]:
    archive, entries = _open_zip(data, intake)
    starts = _check_zip_layout(data, archive, entries, intake)
    readable = _check_zip_directory(entries, intake)
    if starts is None:
        raise Rejected("zip")  # entries overlap or point outside the archive: nothing is unpacked
    unpacked = [(info, usable, _decompress(data, starts[info], info, intake)) for info, usable in readable]
    # Every entry that can be unpacked is searched for a key before anything else is said about it.
    for info, _usable, content in unpacked:
        refuse_key_material(info.filename, content, intake)
    texts = []
    for info, usable, content in unpacked:
        if usable and _is_certificate_entry(info, content, intake):
            texts.append((info.filename, content))
    if intake.has_errors():
        raise Rejected("zip")
    if not texts:
        raise intake.stop(
            "zip_no_certificate_files",
            "Zip-filen indeholder ingen .pem-, .crt- eller .cer-filer. Læg certifikatkæden i zip-filen som .pem.",
            "The zip file contains no .pem, .crt or .cer files. Put the certificate chain in it as .pem.",
        )
    return texts


def _open_zip(data: bytes, intake: Intake) -> tuple[zipfile.ZipFile, list[zipfile.ZipInfo]]:
    """The archive and its central directory's entries; nothing is decompressed yet."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, NotImplementedError) as error:
        raise intake.stop(
            "zip_corrupt",
            "Zip-filen er beskadiget eller ufuldstændig og kan ikke åbnes. Pak certifikaterne igen, og upload den nye fil.",
            f"The zip file is damaged or incomplete and cannot be opened ({error}). Zip the certificates again and "
            "upload the new file.",
        ) from None
    if len(entries) > MAX_ZIP_ENTRIES:
        raise intake.stop(
            "zip_too_many_entries",
            f"Zip-filen indeholder {len(entries)} filer; højst {MAX_ZIP_ENTRIES} er tilladt. Læg kun "
            "certifikatkæden i zip-filen.",
            f"The zip file holds {len(entries)} files; at most {MAX_ZIP_ENTRIES} are allowed. Put only the "
            "certificate chain in it.",
        )
    return archive, entries


def _is_certificate_entry(info: zipfile.ZipInfo, content: bytes, intake: Intake) -> bool:
    """Is this unpacked entry a certificate file? If not, it is skipped or refused with a finding."""
    name = info.filename
    lowered = name.lower()
    if info.is_dir() and not content:
        return False  # an empty folder entry holds nothing
    # Finder's leftovers (a file's extended attributes, a folder's view settings) are in most zips made on a
    # Mac, so they are skipped – but only when their content is what their name says, and only after they
    # were searched for a key like every other entry. Nothing of them is stored.
    if _is_macos_leftover(name, content):
        intake.add(
            "zip_entry_ignored",
            INFO,
            f"„{shown(name)}“ er en systemfil fra macOS og blev sprunget over.",
            f"“{shown(name)}” is a macOS system file and was skipped.",
        )
        return False
    if lowered.startswith("__macosx/") or lowered.rsplit("/", 1)[-1] == ".ds_store":
        intake.add(
            "zip_unexpected_file",
            ERROR,
            f"„{shown(name)}“ er navngivet som en systemfil fra macOS, men er ikke en. Fjern filen, og pak igen.",
            f"“{shown(name)}” is named like a macOS system file but is not one. Remove it and zip again.",
        )
        return False
    nested_magic = any(content.startswith(m) for m in _ARCHIVE_MAGIC)
    if lowered.endswith(ARCHIVE_EXTENSIONS) or _sniff(content) == "zip" or nested_magic:
        intake.add(
            "zip_nested_archive",
            ERROR,
            f"„{shown(name)}“ i zip-filen er selv et arkiv. Læg certifikaterne direkte i én zip-fil.",
            f"“{shown(name)}” inside the zip file is itself an archive. Put the certificates directly in one zip file.",
        )
        return False
    if info.is_dir() or not lowered.endswith(CERTIFICATE_EXTENSIONS):
        intake.add(
            "zip_unexpected_file",
            ERROR,
            f"„{shown(name)}“ hører ikke hjemme i zip-filen: kun .pem-, .crt- og .cer-filer med certifikater er "
            "tilladt. Fjern filen, og pak igen.",
            f"“{shown(name)}” does not belong in the zip file: only .pem, .crt and .cer files with certificates are "
            "allowed. Remove it and zip again.",
        )
        return False
    _check_single_file(content, name, _sniff(content), intake)
    return True


def _is_macos_leftover(name: str, content: bytes) -> bool:
    base = name.rsplit("/", 1)[-1]
    if name.startswith("__MACOSX/") and base.startswith("._"):
        return content.startswith(_APPLEDOUBLE_MAGIC)
    return base == ".DS_Store" and content.startswith(_DS_STORE_MAGIC)


# --- Zip: the central directory -----------------------------------------------------------------


def _check_zip_directory(entries: list[zipfile.ZipInfo], intake: Intake) -> list[tuple[zipfile.ZipInfo, bool]]:
    """Check every entry of the central directory before anything is unpacked.

    Returns the entries that can be unpacked safely in memory – each is then searched for a key –
    with whether it may still be a certificate file (False once it has a finding of its own).
    """
    readable: list[tuple[zipfile.ZipInfo, bool]] = []
    seen_names: set[str] = set()
    declared_total = 0
    for info in entries:
        usable = _entry_name_is_usable(info, seen_names, intake)
        seen_names.add(info.filename)
        if not _entry_is_unpackable(info, intake):
            continue
        declared_total += info.file_size
        if _entry_is_a_bomb(info, declared_total, intake):
            continue
        readable.append((info, usable))
    return readable


def _entry_name_is_usable(info: zipfile.ZipInfo, seen_names: set[str], intake: Intake) -> bool:
    """False, with a finding, for a repeated name, an unsafe path or a symbolic link."""
    name = info.filename
    if name in seen_names:
        intake.add(
            "zip_duplicate_name",
            ERROR,
            f"Zip-filen indeholder „{shown(name)}“ mere end én gang. Pak certifikaterne igen.",
            f"The zip file contains “{shown(name)}” more than once. Zip the certificates again.",
        )
        return False
    if _unsafe_path(name):
        intake.add(
            "zip_unsafe_path",
            ERROR,
            f"Zip-filen indeholder et ugyldigt filnavn: „{shown(name)}“. Filnavne må ikke være absolutte stier, gå op "
            "med „..“, eller indeholde omvendt skråstreg eller kontroltegn. Pak certifikaterne igen uden mapper.",
            f"The zip file contains an invalid file name: “{shown(name)}”. Names may not be absolute paths, go up with "
            "“..”, or contain backslashes or control characters. Zip the certificates again without folders.",
        )
        return False
    if stat.S_ISLNK(info.external_attr >> 16):
        intake.add(
            "zip_symlink",
            ERROR,
            f"„{shown(name)}“ i zip-filen er en symbolsk henvisning, ikke en fil. Læg selve certifikatfilerne i "
            "zip-filen.",
            f"“{shown(name)}” in the zip file is a symbolic link, not a file. Put the certificate files themselves in "
            "it.",
        )
        return False
    return True


def _entry_is_unpackable(info: zipfile.ZipInfo, intake: Intake) -> bool:
    """False, with a finding, for an entry protected by a password or packed with a method we do not read."""
    if info.flag_bits & 0x1:
        intake.add(
            "zip_encrypted",
            ERROR,
            f"„{shown(info.filename)}“ i zip-filen er krypteret med adgangskode. Certifikater er offentlige – pak dem "
            "uden adgangskode.",
            f"“{shown(info.filename)}” in the zip file is password-protected. Certificates are public – zip them "
            "without a password.",
        )
        return False
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        intake.add(
            "zip_unsupported_compression",
            ERROR,
            f"„{shown(info.filename)}“ i zip-filen er pakket med en metode, vi ikke læser. Brug almindelig zip "
            "(deflate).",
            f"“{shown(info.filename)}” in the zip file uses a compression method we do not read. Use ordinary zip "
            "(deflate).",
        )
        return False
    return True


def _entry_is_a_bomb(info: zipfile.ZipInfo, declared_total: int, intake: Intake) -> bool:
    """Would this entry, by what the directory declares, unpack past the limits? Then it is refused unread."""
    ratio = info.file_size / max(info.compress_size, 1)
    if (
        info.file_size > MAX_DECOMPRESSED_BYTES
        or declared_total > MAX_DECOMPRESSED_BYTES
        or (ratio > MAX_COMPRESSION_RATIO and info.file_size > RATIO_FLOOR)
    ):
        intake.add(
            "zip_bomb",
            ERROR,
            f"“{shown(info.filename)}” i zip-filen ville fylde {info.file_size:,} bytes udpakket (pakket {ratio:.0f} "
            "gange). Det er ikke en certifikatkæde; filen er afvist uden at blive pakket ud.".replace(",", "."),
            f"“{shown(info.filename)}” in the zip file would unpack to {info.file_size:,} bytes (compressed "
            f"{ratio:.0f} times). That is not a certificate chain; the file was rejected without unpacking it.",
        )
        return True
    return False


def _unsafe_path(name: str) -> bool:
    if not name or unsafe_name_chars(name):
        return True
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return True
    return any(part == ".." for part in name.split("/"))


# --- Zip: every byte accounted for --------------------------------------------------------------

_LOCAL_HEADER = 30
_CENTRAL_HEADER = 46
_END_RECORD = 22

_Span = tuple[int, int, zipfile.ZipInfo]  # where an entry's local header starts, where its data ends, the entry


def _check_zip_layout(
    data: bytes, archive: zipfile.ZipFile, entries: list[zipfile.ZipInfo], intake: Intake
) -> dict[zipfile.ZipInfo, int] | None:
    """Account for every byte of the archive; return where each entry's packed data starts.

    A zip tool writes the entries back to back from the first byte, then the central directory,
    then the 22-byte end record as the very last bytes. Bytes before, between or after those, and
    comments on the archive or on an entry, are places a reader never looks at – a key hidden there
    would pass unseen – so they are refused. Returns None when entries overlap or point outside the
    archive: then nothing may be unpacked.
    """
    located = _entry_spans(data, archive, entries)
    if located is None:
        return _zip_points_outside(intake)
    spans, starts = located
    if _report_overlap(spans, intake):
        return None
    if not _local_names_match(data, spans):
        return _zip_points_outside(intake)  # an entry's own header names another file than the directory
    directory = _central_directory(data, archive, entries)
    if directory is None:
        return _zip_points_outside(intake)
    directory_end, entry_comments = directory
    outside = _gaps_between_entries(spans, archive.start_dir)
    # The end record must follow the directory at once and end the file (its comment, if any, refused below).
    outside |= data[directory_end : directory_end + 4] != b"PK\x05\x06"
    outside |= directory_end + _END_RECORD + len(archive.comment) != len(data)
    if archive.comment or entry_comments:
        intake.add(
            "zip_comment",
            ERROR,
            "Zip-filen har en kommentar (på selve arkivet eller på en fil i det). En kommentar kan bære andet end "
            "certifikater og bliver ikke kontrolleret, så den er ikke tilladt. Pak certifikaterne igen uden kommentar.",
            "The zip file has a comment (on the archive or on a file in it). A comment can carry other things than "
            "certificates and is not checked, so it is not allowed. Zip the certificates again without a comment.",
        )
    if outside:
        intake.add(
            "zip_extra_data",
            ERROR,
            "Zip-filen indeholder data uden for de pakkede filer (før, mellem eller efter dem). Det skriver "
            "almindelige zip-programmer ikke, og den slags data bliver aldrig kontrolleret, så filen er afvist. Pak "
            "certifikaterne igen i en ny zip-fil.",
            "The zip file contains data outside its packed files (before, between or after them). Ordinary zip "
            "tools do not write that, and such data is never checked, so the file was refused. Zip the certificates "
            "again in a new zip file.",
        )
    return starts


def _entry_spans(
    data: bytes, archive: zipfile.ZipFile, entries: list[zipfile.ZipInfo]
) -> tuple[list[_Span], dict[zipfile.ZipInfo, int]] | None:
    """Each entry's span from its local header to the end of its data, sorted; None if one points outside."""
    spans: list[_Span] = []
    starts: dict[zipfile.ZipInfo, int] = {}
    for info in entries:
        offset = info.header_offset
        header = data[offset : offset + _LOCAL_HEADER] if offset >= 0 else b""
        if len(header) < _LOCAL_HEADER or header[:4] != b"PK\x03\x04":
            return None
        name_length, extra_length = struct.unpack_from("<HH", header, 26)
        start = offset + _LOCAL_HEADER + name_length + extra_length
        end = start + info.compress_size
        if info.flag_bits & 0x8:  # CRC and sizes follow the packed data, in a data descriptor (macOS does this)
            descriptor = _data_descriptor_length(data, end, info)
            if descriptor is None:
                return None
            end += descriptor
        if end > archive.start_dir:
            return None
        spans.append((offset, end, info))
        starts[info] = start
    spans.sort(key=lambda span: (span[0], span[1]))
    return spans, starts


def _report_overlap(spans: list[_Span], intake: Intake) -> bool:
    """Do two entries share bytes? Ordinary zip tools never write that; a finding names both."""
    for (_s1, end1, first), (start2, _e2, second) in zip(spans, spans[1:], strict=False):
        if start2 < end1:
            name1, name2 = shown(first.filename), shown(second.filename)
            intake.add(
                "zip_overlapping_entries",
                ERROR,
                f"Filerne „{name1}“ og „{name2}“ i zip-filen deler de samme data. Det gør almindelige zip-programmer "
                "aldrig; filen er afvist. Pak certifikaterne igen.",
                f"The entries “{name1}” and “{name2}” in the zip file share the same data. Ordinary zip tools never "
                "do that; the file was rejected. Zip the certificates again.",
            )
            return True
    return False


def _local_names_match(data: bytes, spans: list[_Span]) -> bool:
    """Does each entry's local header name the same file as the central directory?"""
    for offset, _end, info in spans:
        encoding = "utf-8" if info.flag_bits & 0x800 else "cp437"
        name_length = struct.unpack_from("<H", data, offset + 26)[0]
        if data[offset + _LOCAL_HEADER : offset + _LOCAL_HEADER + name_length] != info.orig_filename.encode(encoding):
            return False
    return True


def _gaps_between_entries(spans: list[_Span], start_dir: int) -> bool:
    """Are there bytes before the first entry, between two, or between the last and the central directory?"""
    position, outside = 0, False
    for offset, end, _info in spans:
        outside |= offset != position
        position = end
    return outside | (position != start_dir)


def _central_directory(
    data: bytes, archive: zipfile.ZipFile, entries: list[zipfile.ZipInfo]
) -> tuple[int, bool] | None:
    """Where the central directory's records end, and whether any carries a comment; None if one is missing."""
    entry_comments = False
    position = archive.start_dir
    for _info in entries:
        record = data[position : position + _CENTRAL_HEADER]
        if len(record) < _CENTRAL_HEADER or record[:4] != b"PK\x01\x02":
            return None
        name_length, extra_length, comment_length = struct.unpack_from("<HHH", record, 28)
        entry_comments |= comment_length > 0
        position += _CENTRAL_HEADER + name_length + extra_length + comment_length
    return position, entry_comments


def _data_descriptor_length(data: bytes, at: int, info: zipfile.ZipInfo) -> int | None:
    """The length of the data descriptor at `at`, if it says exactly what the central directory says."""
    for sizes in ("<LLL", "<LQQ"):
        values = struct.pack(sizes, info.CRC, info.compress_size, info.file_size)
        for descriptor in (b"PK\x07\x08" + values, values):
            if data.startswith(descriptor, at):
                return len(descriptor)
    return None


def _zip_points_outside(intake: Intake) -> None:
    intake.add(
        "zip_corrupt",
        ERROR,
        "Zip-filen er beskadiget (en fil peger uden for arkivet). Pak certifikaterne igen.",
        "The zip file is damaged (an entry points outside the archive). Zip the certificates again.",
    )
    return None


# --- Zip: unpacking -----------------------------------------------------------------------------


def _decompress(data: bytes, start: int, info: zipfile.ZipInfo, intake: Intake) -> bytes:
    """Unpack one entry in memory, counting real bytes against the caps whatever the header says.

    The packed bytes must unpack to exactly the size and CRC the directory gives, and the deflate
    stream must end exactly where the packed bytes end: nothing may ride along unread.
    """
    packed = data[start : start + info.compress_size]
    if info.compress_type == zipfile.ZIP_STORED:
        _count_unpacked(len(packed), intake)
        content = packed
    else:
        content = _inflate(packed, info, intake)
    if len(content) != info.file_size or zlib.crc32(content) != info.CRC:
        raise _damaged(info, intake)
    return content


def _inflate(packed: bytes, info: zipfile.ZipInfo, intake: Intake) -> bytes:
    """Inflate a deflated entry, never past one byte more than it declares, and with nothing after its stream."""
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    chunks, produced, pending = [], 0, packed
    try:
        while pending and not inflater.eof:
            room = info.file_size - produced
            chunk = inflater.decompress(pending, room + 1)  # one byte more than declared shows a lie
            pending = inflater.unconsumed_tail
            if len(chunk) > room:
                raise _damaged(info, intake)
            _count_unpacked(len(chunk), intake)
            chunks.append(chunk)
            produced += len(chunk)
    except zlib.error:
        raise _damaged(info, intake) from None
    if not inflater.eof:
        raise _damaged(info, intake)
    if pending or inflater.unused_data:
        raise intake.stop(
            "zip_extra_data",
            f"“{shown(info.filename)}” i zip-filen har data efter sit pakkede indhold. Det skriver almindelige "
            "zip-programmer ikke; filen er afvist. Pak certifikaterne igen i en ny zip-fil.",
            f"“{shown(info.filename)}” in the zip file has data after its packed content. Ordinary zip tools do not "
            "write that; the file was refused. Zip the certificates again in a new zip file.",
        )
    return b"".join(chunks)


def _damaged(info: zipfile.ZipInfo, intake: Intake) -> Rejected:
    return intake.stop(
        "zip_corrupt",
        f"„{shown(info.filename)}“ i zip-filen er beskadiget og kan ikke pakkes ud. Pak certifikaterne igen.",
        f"“{shown(info.filename)}” in the zip file is damaged and cannot be unpacked. Zip the certificates again.",
    )


def _count_unpacked(size: int, intake: Intake) -> None:
    intake.decompressed_bytes += size
    if intake.decompressed_bytes > MAX_DECOMPRESSED_BYTES:
        raise intake.stop(
            "zip_bomb",
            "Zip-filen pakker ud til mere end grænsen på 1 MB og er afvist. En certifikatkæde fylder normalt under "
            "10 kB.",
            "The zip file unpacks to more than the 1 MB limit and was rejected. A certificate chain is normally "
            "under 10 kB.",
        )


# --- PEM --------------------------------------------------------------------------------------


def parse_pem_texts(texts: list[tuple[str, bytes]], intake: Intake) -> list[x509.Certificate]:
    """The certificates in these PEM texts, each once; anything in them that is not a certificate stops."""
    certificates: list[x509.Certificate] = []
    fingerprints: set[bytes] = set()
    for name, raw in texts:
        for number, block in enumerate(_certificate_blocks(name, raw, intake), start=1):
            certificate = _load_block(name, number, block, intake)
            fingerprint = certificate.fingerprint(hashes.SHA256())
            if fingerprint in fingerprints:
                intake.add(
                    "duplicate_certificate",
                    INFO,
                    f"„{common_name(certificate.subject)}“ var med mere end én gang; dubletten er sprunget over.",
                    f"“{common_name(certificate.subject)}” was included more than once; the duplicate was skipped.",
                )
                continue
            fingerprints.add(fingerprint)
            certificates.append(certificate)
    if len(certificates) > MAX_CERTIFICATES:
        raise intake.stop(
            "too_many_certificates",
            f"Uploaden indeholder {len(certificates)} certifikater; en kæde har højst {MAX_CERTIFICATES}. Upload "
            "kun systemets certifikat og dets udstedere.",
            f"The upload contains {len(certificates)} certificates; a chain has at most {MAX_CERTIFICATES}. Upload "
            "only the system's certificate and its issuers.",
        )
    return certificates


def _certificate_blocks(name: str, raw: bytes, intake: Intake) -> list[re.Match[bytes]]:
    """The certificate blocks of one text; any other armour line in it stops, and so does a text without blocks."""
    text = _as_text(raw)
    if text is None:
        raise intake.stop(
            "unknown_format",
            f"„{name}“ er ikke en tekstfil med certifikater. Upload kæden som .pem.",
            f"“{name}” is not a text file with certificates. Upload the chain as .pem.",
        )
    text = text.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    # Key material was searched for before (refuse_key_material). Here every armour line outside a
    # well-formed certificate block is refused, whatever its case or spacing: it is not a certificate.
    blocks = list(CERT_BLOCK.finditer(text))
    # Both in text order, so each marker is placed by bisection: a file of thousands of armour lines costs
    # thousands of steps, not millions (a 1 MB file of empty blocks took 40 s when every marker was compared
    # with every block).
    block_starts = [block.start() for block in blocks]
    begins = [m.start() for m in _ARMOUR.finditer(text) if m.group(1).upper() == b"BEGIN"]
    for marker in _ARMOUR.finditer(text):
        inside = bisect.bisect_right(block_starts, marker.start()) - 1
        if inside >= 0 and marker.start() < blocks[inside].end():
            continue
        number = max(1, bisect.bisect_right(begins, marker.start()))
        label = " ".join(marker.group(2).decode("ascii", "replace").split()).upper()
        if marker.group(1).upper() == b"BEGIN" and label != "CERTIFICATE":
            raise _not_a_certificate(name, label, number, intake)
        raise _damaged_certificate(name, number, intake)
    if not blocks:
        raise intake.stop(
            "no_certificates",
            f"„{name}“ indeholder ingen certifikater („-----BEGIN CERTIFICATE-----“). Upload den offentlige del "
            "af systemets OCES3-certifikat med hele kæden.",
            f"“{name}” contains no certificates (“-----BEGIN CERTIFICATE-----”). Upload the public part of the "
            "system's OCES3 certificate with its whole chain.",
        )
    unexpected = _line_openssl_does_not_write(text, blocks)
    if unexpected is not None:
        raise _unexpected_text(name, *unexpected, intake)
    return blocks


def _line_openssl_does_not_write(text: bytes, blocks: list[re.Match[bytes]]) -> tuple[int, bytes] | None:
    """The first line around the blocks that OpenSSL does not write (see _OPENSSL_LINES), with its number."""
    starts = [0, *(block.end() for block in blocks)]
    ends = [*(block.start() for block in blocks), len(text)]
    number, counted = 1, 0  # the number of the line that holds text[counted]
    for start, end in zip(starts, ends, strict=True):
        number += text.count(b"\n", counted, start)
        counted = start
        in_bag = False  # a bag's attributes follow its header directly, and never cross a certificate
        for offset, line in enumerate(text[start:end].split(b"\n")):
            stripped = line.rstrip(b" \t")
            if in_bag and _BAG_ATTRIBUTE.fullmatch(stripped):
                continue
            in_bag = stripped == _BAG_HEADER
            if not _OPENSSL_LINES.fullmatch(stripped):
                return number + offset, stripped
    return None


def _load_block(name: str, number: int, block: re.Match[bytes], intake: Intake) -> x509.Certificate:
    """The certificate in one block, which must be exactly a certificate's DER and nothing else."""
    try:
        der = base64.b64decode(re.sub(rb"\s+", b"", block.group(1)), validate=True)
    except binascii.Error:
        raise _damaged_certificate(name, number, intake) from None
    try:
        certificate = x509.load_der_x509_certificate(der)
    except ValueError:
        refuse_key_material(name, der, intake)  # a key labelled as a certificate is still a key
        raise _damaged_certificate(name, number, intake) from None
    if certificate.public_bytes(serialization.Encoding.DER) != der:
        raise _damaged_certificate(name, number, intake)  # bytes in the block that are not the certificate
    return certificate


_NOT_CERTIFICATES = {
    "CERTIFICATE REQUEST": (
        "en certifikatanmodning (CSR), som man sender til udstederen for at få certifikatet",
        "a certificate signing request (CSR), which is sent to the issuer to obtain the certificate",
    ),
    "X509 CRL": ("en spærreliste (CRL)", "a certificate revocation list (CRL)"),
    "PUBLIC KEY": ("en offentlig nøgle uden sit certifikat", "a bare public key without its certificate"),
    "PKCS7": (
        "en PKCS#7-samling; hent certifikaterne ud med `openssl pkcs7 -print_certs -in fil.p7b -out kaede.pem`",
        "a PKCS#7 bundle; extract the certificates with `openssl pkcs7 -print_certs -in file.p7b -out chain.pem`",
    ),
}
_NOT_CERTIFICATES["NEW CERTIFICATE REQUEST"] = _NOT_CERTIFICATES["CERTIFICATE REQUEST"]
_NOT_CERTIFICATES["RSA PUBLIC KEY"] = _NOT_CERTIFICATES["PUBLIC KEY"]


def _not_a_certificate(name: str, label: str, number: int, intake: Intake) -> Rejected:
    label = re.sub(r"[^A-Z0-9 #]", "?", label)[:_QUOTED]
    what_da, what_en = _NOT_CERTIFICATES.get(label, ("en anden slags blok", "a block of another kind"))
    return intake.stop(
        "pem_unexpected_block",
        f"„{name}“ indeholder en „{label}“-blok (nr. {number}): {what_da}, ikke et certifikat. Kun certifikater "
        "(„-----BEGIN CERTIFICATE-----“) er tilladt; fjern blokken, og upload igen.",
        f"“{name}” contains a “{label}” block (no. {number}): {what_en}, not a certificate. Only certificates "
        "(“-----BEGIN CERTIFICATE-----”) are allowed; remove the block and upload again.",
    )


def _unexpected_text(name: str, number: int, line: bytes, intake: Intake) -> Rejected:
    """Refuse a line of text around the blocks, quoting its start as plain text: no control or formatting characters.
    A line of encoded data (`_ENCODED`: it may be part of a private key) is not quoted at all, since the finding is
    kept with the refused upload: only its length is said."""
    words = line.strip(b" \t").decode("utf-8", "replace")
    if _ENCODED.fullmatch(words):
        quoted_da = quoted_en = f"{len(words)} "
        quoted_da += "tegn kodede data, ikke gengivet"
        quoted_en += "characters of encoded data, not repeated here"
    else:
        quoted_da = quoted_en = "".join(c if c.isprintable() and c != "\\" else "?" for c in words[:_QUOTED]) + (
            "…" if len(words) > _QUOTED else ""
        )
    return intake.stop(
        "pem_unexpected_text",
        f"Linje {number} i „{shown(name)}“ hører ikke hjemme i en certifikatfil: „{quoted_da}“. Ud over certifikaterne "
        "(„-----BEGIN CERTIFICATE-----“) må filen kun indeholde tomme linjer og de linjer, OpenSSL skriver om dem "
        "(„Bag Attributes“ med de indrykkede linjer under, „subject=“, „issuer=“). Fjern linjen, og upload igen. "
        "Er linjen en del af en privat nøgle, skal certifikatet spærres og udskiftes.",
        f"Line {number} of “{shown(name)}” does not belong in a certificate file: “{quoted_en}”. Besides the certificates "
        "(“-----BEGIN CERTIFICATE-----”) the file may hold only blank lines and the lines OpenSSL writes about them "
        "(“Bag Attributes” with the indented lines under it, “subject=”, “issuer=”). Remove the line and upload "
        "again. If the line is part of a private key, the certificate must be revoked and replaced.",
    )


def _damaged_certificate(name: str, number: int, intake: Intake) -> Rejected:
    return intake.stop(
        "pem_invalid_certificate",
        f"Certifikat nr. {number} i „{name}“ er beskadiget og kan ikke læses. Hent certifikatet igen fra kilden, og "
        "upload det uændret.",
        f"Certificate no. {number} in “{name}” is damaged and cannot be read. Fetch it again from its source and "
        "upload it unchanged.",
    )
