"""On a phone (issue 22, item 3): long values wrap, tables keep their key column, the action box comes first.

Two journeys at 1366 and 390 px, every page at 0 axe violations and no wider than the screen: the account manager
schedules the closure a customer asked for on the date asked for, and a signatory accepts an addendum without
scrolling past the order's history. The page walk visits, at 390 px with the demo data, every page reachable from
each demo role's menu and start page, and each order's page: none may be wider than the screen.
"""

import datetime
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from certificates.models import Certificate
from ordering import services
from ordering.models import AccessOrder, Addendum
from tests import test_browser_journeys as journeys
from tests.browser import BROWSER_MARKS, keep_screenshot, password_login
from tests.conftest import make_order
from tests.test_browser_journeys import act, check, is_phone, journey

# The journeys' chromium (one per module), its clean-up, and their page at 1366 and at 390 px.
browser = journeys.browser
closes_connections = journeys.closes_connections
page = journeys.page

pytestmark = BROWSER_MARKS

PHONE = {"width": 390, "height": 844}
DEMO_PASSWORD = "opus-demo-2026"
DEMO_ROLES = ("bestiller", "tegner", "kundeansvarlig", "support")
ORDER_READERS = ("bestiller", "support")  # between them every order of the demo, in a customer's and KMD's view
# Links that are not pages to look at: files, the admin (Django's own pages), leaving the app.
NOT_A_PAGE = re.compile(r"^/(admin|logout|static|media|api)/|/(download|pdf|xlsx|csv|export)\b|\.(pdf|zip|xlsx|csv)$")


def box(page, selector: str) -> dict:
    found = page.locator(selector).first.bounding_box()
    assert found is not None, (page.url, selector)
    return found


def comes_before(page, first: str, then: str) -> bool:
    """`first` is above `then` on the page (phone, one column) or beside it, starting higher (laptop)."""
    return box(page, first)["y"] + box(page, first)["height"] <= box(page, then)["y"] or (
        not is_phone(page) and box(page, first)["y"] < box(page, then)["y"]
    )


@pytest.mark.django_db(transaction=True)
def test_account_manager_schedules_the_closure_on_the_date_the_customer_asked_for(cast, live_server, page):
    wished = datetime.date.today() + datetime.timedelta(days=45)
    order = services.order_request_closure(
        order=make_order(cast, "active"), actor=cast.orderer_a, wished_on=wished, comment="Systemet udfases."
    )
    with journey(page, live_server, "am_a") as base:
        page.click(f"#queue-heading ~ * a[href='/orders/{order.pk}/']")
        page.wait_for_url(f"{base}/orders/{order.pk}/")
        check(page)
        # The customer's wish is on the page, and the form offers that very date.
        assert f"{wished:%d.%m.%Y}" in page.locator("main").inner_text()
        assert page.input_value("#schedule_closure-on") == wished.isoformat()
        # The action comes before the history: on a phone right after the order, on a laptop beside it.
        assert comes_before(page, "form#action-schedule_closure button[type=submit]", "#history")
        keep_screenshot(page, "account-manager-closure-request")
        act(page, "schedule_closure")
        order.refresh_from_db()
        assert (order.state, order.closure_scheduled_on) == ("closure_requested", wished)
        heading = page.locator("main .alert-info .alert-heading", has_text=f"{wished:%d.%m.%Y}")
        assert heading.count() == 1
        # The history reads the wished date as a Danish date, not "2027-01-20".
        history = page.locator("#history").inner_text()
        assert f"Ønsket lukkedato: {wished:%d.%m.%Y}." in history and wished.isoformat() not in history


