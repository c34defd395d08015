"""Each role's journey in a real browser (Debian's chromium), on a laptop and on a phone (issue 12).

Every page a journey visits must fit the screen and pass axe-core with no violation at all of
WCAG 2.1 A/AA, whatever its impact. On the phone each journey ends by logging out through the menu.
"""

import datetime
import io
import os
import re
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.db import connections
from django.utils import translation

from ordering import services
from ordering.models import AccessOrder, Addendum
from ordering.transitions import TRANSITIONS
from tests.browser import (
    BROWSER_MARKS,
    _let_htmx_finish,
    assert_no_axe_violations,
    assert_no_wider_than_viewport,
    launch_chromium,
    password_login,
)
from tests.conftest import make_order

SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
PASSWORD = "a-long-test-password"
DEMO_PASSWORD = "opus-demo-2026"

pytestmark = BROWSER_MARKS

LAPTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
VIEWPORTS = [pytest.param(LAPTOP, id="1366"), pytest.param(PHONE, id="390")]


def danish(text: str) -> str:
    """What the page says, in the browser's language (da-DK), from the one place the Danish lives."""
    with translation.override("da"):
        return translation.gettext(text)


@pytest.fixture(scope="module")
def browser():
    """One chromium for the whole file; each test gets fresh contexts (cookies, viewport) of its own."""
    from playwright.sync_api import sync_playwright

    with pytest.MonkeyPatch.context() as patch, sync_playwright() as p:
        # Playwright's sync API runs an event loop in this thread; the ORM calls of the tests (and of
        # their database cleanup) are still synchronous.
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = launch_chromium(p)
        yield browser
        browser.close()
        connections.close_all()  # the last test's database cleanup ran in Playwright's context too


@pytest.fixture
def closes_connections(browser):
    yield
    # The test's ORM calls opened connections (in Playwright's context) that Django's cleanup does not see.
    connections.close_all()


@pytest.fixture(params=VIEWPORTS)
def page(request, browser, closes_connections):
    # axe-core is injected as a script; the app's CSP (rightly) forbids that, so only the test bypasses it.
    context = browser.new_context(bypass_csp=True, locale="da-DK", viewport=request.param)
    page = context.new_page()
    yield page
    _let_htmx_finish(page)
    context.close()


def is_phone(page) -> bool:
    return page.viewport_size["width"] < 992


def check(page) -> None:
    """What every page of every journey must be: one heading, no sideways scrolling, no axe violation."""
    page.wait_for_load_state("load")
    assert page.locator("h1").count() == 1, page.url
    assert_no_wider_than_viewport(page)
    assert_no_axe_violations(page)


@contextmanager
def journey(page, live_server, username: str):
    """`username`'s journey: it logs in at the start and out (through the menu) at the end; gives the site's URL."""
    base = live_server.url
    log_in(page, base, username)
    yield base
    log_out(page, base)


def log_in(page, base: str, username: str, password: str = PASSWORD) -> None:
    password_login(page, base, username, password, check=check)


def act(page, action: str) -> None:
    """Press an action's button on the order page; the page it leads to says the action is done."""
    with page.expect_navigation():
        page.click(f"form#action-{action} button[type=submit]")
    assert_done(page, action)


def act_with_comment(page, order, action: str, comment: str) -> None:
    """On `order`'s page: type `comment` in `action`'s form and act; `order` is read again afterwards."""
    page.fill(f"#{action}-comment", comment)
    act(page, action)
    order.refresh_from_db()


def assert_done(page, action: str) -> None:
    with translation.override("da"):
        success = str(TRANSITIONS[action].success)
    assert page.locator("main .alert-success", has_text=success).count() == 1, (
        page.url,
        page.locator("main .alert").all_inner_texts(),
    )
    check(page)


def log_out(page, base: str) -> None:
    """On the phone through the menu drawer, on the laptop from the header; then the app is closed."""
    if is_phone(page):
        assert not page.is_visible(".navigation-menu")
        page.click(".js-menu-open")
        page.wait_for_selector(".mobile-drawer.is-visible")
        assert page.is_visible(".portal-info-mobile .username")
        assert_no_wider_than_viewport(page)
        assert_no_axe_violations(page)
        page.click(".portal-info-mobile form[action='/logout/'] button")
    else:
        page.click(".portal-user form[action='/logout/'] button")
    page.wait_for_url(f"{base}/login/*")
    check(page)
    page.goto(f"{base}/")
    assert "/login/" in page.url


