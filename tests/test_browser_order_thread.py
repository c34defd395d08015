# ruff: noqa: F811  (the browser fixtures are imported, and named in the tests)
"""The message thread on an order in a real browser, at 1366 and 390 px, axe clean (issue #22, item 8): the
customer writes with an attachment, the account manager sees it, downloads it and answers with an attachment,
and the customer sees the answer and downloads it."""

from pathlib import Path

import pytest

from ordering.audit import AuditKind
from ordering.models import OrderMessage
from tests.browser import BROWSER_MARKS, keep_screenshot
from tests.conftest import make_order
from tests.test_browser_journeys import browser, check, closes_connections, danish, journey, page  # noqa: F401

pytestmark = BROWSER_MARKS

PLAN = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n" + b"0" * 3000
ANSWER = "Kolonne;Forklaring\nmedarbejdernummer;nøglen til fravær og løn\n".encode()


def write(page, text: str, name: str, data: bytes, mime: str) -> None:
    """Type a message, attach one file and send it: htmx swaps the thread in place, without reloading the page,
    says in it that the message was sent and moves the focus there."""
    page.evaluate("() => { window.notReloaded = true; }")
    page.fill("#message-text", text)
    page.set_input_files("#message-attachments", files=[{"name": name, "mimeType": mime, "buffer": data}])
    page.click("#message-form button[type=submit]")
    alert = page.locator("#thread .alert-success", has_text=danish("Your message was sent."))
    alert.wait_for()
    assert page.evaluate("() => window.notReloaded === true")
    # htmx moves the focus to the notice (autofocus) once the swapped thread has settled, a moment after it shows.
    page.wait_for_function("() => document.activeElement.classList.contains('alert-success')", timeout=5000)
    assert page.input_value("#message-text") == ""
    check(page)


def download(page, name: str) -> bytes:
    with page.expect_download() as started:
        page.click(f"#thread a:has-text('{name}')")
    got = started.value
    assert got.suggested_filename == name
    return Path(got.path()).read_bytes()


@pytest.mark.django_db(transaction=True)
def test_the_customer_and_the_account_manager_write_to_each_other_with_attachments(cast, live_server, page, tmp_path):
    order = make_order(cast, "submitted")
    question = "Her er vores plan for integrationen. Kan I bekræfte felterne?"
    answer = "Tak. Felterne passer; se vores forklaring i filen."

    with journey(page, live_server, "orderer_a") as base:
        page.goto(f"{base}/orders/{order.pk}/")
        check(page)
        assert page.locator("#thread", has_text=danish("No messages yet.")).count() == 1
        write(page, question, "Integrationsplan.pdf", PLAN, "application/pdf")
        first = page.locator("#thread li.order-thread-message").first
        assert question in first.inner_text() and f"({danish('Customer')})" in first.inner_text()
        assert "Integrationsplan.pdf (3,0 kB)" in first.inner_text()

    with journey(page, live_server, "am_a") as base:
        page.goto(f"{base}/orders/{order.pk}/")
        check(page)
        assert question in page.locator("#thread").inner_text()
        assert download(page, "Integrationsplan.pdf") == PLAN
        write(page, answer, "forklaring.csv", ANSWER, "text/csv")
        reply = page.locator("#thread li.order-thread-message").nth(1)
        assert answer in reply.inner_text() and "(KMD)" in reply.inner_text()

    with journey(page, live_server, "orderer_a") as base:
        page.goto(f"{base}/orders/{order.pk}/")
        check(page)
        messages = page.locator("#thread li.order-thread-message")
        assert messages.count() == 2 and answer in messages.nth(1).inner_text()
        assert download(page, "forklaring.csv") == ANSWER
        page.locator("#thread").screenshot(path=tmp_path / f"thread-{page.viewport_size['width']}.png")
        keep_screenshot(page, "order-thread")

    sides = list(OrderMessage.objects.order_by("pk").values_list("author__username", "side"))
    assert sides == [("orderer_a", "customer"), ("am_a", "supplier")]
    assert list(
        order.events.filter(kind__in=[AuditKind.MESSAGE_FROM_CUSTOMER, AuditKind.MESSAGE_FROM_KMD])
        .values_list("kind", flat=True)
        .order_by("seq")
    ) == [AuditKind.MESSAGE_FROM_CUSTOMER, AuditKind.MESSAGE_FROM_KMD]
