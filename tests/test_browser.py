"""In a real browser (Debian's chromium driven by Playwright): an orderer logs in and submits an order."""

import pytest
from django.db import connections

from ordering.models import AccessOrder
from tests.browser import (
    BROWSER_MARKS,
    assert_no_axe_violations,
    assert_no_wider_than_viewport,
    chromium_page,
    password_login,
)

# Playwright's sync API keeps an event loop in this thread, and the ORM calls a test makes while it
# runs open their own connection that Django's end-of-run cleanup does not see: each test closes them,
# so the test database can be dropped afterwards.

pytestmark = BROWSER_MARKS


@pytest.fixture
def browser_page(monkeypatch):
    with chromium_page(monkeypatch) as page:
        yield page


@pytest.mark.django_db(transaction=True)
def test_orderer_logs_in_and_submits_an_order(cast, live_server, browser_page, tmp_path):
    page = browser_page
    page.goto(f"{live_server.url}/login/")
    assert_no_axe_violations(page)
    page.fill("#id_username", "orderer_a")
    page.fill("#id_password", "a-long-test-password")
    page.click("button[type=submit].button-primary")
    page.wait_for_url(f"{live_server.url}/")

    page.click("a[href='/orders/new/']")
    page.select_option("#id_external_system", str(cast.rostering.pk))
    page.wait_for_selector("#order-preview .alert")  # htmx explains the choice
    page.check("input[name=purchase_model][value=single]")
    page.check(f"input[name=interfaces][value='{cast.interfaces['opret-fravaer'].pk}']")
    page.check("input[name=environment][value=test]")
    assert_no_axe_violations(page)
    page.click("form button[type=submit].button-primary")

    page.wait_for_url(f"{live_server.url}/orders/*/")
    order = AccessOrder.objects.get()
    assert order.state == "draft"
    page.check("#submit-vendor_agreement")  # "Do not start before you have agreed with the vendor"
    page.click(f"form[action^='/orders/{order.pk}/actions/submit/'] button")
    page.wait_for_selector(".alert-success")
    assert_no_axe_violations(page)
    page.screenshot(path=str(tmp_path / "submitted.png"), full_page=True)

    assert AccessOrder.objects.get().state == "submitted"
    assert order.reference in page.text_content("h1")
    connections.close_all()


@pytest.mark.django_db(transaction=True)
def test_orderer_uploads_a_certificate_chain_in_the_browser(cast, live_server, browser_page, settings, tmp_path):
    from certificates.models import CertificateBundle
    from certificates.testing import make_leaf, make_pki, pem, zip_bytes
    from tests.conftest import make_order

    pki = make_pki()
    trust_dir = tmp_path / "trust"
    trust_dir.mkdir()
    (trust_dir / "rod.pem").write_bytes(pem(pki.root))
    settings.CERTIFICATE_TRUST_DIRS = {"test": [trust_dir], "production": []}
    bundle = tmp_path / "kaede.zip"
    bundle.write_bytes(zip_bytes({"kaede.pem": pem(make_leaf(pki, cvr="31415926"), pki.issuing)}))
    order = make_order(cast, "draft", system=cast.own_system, environment="test")

    page = browser_page
    password_login(page, live_server.url, "orderer_a", "a-long-test-password")
    page.goto(f"{live_server.url}/orders/{order.pk}/")
    page.set_input_files("#id_bundle", str(bundle))
    page.click("#certificate form button[type=submit]")
    page.wait_for_selector("#certificate table")
    assert_no_axe_violations(page)
    assert CertificateBundle.objects.get(order=order).status == "current"
    assert "NTRDK-31415926" in page.text_content("#certificate table")
    connections.close_all()