# --- The journeys ----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_orderer_orders_submits_and_sees_why_kmd_returned_it(cast, live_server, page):
    with journey(page, live_server, "orderer_a") as base:
        page.click("main a[href='/orders/new/']")
        page.wait_for_url(f"{base}/orders/new/")
        check(page)
        page.select_option("#id_external_system", str(cast.rostering.pk))
        page.wait_for_selector("#order-preview .alert")  # htmx explains the choice
        page.check("input[name=purchase_model][value=single]")
        page.check(f"input[name=interfaces][value='{cast.interfaces['opret-fravaer'].pk}']")
        page.check("input[name=environment][value=test]")
        page.wait_for_load_state("networkidle")  # the preview has caught up with every choice
        check(page)
        with page.expect_navigation():
            page.click("main form[method=post] button[type=submit].button-primary")
        assert re.search(r"/orders/\d+/$", page.url), (page.url, page.locator("main .alert").all_inner_texts())
        check(page)
        order = AccessOrder.objects.get()
        assert order.state == "draft"

        page.check("#submit-vendor_agreement")  # "Do not start before you have agreed with the vendor"
        act(page, "submit")
        order = AccessOrder.objects.get()
        assert order.state == "submitted"

        comment = "Vælg også miljøet produktion, når testen er godkendt."
        services.order_return_for_changes(order=order, actor=cast.am_a, comment=comment)

        page.goto(f"{base}/orders/{order.pk}/")
        check(page)
        reason = page.locator("#reason")
        assert danish("Returned by KMD") in reason.locator(".alert-heading").inner_text()
        assert comment in reason.inner_text()
        # At the top of the order: before its facts, right under the heading and its state.
        assert page.evaluate(
            "() => !!(document.querySelector('#reason').compareDocumentPosition(document.querySelector('main h2'))"
            " & Node.DOCUMENT_POSITION_FOLLOWING)"
        )

        page.goto(f"{base}/orders/")
        check(page)
        row = page.locator("tr", has=page.locator(f"a[href='/orders/{order.pk}/']"))
        assert row.locator(".badge", has_text=danish("Returned by KMD")).count() == 1


@pytest.mark.django_db(transaction=True)
def test_account_manager_returns_issues_establishes_and_closes(cast, live_server, page):
    to_return = make_order(cast, "submitted")
    to_issue = make_order(cast, "submitted", codes=("medarbejderoplysninger",))
    accepted = make_order(cast, "provisioning", codes=("moedetidsplaner",))
    with journey(page, live_server, "am_a") as base:
        queue = page.locator("#queue-heading").locator("xpath=..")
        for order in (to_return, to_issue, accepted):
            assert queue.locator(f"a[href='/orders/{order.pk}/']").count() == 1

        page.click(f"#queue-heading ~ * a[href='/orders/{to_return.pk}/']")
        page.wait_for_url(f"{base}/orders/{to_return.pk}/")
        check(page)
        act_with_comment(page, to_return, "return_for_changes", "Angiv rekvisitionsnummer.")
        assert to_return.state == "draft"

        page.goto(f"{base}/orders/{to_issue.pk}/")
        check(page)
        act(page, "issue_addendum")
        to_issue.refresh_from_db()
        assert to_issue.state == "awaiting_signature"
        addendum = to_issue.addenda.get()
        assert (addendum.status, addendum.render_status) == (Addendum.Status.ISSUED, Addendum.RenderStatus.READY)
        assert page.locator("main table a[href*='/addenda/']").count() >= 1

        page.goto(f"{base}/orders/{accepted.pk}/")
        check(page)
        act_with_comment(page, accepted, "activate", "Certifikat installeret.")
        assert accepted.state == "active"
        assert page.is_visible("main .alert-success .alert-heading")

        # Closing cannot be undone: the DKFDS modal asks first, naming the date picked in the form, and only its
        # button sends the form. Its icon button closes it without doing anything.
        today = datetime.date.today()
        earlier = today - datetime.timedelta(days=3)
        modal = page.locator("#confirm-close")
        page.fill("#close-on", earlier.isoformat())
        page.click("form#action-close button[type=submit]")
        modal.wait_for(state="visible")
        assert modal.get_attribute("aria-hidden") == "false"
        assert f"Adgangen lukkes den {earlier:%d.%m.%Y}; faktureringen stopper samme dag." in modal.inner_text()
        assert_no_wider_than_viewport(page)
        assert_no_axe_violations(page)
        modal.get_by_role("button", name="Luk dialogen").click()
        modal.wait_for(state="hidden")
        page.fill("#close-on", today.isoformat())
        page.click("form#action-close button[type=submit]")
        modal.wait_for(state="visible")
        assert f"Adgangen lukkes den {today:%d.%m.%Y};" in modal.inner_text()
        accepted.refresh_from_db()
        assert accepted.state == "active"
        with page.expect_navigation():
            modal.locator("button[name=confirmed]").click()
        assert_done(page, "close")
        accepted.refresh_from_db()
        assert accepted.state == "closed"


