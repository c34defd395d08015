# ruff: noqa: F811  (the browser fixtures are imported, and named in the tests)
"""KMD's back office bills in a real browser, at 1366 and 390 px, axe clean (issue 22): it previews what the next
run bills, starts the run of the month that has ended, and opens an invoice and its PDF."""

import datetime
import io
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from billing.models import BillingRun, Invoice
from tests.billing.builders import package_fee
from tests.browser import BROWSER_MARKS, keep_screenshot
from tests.conftest import make_order
from tests.test_browser_journeys import (  # noqa: F401
    SCREENSHOTS,
    browser,
    check,
    closes_connections,
    is_phone,
    journey,
    page,
)

pytestmark = [*BROWSER_MARKS, pytest.mark.weasyprint]


def _shot(page, tmp_path: Path, name: str) -> None:
    page.screenshot(path=str(tmp_path / f"{name}-{page.viewport_size['width']}.png"), full_page=True)
    keep_screenshot(page, name)


@pytest.mark.django_db(transaction=True)
def test_back_office_previews_runs_billing_and_opens_the_invoice_pdf(cast, live_server, page, tmp_path):
    today = timezone.localdate()
    last_month = (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    started = (last_month - datetime.timedelta(days=1)).replace(day=1)  # the month before it
    order = make_order(cast, "draft", requisition_number="REK-2211")
    package_fee(order, start=started)
    with journey(page, live_server, "support") as base:
        billing_page = reverse("billing:run_list")
        if is_phone(page):  # the menu is in the drawer there; the journeys' log-out walks it
            page.goto(f"{base}{billing_page}")
        else:
            page.click(f".navigation-menu a[href='{billing_page}']")
        page.wait_for_url(f"{base}{billing_page}*")
        check(page)
        preview = page.locator("main")
        assert "Aarhus Kommune" in preview.inner_text()
        # A line for each month the fee ran and was not billed, each linked to its order.
        assert preview.locator(f"a[href='{reverse('ordering:order_detail', args=[order.pk])}']").count() == 2
        _shot(page, tmp_path, "billing-preview")
        assert not Invoice.objects.exists()  # a preview writes nothing

        assert page.input_value("#run-period") == f"{last_month:%Y-%m}"  # the month that has ended
        with page.expect_navigation():
            page.click("form[action='/billing/runs/start/'] button[type=submit]")
        check(page)
        assert page.locator("main .alert-success").count() == 1, page.locator("main .alert").all_inner_texts()
        run = BillingRun.objects.get(period=last_month)
        invoice = Invoice.objects.get(run=run, customer=cast.customer_a)

        page.goto(f"{base}{reverse('billing:invoice_list')}")
        check(page)
        with page.expect_navigation():
            page.click(f"main a[href='{reverse('billing:invoice_detail', args=[invoice.pk])}']")
        check(page)
        assert page.locator(f"main a[href='{reverse('ordering:order_detail', args=[order.pk])}']").count() >= 1
        _shot(page, tmp_path, "billing-invoice")
        with page.expect_download() as download:
            page.click(f"main a[href='{reverse('billing:invoice_document', args=[invoice.pk])}']")
        assert download.value.suggested_filename == f"faktura-{invoice.number}.pdf"
        pdf = Path(download.value.path()).read_bytes()
        reader = PdfReader(io.BytesIO(pdf))
        raw = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
        assert 'pdfaid:conformance="A"' in raw
        text = " ".join(" ".join(p.extract_text() for p in reader.pages).split())
        assert f"Faktura {invoice.number}" in text and f"{order.reference} REK-2211" in text
