# ruff: noqa: F811  (the browser and provider fixtures are imported, and named in the tests)
"""A customer's own people in a real browser, at 1366 and 390 px, axe clean (issue 18): the first MitID Erhverv
login without a role, the user administrator granting "orderer", and the person ordering."""

import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail

from audit.models import AuditEvent
from ordering.audit import AuditKind
from ordering.models import CustomerMembership
from tests.browser import BROWSER_MARKS, assert_no_axe_violations, password_login
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


def log_in_with_password(page, base: str, username: str) -> None:
    """The password form below the MitID Erhverv and KMD buttons (passwords are everyone's in the tests, as in the demo)."""
    password_login(page, base, username, PASSWORD, button="form[action='/login/'] button[type=submit]", check=check)


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
    log_in_with_password(admin, base, "signatory_a")
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


@pytest.mark.django_db(transaction=True)
def test_an_invited_colleague_follows_the_link_logs_in_with_mitid_erhverv_and_has_the_role(
    cast, live_server, page, provider, browser
):
    base = live_server.url
    CustomerMembership.objects.filter(user=cast.signatory_a, customer=cast.customer_a).update(is_user_admin=True)
    admin = browser.new_context(bypass_csp=True, locale="da-DK", viewport=page.viewport_size).new_page()
    log_in_with_password(admin, base, "signatory_a")
    admin.goto(f"{base}/customers/{cast.customer_a.pk}/people/")
    check(admin)
    admin.fill("#id_email", "ny.kollega@aarhus.dk")
    admin.check("#r-invite-orderer")
    with admin.expect_navigation():
        admin.click(f"button:has-text('{danish('Send the invitation')}')")
    check(admin)
    admin.context.close()
    link = re.search(r"http://\S+/invitations/\S+/", mail.outbox[-1].body).group(0)

    page.goto(base + "/" + link.split("/", 3)[3])
    check(page)
    assert page.locator("h1").inner_text() == danish("Invitation to Opus Adgang")
    page.click(f"button:has-text('{danish('Log in with MitID Erhverv')}')")
    sub = mitid_person(provider, "invited", cvr=cast.customer_a.cvr, uuid=UUID, name="Ivan Inviteret")
    page.fill("input[name=sub]", sub)
    page.click("button:has-text('Authorize')")
    page.wait_for_url(f"{base}/")
    check(page)
    invited = get_user_model().objects.get(login_identities__person=UUID)
    assert CustomerMembership.objects.get(user=invited, customer=cast.customer_a).is_orderer
    assert page.locator("main a[href='/orders/new/']").count() == 1


@pytest.mark.weasyprint
@pytest.mark.django_db(transaction=True)
def test_the_signatory_accepts_after_a_mitid_erhverv_login_and_the_accepted_copy_prints_the_login(
    cast, live_server, page, provider, settings
):
    from pypdf import PdfReader

    from accounts.models import LoginIdentity
    from tests.conftest import make_order

    settings.PASSWORD_LOGIN = "break-glass"  # as in production: only the MitID Erhverv login may accept
    base = live_server.url
    order = make_order(cast, "awaiting_signature")
    LoginIdentity.objects.create(
        user=cast.signatory_a, scheme="mitid_erhverv", organisation=cast.customer_a.cvr, person=UUID, issuer="x"
    )
    mitid_login(page, base, mitid_person(provider, "tove", cvr=cast.customer_a.cvr, uuid=UUID))
    page.goto(f"{base}/orders/{order.pk}/")
    check(page)
    page.fill("#accept-signer_name", "Tove Tegner")
    page.fill("#accept-signer_title", "HR-chef")
    page.check("#accept-confirm")
    with page.expect_navigation():
        page.click("form#action-accept button[type=submit]")
    check(page)
    addendum = order.addenda.get()
    assert addendum.status == "accepted" and addendum.signer_login["organisation"] == cast.customer_a.cvr
    copy = page.request.get(f"{base}/orders/{order.pk}/addenda/{addendum.version}/accepted.pdf")
    assert copy.status == 200 and copy.headers["content-type"] == "application/pdf"
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(copy.body())).pages).split())
    assert "logget ind med MitID Erhverv, sikringsniveau betydelig" in text
    assert "(dansk tid, UTC+01:00)" in text or "(dansk tid, UTC+02:00)" in text
    assert cast.customer_a.cvr in text


@pytest.mark.django_db(transaction=True)
def test_two_minutes_before_the_idle_logout_a_dialog_offers_to_stay_logged_in(cast, live_server, page, settings):
    settings.SESSION_IDLE_TIMEOUT = 123  # the dialog opens after 3 seconds
    base = live_server.url
    log_in_with_password(page, base, "orderer_a")
    dialog = page.locator("#session-expiring")
    dialog.wait_for(state="visible", timeout=10_000)
    assert dialog.get_attribute("aria-hidden") == "false"
    assert_no_axe_violations(page)
    page.evaluate("document.body.dataset.sessionIdle = '5'")  # what the page said, before "Forlæng"
    with page.expect_response(lambda r: r.url.endswith("/session/extend/") and r.status == 204):
        page.click("#session-extend")
    dialog.wait_for(state="hidden", timeout=5_000)
    # The countdown starts again from what the server says is left (accounts.sessions: Session-Idle-Left).
    assert page.evaluate("document.body.dataset.sessionIdle") == "123"


@pytest.mark.django_db(transaction=True)
def test_what_was_typed_in_the_order_form_survives_a_login_in_between(cast, live_server, page):
    from django.contrib.sessions.models import Session

    base = live_server.url
    log_in_with_password(page, base, "orderer_a")
    page.goto(f"{base}/orders/new/")
    check(page)
    page.fill("#id_requisition_number", "PO-2026-0815")
    # The session ends meanwhile (idle too long): the next htmx request sends the whole page to the login.
    Session.objects.all().delete()
    page.select_option("#id_external_system", str(cast.rostering.pk))
    page.wait_for_url(re.compile(r".*/login/\?next=/orders/new/$"))
    check(page)
    page.fill("#id_username", "orderer_a")
    page.fill("#id_password", PASSWORD)
    page.click("form[action='/login/'] button[type=submit]")
    page.wait_for_url(f"{base}/orders/new/")
    assert page.input_value("#id_requisition_number") == "PO-2026-0815"
    assert page.locator("#id_external_system").input_value() == str(cast.rostering.pk)
