"""What every upload shares: reading it within a cap, telling its type by its content, and handing it back as a
download that no browser runs or shows inline.

The certificate chain (certificates/uploads.py) and the attachments of an order's messages (ordering/thread.py)
both read their uploads through `CappedMemoryUploadHandler` and give files back through `attachment_response`.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass

from django.core.files.uploadedfile import InMemoryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.http import HttpRequest, HttpResponse
from django.utils.http import content_disposition_header


class CappedMemoryUploadHandler(FileUploadHandler):
    """Nothing is written to disk; bytes past the cap are read from the request and dropped.

    Keeping one byte more than the cap lets the validator say "too large" with the real size. `max_files`
    bounds the memory a request can take: files past `max_files + 1` keep no bytes at all, yet still arrive
    as files, so that the form can say "too many" and count them.
    """

    cap: int = 0  # bytes kept of each file; set by a subclass or the constructor
    max_files: int | None = None

    def __init__(self, request: HttpRequest | None = None, *, cap: int | None = None, max_files: int | None = None):
        super().__init__(request)
        if cap is not None:
            self.cap = cap
        if max_files is not None:
            self.max_files = max_files
        self.files_seen = 0

    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        self.buffer = io.BytesIO()
        self.files_seen += 1

    def _room(self) -> int:
        if self.max_files is not None and self.files_seen > self.max_files + 1:
            return 0
        return self.cap + 1 - self.buffer.tell()

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        room = self._room()
        if room > 0:
            self.buffer.write(raw_data[:room])
        return None

    def file_complete(self, file_size: int) -> InMemoryUploadedFile:
        self.buffer.seek(0)
        return InMemoryUploadedFile(
            file=self.buffer,
            field_name=self.field_name,
            name=self.file_name,
            content_type=self.content_type,
            size=file_size,
            charset=self.charset,
            content_type_extra=self.content_type_extra,
        )


# --- Telling a file's type by its content ----------------------------------------------------------------------


@dataclass(frozen=True)
class FileKind:
    code: str
    extension: str
    content_type: str


PDF = FileKind("pdf", "pdf", "application/pdf")
PNG = FileKind("png", "png", "image/png")
JPEG = FileKind("jpeg", "jpg", "image/jpeg")
TEXT = FileKind("text", "txt", "text/plain; charset=utf-8")
CSV = FileKind("csv", "csv", "text/csv; charset=utf-8")
DOCX = FileKind("docx", "docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
XLSX = FileKind("xlsx", "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
# Recognised only to be refused with a sentence of their own.
ZIP = FileKind("zip", "zip", "application/zip")
MACRO_OFFICE = FileKind("macro_office", "", "")
# Text in an 8-bit Windows code page (Danish Excel's "CSV (semikolonsepareret)"): which one cannot be told
# from the bytes, so it cannot be handed back with the right charset.
NOT_UTF8_TEXT = FileKind("not_utf8_text", "", "")
KINDS = {kind.code: kind for kind in (PDF, PNG, JPEG, TEXT, CSV, DOCX, XLSX)}

# Text: line breaks and tabs, never other control characters (a NUL says "binary").
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def sniff(data: bytes, filename: str = "") -> FileKind | None:
    """The kind of file `data` is, read from its content alone; None for a kind not named here.

    The name only chooses between two spellings of the same content: text that is sent as .csv is CSV.
    """
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data[:4] == b"PK\x03\x04":
        return _sniff_zip(data)
    text = _as_text(data)
    if text is not None:
        return CSV if filename.lower().endswith(".csv") else TEXT
    if _is_8bit_text(data):
        return NOT_UTF8_TEXT
    return None


def _sniff_zip(data: bytes) -> FileKind:
    """A Word or Excel document (Office Open XML is a zip with a known layout), or any other zip."""
    try:
        # Only the central directory is read: nothing is unpacked.
        names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
    except (zipfile.BadZipFile, ValueError, OSError):
        return ZIP
    if "[Content_Types].xml" not in names:
        return ZIP
    if any(name.lower().endswith("vbaproject.bin") for name in names):
        return MACRO_OFFICE
    if "word/document.xml" in names:
        return DOCX
    if "xl/workbook.xml" in names:
        return XLSX
    return ZIP


def _as_text(data: bytes) -> str | None:
    try:
        text = data.removeprefix(b"\xef\xbb\xbf").decode("utf-8")
    except UnicodeDecodeError:
        return None
    return None if _CONTROL.search(text) else text


def _is_8bit_text(data: bytes) -> bool:
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        return False
    return not _CONTROL.search(text)


# --- Handing a file back ---------------------------------------------------------------------------------------

_UNSAFE_IN_NAME = re.compile(r"[^\w .()-]+")


def safe_filename(sent: str, extension: str | None, *, default: str = "fil", max_length: int = 80) -> str:
    """A name to show and to download as: the sent name's last part, letters, digits, spaces and ._-() only,
    with the extension of the kind the content is (never the one sent). With `extension` None, the sent name as
    it may be quoted back to the sender (in a refusal)."""
    stem = re.split(r"[\\/]", sent or "")[-1]
    stem = unicodedata.normalize("NFC", stem)
    if extension is not None and "." in stem:
        stem = stem.rsplit(".", 1)[0]
    stem = _UNSAFE_IN_NAME.sub("_", stem).strip(" ._")[:max_length].strip(" ._") or default
    return f"{stem}.{extension}" if extension else stem


def attachment_response(data: bytes, *, filename: str, content_type: str) -> HttpResponse:
    """The file as a download: never shown inline, never sniffed into another type, never cached by others."""
    response = HttpResponse(bytes(data), content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["X-Content-Type-Options"] = "nosniff"
    # Were it ever opened in the browser, it runs nothing and reaches nothing.
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["Cache-Control"] = "private, no-store"
    return response
