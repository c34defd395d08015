"""A database outage met by an htmx request, in a real browser (Debian's chromium): the notice shows, then goes.

The server answers the order form's live preview with its 503 fragment (config/outage.py) while the preview's
view cannot reach the database; htmx swaps no error answer, so static/js/app.js puts the notice at the top of
the page's content. On a laptop and on a phone it must fit the screen and pass axe-core.
"""

import pytest
from django.db import connections

from config import outage as outage_module
from config.outage import Outage
from ordering import views as ordering_views
from tests import browser
from tests.reliability.test_database_outage import lost_connection

pytestmark = browser.BROWSER_MARKS

VIEWPORTS = [
    pytest.param({"width": 1366, "height": 900}, id="1366"),
    pytest.param({"width": 390, "height": 844}, id="390"),
]


@pytest.fixture(params=VIEWPORTS)
def page(request, monkeypatch):
    monkeypatch.setattr(outage_module, "outage", Outage())
    with browser.chromium_page(monkeypatch, viewport=request.param) as page:
        yield page
    connections.close_all()


@pytest.mark.django_db(transaction=True)
def test_an_htmx_request_during_an_outage_shows_the_notice_until_the_database_answers(
    cast, live_server, page, monkeypatch
):
    base = live_server.url
    browser.password_login(page, base, "orderer_a", "a-long-test-password")
    page.goto(f"{base}/orders/new/")
    ordering_customer = ordering_views._ordering_customer

    def unreachable(request):
        raise lost_connection()

    monkeypatch.setattr(ordering_views, "_ordering_customer", unreachable)
    with page.expect_response(lambda response: "/orders/new/preview/" in response.url) as answer:
        page.select_option("#id_external_system", str(cast.rostering.pk))
    assert answer.value.status == 503 and answer.value.headers["retry-after"] == "30"
    notice = page.locator("#main-content > #database-unreachable [role=alert]")
    notice.wait_for()
    assert "Opus Adgang kan ikke nå sin database lige nu" in notice.inner_text()
    assert page.locator("#order-form").is_visible()  # the form stays, with what was typed
    browser.assert_no_wider_than_viewport(page)
    browser.assert_no_axe_violations(page)

    monkeypatch.setattr(ordering_views, "_ordering_customer", ordering_customer)
    with page.expect_response(lambda response: "/orders/new/preview/" in response.url) as answer:
        page.check("input[name=purchase_model][value=single]")
    assert answer.value.status == 200
    page.wait_for_selector("#database-unreachable", state="detached")
    page.wait_for_selector("#order-preview .alert")
