# ruff: noqa: F811  (the browser and provider fixtures are imported, and named in the tests)
"""A customer's own people in a real browser, at 1366 and 390 px, axe clean (issue 18): the first MitID Erhverv
login without a role, the user administrator granting "orderer", and the person ordering."""

import re

import pytest
from django.contrib.auth import get_user_model

from ordering.models import AuditEvent, AuditKind, CustomerMembership
from tests.browser import BROWSER_MARKS
from tests.login.conftest import mitid_person, oidc_server, provider  # noqa: F401
from tests.test_browser_journeys import PASSWORD, browser, check, closes_connections, danish, page  # noqa: F401

pytestmark = BROWSER_MARKS

UUID = "9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d"


def mitid_login(page, base: str, sub: str) -> None:
    """The login page's MitID Erhverv button, the provider's page (the broker's, not ours: no checks there), back."""
    page.goto(f"{base}/login/")
    check(page)
    page.click(f"button:has-text('{danish('Log in with MitID Erhverv')}')")
    page.wait_for_selector("input[name=sub]")
    page.fill("input[name=sub]", sub)
    page.click("button:has-text('Authorize')")
    page.wait_for_url(f"{base}/")
    check(page)


def password_login(page, base: str, username: str) -> None:
    """The password form below the MitID Erhverv and KMD buttons (passwords are everyone's in the tests, as in the demo)."""
    page.goto(f"{base}/login/")
    check(page)
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("form[action='/login/'] button[type=submit]")
    page.wait_for_url(f"{base}/")
    check(page)


@pytest.mark.django_db(transaction=True)
def test_first_login_without_a_role_then_the_administrator_grants_orderer_and_the_person_orders(
    cast, live_server, page, provider, browser
):
    base = live_server.url
    CustomerMembership.objects.filter(user=cast.signatory_a, customer=cast.customer_a).update(is_user_admin=True)
    sub = mitid_person(provider, "nanna", cvr=cast.customer_a.cvr, uuid=UUID, name="Nanna Nyansat")

    mitid_login(page, base, sub)
    assert page.locator("h1").inner_text() == danish("You have no rights yet")
    assert cast.signatory_a.email in page.locator("main").inner_text()

    # The administrator, in a browser of their own, sees her waiting and makes her an orderer.
    admin = browser.new_context(bypass_csp=True, locale="da-DK", viewport=page.viewport_size).new_page()
    password_login(admin, base, "signatory_a")
    assert admin.locator("#people-waiting-heading").count() == 1
    admin.click("#people-waiting-heading ~ ul a")
    check(admin)
    nanna = get_user_model().objects.get(login_identities__person=UUID)
    form = admin.locator(f"form:has(input[name=person][value='{nanna.pk}'])")
    form.locator("input[name=orderer]").check()
    with admin.expect_navigation():
        form.locator("button[type=submit]").click()
    check(admin)
    assert admin.locator("main .alert-success").count() == 1
    admin.context.close()
    assert CustomerMembership.objects.get(user=nanna, customer=cast.customer_a).is_orderer

    # Nanna, on her next page, orders.
    page.goto(f"{base}/")
    check(page)
    page.click("main a[href='/orders/new/']")
    page.wait_for_url(f"{base}/orders/new/")
    check(page)
    page.select_option("#id_external_system", str(cast.rostering.pk))
    page.wait_for_selector("#order-preview .alert")
    page.check("input[name=purchase_model][value=single]")
    page.check(f"input[name=interfaces][value='{cast.interfaces['opret-fravaer'].pk}']")
    page.check("input[name=environment][value=test]")
    page.wait_for_load_state("networkidle")
    with page.expect_navigation():
        page.click("main form[method=post] button[type=submit].button-primary")
    check(page)
    assert re.search(r"/orders/\d+/$", page.url), (page.url, page.locator("main .alert").all_inner_texts())
    assert AuditEvent.objects.filter(kind=AuditKind.CREATE, actor=nanna, order__customer=cast.customer_a).count() == 1
