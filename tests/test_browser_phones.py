"""On a phone (issue 22, item 3): long values wrap, tables keep their key column, the action box comes first.

The page walk visits, at 390 px with the demo data, every page reachable from each demo role's menu and
start page, and each order's page: none may be wider than the screen.
"""

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.db import connections

from certificates.models import Certificate
from ordering.models import AccessOrder
from tests.browser import BROWSER_MARKS, launch_chromium, password_login

pytestmark = BROWSER_MARKS

PHONE = {"width": 390, "height": 844}
DEMO_PASSWORD = "opus-demo-2026"
DEMO_ROLES = ("bestiller", "tegner", "kundeansvarlig", "support")
# Links that are not pages to look at: files, the admin (Django's own pages), leaving the app.
NOT_A_PAGE = re.compile(r"^/(admin|logout|static|media|api)/|/(download|pdf|xlsx|csv|export)\b|\.(pdf|zip|xlsx|csv)$")


@pytest.fixture
def browser(monkeypatch):
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are still synchronous.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as p:
        browser = launch_chromium(p)
        yield browser
        browser.close()
    connections.close_all()


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
def test_no_page_of_the_demo_is_wider_than_a_phone(live_server, browser, settings):
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
        # Each order's page as each role that may read it: customer roles see it without KMD's tools.
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
