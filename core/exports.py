"""Files people open in a spreadsheet: no cell can ever run as a formula (CSV injection, OWASP).

Every export writes its rows through `csv_download` / `safe_csv_writer`, never through `csv.writer`
directly, so no column has to remember to neutralise itself. It lives in core because it is plumbing
every app shares: any app may export, and none should import another app for this.

Text cells (str, or anything that is not a number) that a spreadsheet would read as a formula get a
leading apostrophe. Numbers are passed as Decimal or int and formatted by the writer itself, so a
credit line's "-120,50" stays a number the accountant can sum: it is produced by our code, never
typed, and cannot carry a formula. An XLSX export must do the same: text cells through
`spreadsheet_text`, numbers as numeric cells, and dates and times as Excel dates (`xlsx_download`), so
the reader can sort, filter and sum them.
"""

from __future__ import annotations

import csv
import datetime
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.http import Http404, HttpResponse
from django.utils import timezone

# What makes Excel, LibreOffice or Google Sheets treat a cell as a formula (OWASP's list).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_text(value: str) -> str:
    """The text as a cell that shows it and never runs it.

    Leading blanks do not make a formula safe: LibreOffice's "trim spaces" import option (and other
    importers) strip them first, so " =1+1" is neutralised as well.
    """
    if value.startswith(FORMULA_TRIGGERS) or value.lstrip().startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def spreadsheet_cell(value: Any) -> str:
    """One cell: numbers written as numbers (Danish decimal comma), everything else as safe text."""
    if value is None:
        return ""
    if isinstance(value, float):
        raise TypeError("Money and hours are Decimal, never float.")
    if isinstance(value, Decimal) and value.is_finite():
        return format(value, "f").replace(".", ",")
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, datetime.datetime):
        # Copenhagen's time, to the minute: what the pages show, and what Danish Excel reads as a time.
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return spreadsheet_text(str(value))


class SafeCsvWriter:
    """`csv.writer` that passes every cell of every row through `spreadsheet_cell`."""

    def __init__(self, stream, *, delimiter: str = ";") -> None:
        self._writer = csv.writer(stream, delimiter=delimiter)

    def writerow(self, cells: Iterable[Any]) -> None:
        self._writer.writerow([spreadsheet_cell(cell) for cell in cells])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def safe_csv_writer(stream, *, delimiter: str = ";") -> SafeCsvWriter:
    return SafeCsvWriter(stream, delimiter=delimiter)


def csv_download(filename: str) -> tuple[HttpResponse, SafeCsvWriter]:
    """An attachment response for Danish Excel (semicolons, UTF-8 with BOM) and its safe writer."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write("\ufeff")  # Excel opens UTF-8 with a BOM correctly
    return response, safe_csv_writer(response)


XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# Number formats are stored in the file in Excel's invariant notation ("," groups thousands, "." marks the
# decimals); each reader's Excel shows them in its own locale, so Danish Excel writes 1.250,50.
DATE_FORMAT = "dd.mm.yyyy"
DATETIME_FORMAT = "dd.mm.yyyy hh:mm"
# Widths in characters of the default font: wide enough for the longest value, never a screen wide.
MIN_WIDTH, MAX_WIDTH = 8, 60


def _number_format(value: Decimal) -> str:
    """A Decimal is shown with the places it was computed to: money (two, as every money field) as
    #,##0.00, "days in this state" (one) as #,##0.0."""
    places = max(0, -value.as_tuple().exponent)
    return "#,##0." + "0" * places if places else "#,##0"


def xlsx_cell(value: Any) -> tuple[Any, str | None]:
    """One XLSX cell and its number format: Decimal and int stay numbers, dates and times are Excel
    dates, everything else is safe text. None is an empty cell."""
    if value is None:
        return None, None
    if isinstance(value, float):
        raise TypeError("Money and hours are Decimal, never float.")
    if isinstance(value, Decimal) and value.is_finite():
        return value, _number_format(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value, None
    if isinstance(value, datetime.datetime):
        # Excel has no time zones: the cell holds Copenhagen's wall-clock time, naive, as the pages show it.
        return timezone.localtime(value).replace(tzinfo=None), DATETIME_FORMAT
    if isinstance(value, datetime.date):
        return value, DATE_FORMAT
    return spreadsheet_text(str(value)), None


def _shown_width(value: Any, number_format: str | None) -> int:
    """About how many characters the cell shows."""
    if value is None:
        return 0
    if number_format == DATE_FORMAT:
        return len("28.11.2026")
    if number_format == DATETIME_FORMAT:
        return len("28.11.2026 15:03")
    if isinstance(value, Decimal):
        return len(f"{value:,}")
    if isinstance(value, int):
        return len(str(value))
    return max(len(line) for line in str(value).splitlines() or [""])


def xlsx_download(
    filename: str, sheet_title: str, headings: Sequence[Any], rows: Iterable[Iterable[Any]]
) -> HttpResponse:
    """An attachment response holding one sheet: a bold, frozen header row with a filter over every
    column, each column as wide as its content (within bounds), every cell through `xlsx_cell`."""
    from io import BytesIO

    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    # The widths are written before the first row (a write-only sheet streams its rows), so the rows are
    # typed first and measured, then written.
    body = [[xlsx_cell(value) for value in row] for row in rows]
    head = [xlsx_cell(str(heading)) for heading in headings]
    widths = [_shown_width(value, None) + 3 for value, _ in head]  # + the filter's drop-down button
    for row in body:
        for column, (value, number_format) in enumerate(row):
            widths[column] = max(widths[column], _shown_width(value, number_format) + 1)

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_title[:31])  # Excel's limit for a sheet name
    for column, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = min(max(width, MIN_WIDTH), MAX_WIDTH)
    sheet.freeze_panes = "A2"  # the headings stay in sight while the reader scrolls
    last = get_column_letter(len(head))
    sheet.auto_filter.ref = f"A1:{last}{len(body) + 1}"

    def cells(row: list[tuple[Any, str | None]], *, bold: bool = False) -> list[WriteOnlyCell]:
        written = []
        for value, number_format in row:
            cell = WriteOnlyCell(sheet, value=value)
            if number_format:
                cell.number_format = number_format
            if bold:
                cell.font = Font(bold=True)
            written.append(cell)
        return written

    sheet.append(cells(head, bold=True))
    for row in body:
        sheet.append(cells(row))
    stream = BytesIO()
    workbook.save(stream)
    response = HttpResponse(stream.getvalue(), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def table_download(
    fmt: str, name: str, sheet_title: str, headings: Sequence[Any], rows: Iterable[Iterable[Any]]
) -> HttpResponse:
    """A list page's export, `<name>-<today>.csv` or `.xlsx` (the two formats a list offers); any other is 404.
    `rows` is read only once the format is known."""
    filename = f"{name}-{timezone.localdate().isoformat()}.{fmt}"
    if fmt == "xlsx":
        return xlsx_download(filename, sheet_title, headings, rows)
    if fmt != "csv":
        raise Http404("No such format")
    response, writer = csv_download(filename)
    writer.writerow(headings)
    writer.writerows(rows)
    return response