@pytest.mark.django_db(transaction=True)
def test_signatory_accepts_on_a_phone_without_scrolling_past_the_history(cast, live_server, page):
    order = make_order(cast, "awaiting_signature")
    with journey(page, live_server, "signatory_a") as base:
        page.locator(f"#waiting a[href='/orders/{order.pk}/']").click()
        page.wait_for_url(f"{base}/orders/{order.pk}/")
        check(page)
        accept = "form#action-accept button[type=submit]"
        assert comes_before(page, "form#action-accept", "#history")
        assert comes_before(page, accept, "#history")
        screen = page.viewport_size["height"]
        if is_phone(page):
            # The first screen offers the way to the actions; one tap brings the accept button into view.
            link = page.get_by_role("link", name="Gå til det, du kan gøre nu")
            assert box(page, "main a[href='#actions-heading']")["y"] < screen
            link.click()
            page.wait_for_function("() => window.scrollY > 0")
            top = page.evaluate("() => document.querySelector('form#action-accept').getBoundingClientRect().top")
            assert 0 <= top < screen
        else:
            # On a laptop the accept box starts within the first screen, beside the order; no link is needed.
            assert box(page, "form#action-accept")["y"] < screen
            assert not page.is_visible("main a[href='#actions-heading']")
        keep_screenshot(page, "signatory-accept", full_page=False)
        page.fill("#accept-signer_name", "Tove Tegner")
        page.fill("#accept-signer_title", "HR-chef")
        page.check("#accept-confirm")
        act(page, "accept")
        order.refresh_from_db()
        assert order.state == "provisioning"
        assert order.addenda.get().status == Addendum.Status.ACCEPTED


def _links(page, selector: str) -> set[str]:
    hrefs = page.eval_on_selector_all(selector, "links => links.map(a => a.getAttribute('href'))")
    paths = set()
    for href in hrefs:
        if not href or href.startswith(("#", "mailto:", "tel:")):
            continue
        parts = urlsplit(href)
        if parts.netloc and parts.netloc not in page.url:
            continue
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if path.startswith("/") and not NOT_A_PAGE.search(parts.path):
            paths.add(path)
    return paths


def _wider_than_the_screen(page) -> list[str]:
    """What sticks out to the right, for the failure message."""
    return page.evaluate(
        """() => [...document.querySelectorAll('main *')]
             .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
             .slice(0, 5).map(e => e.tagName + '.' + e.className + ': ' + (e.textContent || '').trim().slice(0, 60))"""
    )


@pytest.mark.django_db(transaction=True)
def test_no_page_of_the_demo_is_wider_than_a_phone(live_server, browser, closes_connections, settings):
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from ordering.selectors import orders_visible_to

    User = get_user_model()

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # The demo CA trusted, as with DJANGO_DEBUG=1: the customer's own system gets its certificate (a DN and hashes).
    demo_trust = Path(settings.STORAGES["default"]["OPTIONS"]["location"]) / "demo-trust"
    settings.CERTIFICATE_TRUST_DIRS = {**settings.CERTIFICATE_TRUST_DIRS, "test": [demo_trust]}
    call_command("seed_demo", "--force", verbosity=0)
    base = live_server.url
    orders = [f"/orders/{pk}/" for pk in AccessOrder.objects.order_by("pk").values_list("pk", flat=True)]
    assert len(orders) >= 10
    assert Certificate.objects.exists()
    visited: dict[str, set[str]] = {}
    too_wide = []
    context = browser.new_context(locale="da-DK", viewport=PHONE)
    page = context.new_page()
    for username in DEMO_ROLES:
        context.clear_cookies()
        password_login(page, base, username, DEMO_PASSWORD)
        to_visit = {"/"} | _links(page, ".navigation-menu-mobile a") | _links(page, "main a")
        if username in ORDER_READERS:
            # Each order's page as its customer's orderer sees it and as KMD's support does (with their tools).
            user = User.objects.get(username=username)
            to_visit |= {f"/orders/{pk}/" for pk in orders_visible_to(user).values_list("pk", flat=True)}
        for path in sorted(to_visit):
            response = page.goto(f"{base}{path}")
            if response is None or "text/html" not in response.headers.get("content-type", ""):
                continue
            assert response.status == 200, (username, path, response.status)
            visited.setdefault(username, set()).add(path)
            widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
            if widths[0] > widths[1]:
                too_wide.append((username, path, widths, _wider_than_the_screen(page)))
    context.close()
    assert too_wide == []
    # The walk did walk: each role saw its start page, the order list, and support every order of the demo.
    assert all("/" in paths for paths in visited.values()) and len(visited) == len(DEMO_ROLES)
    assert set(orders) <= visited["support"]
    assert "/orders/" in visited["bestiller"]
