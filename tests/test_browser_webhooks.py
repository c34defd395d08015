# ruff: noqa: F811  (the browser fixtures are imported, and named in the tests)
"""A customer's own webhooks in a real browser, at 1366 and 390 px, axe clean (issue 22, item 9): the customer's
user administrator adds an endpoint, copies its signing secret, sends a test webhook, and the customer's system
(a receiver in this test) gets it with a valid Standard Webhooks signature."""

import pytest
from standardwebhooks import Webhook

from ordering.models import CustomerMembership
from tests.browser import BROWSER_MARKS, keep_screenshot
from tests.test_browser_journeys import browser, check, closes_connections, danish, is_phone, log_in, page  # noqa: F401
from tests.webhooks.receiver import Receiver
from webhooks.models import WebhookDelivery, WebhookEndpoint

pytestmark = BROWSER_MARKS


@pytest.fixture
def receiver(settings):
    """The customer's system: http.server on 127.0.0.1 in a thread. Loopback and plain http are refused in
    production; the tests allow them through the same settings as a KMD-internal receiver would be
    (WEBHOOK_ALLOWED_NETWORKS), not by loosening the rule."""
    settings.WEBHOOK_REQUIRE_HTTPS = False
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    with Receiver() as running:
        yield running


@pytest.mark.django_db(transaction=True)
def test_a_user_administrator_registers_a_webhook_and_the_system_receives_the_signed_test_event(
    cast, live_server, page, receiver
):
    base = live_server.url
    CustomerMembership.objects.filter(user=cast.signatory_a, customer=cast.customer_a).update(is_user_admin=True)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
    log_in(page, base, "signatory_a")

    # The menu offers webhooks to the user administrator.
    if is_phone(page):
        page.click(".js-menu-open")
        page.wait_for_selector(".mobile-drawer.is-visible")
        page.click(".mobile-drawer a[href='/webhooks/']")
    else:
        assert page.locator(".navigation-menu a[href='/webhooks/']").count() == 1
        page.goto(f"{base}/webhooks/")
    page.wait_for_url(f"{base}/webhooks/")
    check(page)
    assert danish("Webhooks") in page.locator("h1").inner_text()

    page.click(f"a[href='/webhooks/customers/{cast.customer_a.pk}/new/']")
    check(page)
    url = receiver.url("/itsm/opus-adgang")
    page.fill("#id_url", url)
    page.fill("#id_description", "ITSM")
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    check(page)

    # The secret, once, with a copy button that says it copied.
    endpoint = WebhookEndpoint.objects.get(customer=cast.customer_a)
    assert endpoint.url == url
    shown = page.input_value("#webhook-secret")
    assert shown == endpoint.secret
    page.click("[data-copy-target='webhook-secret']")
    status = page.locator("#webhook-secret-copy-status")
    status.filter(has_text=danish("Copied to the clipboard.")).wait_for()
    assert page.evaluate("() => navigator.clipboard.readText()") == shown
    check(page)
    receiver.listen("/itsm/opus-adgang", shown)  # the customer puts the secret into its system

    page.click(f"a[href='/webhooks/{endpoint.pk}/']")
    page.wait_for_url(f"{base}/webhooks/{endpoint.pk}/")
    check(page)
    assert shown not in page.content()
    with page.expect_navigation():
        page.click("#send-test button[type=submit]")
    check(page)
    keep_screenshot(page, "webhook-test-event")

    [got] = receiver.at("/itsm/opus-adgang")
    assert got.verified
    assert Webhook(shown).verify(got.body, got.headers)["type"] == "webhook.test"
    assert got.payload["data"]["customer"] == {"cvr": cast.customer_a.cvr}
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert (delivery.status, delivery.webhook_id) == ("delivered", got.webhook_id)
    deliveries = page.locator("#deliveries ~ .table--responsive-scroll").inner_text()
    assert got.webhook_id in deliveries
    assert danish("Delivered") in deliveries and "HTTP 200" in deliveries
    assert page.locator("main .alert-success").count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_new_api_tokens_copy_button_copies_it_and_says_so(cast, live_server, page):
    base = live_server.url
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
    log_in(page, base, "orderer_a")
    page.goto(f"{base}/profile/")
    check(page)
    page.fill("#id_name", "ITSM")
    page.check("input[name=scopes][value=read]")
    with page.expect_navigation():
        page.click("main form button[type=submit].button-primary")
    check(page)
    secret = page.input_value("#api-token-secret")

    page.click("[data-copy-target='api-token-secret']")

    status = page.locator("#api-token-secret-copy-status")
    assert status.get_attribute("role") == "status"
    status.filter(has_text=danish("Copied to the clipboard.")).wait_for()
    assert page.evaluate("() => navigator.clipboard.readText()") == secret
    check(page)
