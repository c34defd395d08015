"""The order form's advice and the single-vs-package comparison, live in a real browser (Debian's chromium).

On a laptop and on a phone the advice blocks and the comparison table must fit the screen and pass axe-core.
"""

import pytest
from django.db import connections

from tests import browser

pytestmark = browser.BROWSER_MARKS

VIEWPORTS = [
    pytest.param({"width": 1366, "height": 900}, id="1366"),
    pytest.param({"width": 390, "height": 844}, id="390"),
]


@pytest.fixture(params=VIEWPORTS)
def page(request, monkeypatch):
    with browser.chromium_page(monkeypatch, viewport=request.param) as page:
        yield page
    connections.close_all()


@pytest.mark.django_db(transaction=True)
def test_individual_phase_out_order_shows_the_advice_and_the_comparison_and_fits_the_screen(cast, live_server, page):
    base = live_server.url
    browser.password_login(page, base, "orderer_b", "a-long-test-password")

    page.goto(f"{base}/orders/new/")
    page.select_option("#id_external_system", str(cast.rostering.pk))
    page.wait_for_selector("#order-preview .alert")
    page.check("input[name=purchase_model][value=single]")
    page.check(f"input[name=interfaces][value='{cast.interfaces['opret-fravaer'].pk}']")
    page.check(f"input[name=interfaces][value='{cast.interfaces['engangsydelser'].pk}']")
    page.check("input[name=environment][value=production]")
    # The preview grows as it answers each choice, and the form's fields may move with it: a click aimed at a radio
    # while it moves lands beside it (seen once on a busy machine). Clicked once the answers have arrived.
    page.wait_for_load_state("networkidle")
    page.check("input[name=reason][value=phase_out]")
    page.wait_for_selector("#phase-out-advice")
    page.wait_for_selector("#individual-advice")
    page.wait_for_selector("tr.comparison-option >> nth=1")
    page.wait_for_load_state("networkidle")  # the preview has caught up with every choice

    assert page.locator("#discuss-with-account-manager a[href='mailto:am_b@example.test']").count() == 1
    assert page.locator("#individual-advice a[href='mailto:am_b@example.test']").count() == 1
    assert page.locator("#vendor-advice").is_visible()
    browser.assert_no_wider_than_viewport(page)
    browser.assert_no_axe_violations(page)

    page.check("input[name=reason][value=new]")
    page.wait_for_selector("#phase-out-advice", state="detached")
    page.wait_for_load_state("networkidle")
    browser.assert_no_axe_violations(page)