@pytest.mark.django_db(transaction=True)
def test_every_roles_pages_pass_axe(live_server, browser_page, settings):
    from django.core.management import call_command

    from ordering.models import AccessOrder

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("seed_demo", "--force", verbosity=0)
    awaiting = AccessOrder.objects.filter(state="awaiting_signature").first().pk
    active = AccessOrder.objects.filter(state="active").first().pk
    submitted = AccessOrder.objects.filter(state="submitted").first().pk
    pages = {
        "bestiller": ["/", "/orders/new/", f"/orders/{active}/", "/invoices/", "/licences/", "/catalogue/"],
        "tegner": [f"/orders/{awaiting}/"],
        "kundeansvarlig": ["/", f"/orders/{submitted}/", "/billing/runs/", "/certificates/expiring/"],
        "support": ["/", f"/orders/{active}/"],
    }
    page = browser_page
    for username, urls in pages.items():
        page.context.clear_cookies()
        password_login(page, live_server.url, username, "opus-demo-2026")
        for url in urls:
            page.goto(f"{live_server.url}{url}")
            assert page.locator("h1").count() == 1, url
            assert_no_axe_violations(page)
    connections.close_all()


@pytest.mark.django_db(transaction=True)
def test_on_a_phone_pages_fit_the_screen_and_the_menu_opens_and_logs_out(live_server, browser_page, settings):
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from ordering.selectors import orders_visible_to

    User = get_user_model()

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("seed_demo", "--force", verbosity=0)

    def visible(username: str, state: str) -> int:
        return orders_visible_to(User.objects.get(username=username)).filter(state=state).first().pk

    customer = User.objects.get(username="bestiller").memberships.first().customer_id
    register = f"/customers/{customer}/register/"
    pages = {
        "bestiller": ["/", "/orders/", f"/orders/{visible('bestiller', 'active')}/", "/invoices/", "/profile/"]
        + ["/registers/", register],
        "kundeansvarlig": ["/", "/orders/", f"/orders/{visible('kundeansvarlig', 'submitted')}/", "/invoices/"]
        + ["/registers/", register],
    }
    page = browser_page
    for width, height in ((390, 844), (1366, 900)):
        page.set_viewport_size({"width": width, "height": height})
        for username, urls in pages.items():
            page.context.clear_cookies()
            password_login(page, live_server.url, username, "opus-demo-2026")
            for url in urls:
                page.goto(f"{live_server.url}{url}")
                assert_no_wider_than_viewport(page)
                assert_no_axe_violations(page)
            if width == 390:
                assert not page.is_visible(".navigation-menu")
                page.click(".js-menu-open")
                page.wait_for_selector(".mobile-drawer.is-visible")
                assert page.is_visible(".navigation-menu-mobile a[href='/orders/']")
                assert page.is_visible(".portal-info-mobile .username")
                assert_no_axe_violations(page)
                page.click(".portal-info-mobile form[action='/logout/'] button")
                page.wait_for_url(f"{live_server.url}/login/*")
                page.goto(f"{live_server.url}/")
                assert "/login/" in page.url
    connections.close_all()


@pytest.mark.django_db(transaction=True)
def test_making_and_revoking_an_api_token_fits_a_phone_and_a_laptop(cast, live_server, browser_page):
    from accounts.models import ApiToken

    page = browser_page
    for width, height in ((390, 844), (1366, 900)):
        page.set_viewport_size({"width": width, "height": height})
        page.context.clear_cookies()
        password_login(page, live_server.url, "orderer_a", "a-long-test-password")
        page.goto(f"{live_server.url}/profile/")
        assert_no_wider_than_viewport(page)
        assert_no_axe_violations(page)
        page.fill("#id_name", f"ITSM {width}")
        page.check("input[name=scopes][value=read]")
        page.click("main form button[type=submit].button-primary")
        page.wait_for_selector("#api-token-secret")
        secret = page.input_value("#api-token-secret")
        assert secret.startswith("oa_")
        # The whole secret is in view, wrapped if need be, not cut off by its field.
        box = page.eval_on_selector("#api-token-secret", "e => [e.scrollWidth, e.clientWidth]")
        assert box[0] <= box[1], box
        assert_no_wider_than_viewport(page)
        assert_no_axe_violations(page)
        token = ApiToken.objects.get(name=f"ITSM {width}")
        page.goto(f"{live_server.url}/profile/tokens/{token.pk}/revoke/")
        assert_no_wider_than_viewport(page)
        assert_no_axe_violations(page)
        page.click("main form button[type=submit].button-warning")
        page.wait_for_url(f"{live_server.url}/profile/")
        page.wait_for_selector(".alert-success")
        token.refresh_from_db()
        assert token.revoked_at is not None
        assert_no_wider_than_viewport(page)
        assert_no_axe_violations(page)
    connections.close_all()
