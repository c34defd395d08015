"""A database outage in a real browser (Debian's chromium): the 503 page, and the notice on a page already open.

While the order form's views cannot reach the database the server answers the page with its 503 page and the
form's live preview (htmx) with its 503 fragment (config/outage.py); htmx swaps no error answer, so
static/js/app.js puts the notice at the top of the page's content, until an answer comes that is not a 503.
On a laptop and on a phone both must fit the screen and pass axe-core.
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
def test_an_outage_shows_the_503_page_and_on_a_page_already_open_a_notice_until_the_database_answers(
    cast, live_server, page, monkeypatch
):
    base = live_server.url
    browser.password_login(page, base, "orderer_a", "a-long-test-password")
    ordering_customer = ordering_views._ordering_customer

    def unreachable(request):
        raise lost_connection()

    # A whole page: the 503 page, which needs no database.
    monkeypatch.setattr(ordering_views, "_ordering_customer", unreachable)
    paused = page.goto(f"{base}/orders/new/")
    assert paused.status == 503 and paused.headers["retry-after"] == "30"
    assert page.locator("h1").inner_text() == "Opus Adgang holder en kort pause"
    assert "Prøv igen om 30 sekunder." in page.locator("main").inner_text()
    browser.assert_no_wider_than_viewport(page)
    browser.assert_no_axe_violations(page)

    # A fragment: the notice on the page the person is on.
    monkeypatch.setattr(ordering_views, "_ordering_customer", ordering_customer)
    assert page.goto(f"{base}/orders/new/").status == 200
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