@pytest.mark.django_db(transaction=True)
def test_signatory_finds_the_addendum_waiting_and_accepts_it(cast, live_server, page):
    order = make_order(cast, "awaiting_signature")
    with journey(page, live_server, "signatory_a") as base:
        waiting = page.locator("#waiting")
        assert waiting.locator("h2").inner_text() == danish("Waiting for you")
        waiting.locator(f"a[href='/orders/{order.pk}/']").click()
        page.wait_for_url(f"{base}/orders/{order.pk}/")
        check(page)

        assert page.locator("form#action-accept a[href*='/addenda/']").count() == 1
        page.fill("#accept-signer_name", "Tove Tegner")
        page.fill("#accept-signer_title", "HR-chef")
        page.check("#accept-confirm")
        act(page, "accept")

        order.refresh_from_db()
        assert order.state == "provisioning"
        addendum = order.addenda.get()
        assert (addendum.status, addendum.signer_name, addendum.signer_title) == (
            Addendum.Status.ACCEPTED,
            "Tove Tegner",
            "HR-chef",
        )
        assert "Tove Tegner (HR-chef)" in page.locator("main").inner_text()


@pytest.mark.django_db(transaction=True)
def test_support_emergency_closes_an_active_access(cast, live_server, page):
    order = make_order(cast, "active")
    with journey(page, live_server, "support"):
        page.fill("#support-search", order.reference)
        page.wait_for_selector(f"#support-results a[href^='/orders/{order.pk}/']")
        page.locator(f"#support-results a[href^='/orders/{order.pk}/']").first.click()
        page.wait_for_url(re.compile(rf".*/orders/{order.pk}/.*"))
        check(page)

        reason = "Leverandøren har mistet sin private nøgle."
        page.fill("#emergency_close-comment", reason)
        page.check("#emergency_close-confirm")
        act(page, "emergency_close")

        order.refresh_from_db()
        assert order.state == "emergency_closed"
        assert order.emergency_reason == reason
        banner = page.locator("main .alert-error")
        assert danish("Access was emergency-closed") in banner.locator(".alert-heading").inner_text()
        assert reason in banner.inner_text()


# --- Screenshots of each role's start page (docs/screenshots) --------------------------------

DEMO_ROLES = {"orderer": "bestiller", "signatory": "tegner", "account-manager": "kundeansvarlig", "support": "support"}


@pytest.mark.django_db(transaction=True)
def test_each_demo_roles_start_page_renders_for_the_screenshots(live_server, browser, closes_connections, tmp_path):
    """Writes docs/screenshots/<role>-<width>.png with WRITE_SCREENSHOTS=1; otherwise into a temporary folder."""
    from django.core.management import call_command
    from PIL import Image

    call_command("seed_demo", "--force", verbosity=0)
    target = SCREENSHOTS if os.environ.get("WRITE_SCREENSHOTS") == "1" else tmp_path
    target.mkdir(parents=True, exist_ok=True)
    base = live_server.url
    for viewport in (LAPTOP, PHONE):
        context = browser.new_context(locale="da-DK", viewport=viewport)
        page = context.new_page()
        for role, username in DEMO_ROLES.items():
            context.clear_cookies()
            password_login(page, base, username, DEMO_PASSWORD)
            page.wait_for_load_state("networkidle")
            assert page.is_visible("h1")
            assert page.is_visible("#waiting-heading")
            if viewport is PHONE:
                assert page.is_visible(".js-menu-open") and not page.is_visible(".navigation-menu")
            else:
                assert page.is_visible(".navigation-menu") and not page.is_visible(".js-menu-open")
            assert_no_wider_than_viewport(page)
            path = target / f"{role}-{viewport['width']}.png"
            image = Image.open(io.BytesIO(page.screenshot())).convert("RGB")
            image.quantize(256, dither=Image.Dither.NONE).save(path, optimize=True)  # flat colours: crisp text
            assert path.stat().st_size < 150_000, (path, path.stat().st_size)
        context.close()
