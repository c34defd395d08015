"""Files people open in a spreadsheet: no cell can ever run as a formula (CSV injection, OWASP).

Every export writes its rows through `csv_download` / `safe_csv_writer`, never through `csv.writer`
directly, so no column has to remember to neutralise itself. It lives in core because it is plumbing
every app shares: any app may export, and none should import another app for this.

Text cells (str, or anything that is not a number) that a spreadsheet would read as a formula get a
leading apostrophe. Numbers are passed as Decimal or int and formatted by the writer itself, so a
credit line's "-120,50" stays a number the accountant can sum: it is produced by our code, never
typed, and cannot carry a formula. An XLSX export must do the same: text cells through
`spreadsheet_text`, numbers as numeric cells.
"""

from __future__ import annotations

import csv
import datetime
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.http import HttpResponse

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


def xlsx_cell(value: Any) -> Any:
    """One XLSX cell: Decimal and int stay numeric cells; everything else is safe text."""
    if value is None:
        return ""
    if isinstance(value, float):
        raise TypeError("Money and hours are Decimal, never float.")
    if isinstance(value, (Decimal, int)) and not isinstance(value, bool):
        return value
    return spreadsheet_text(str(value))


def xlsx_download(filename: str, sheet_title: str, rows: Iterable[Iterable[Any]]) -> HttpResponse:
    """An attachment response holding one sheet, every cell through `xlsx_cell`."""
    from io import BytesIO

    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_title[:31])  # Excel's limit for a sheet name
    for row in rows:
        sheet.append([xlsx_cell(cell) for cell in row])
    stream = BytesIO()
    workbook.save(stream)
    response = HttpResponse(stream.getvalue(), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
