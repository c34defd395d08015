# ruff: noqa: F811  (the browser fixtures are imported, and named in the tests)
"""Support's incident closure in a real browser, at 1366 and 390 px, axe clean (issue #22, item 10): from the start
page to the vendor's running accesses, a reason forgotten and asked for, the DKFDS modal naming the count, done."""

import json

import pytest

from ordering.models import AccessOrder
from registers.access import access_register
from tests.browser import BROWSER_MARKS, assert_no_axe_violations, assert_no_wider_than_viewport, keep_screenshot
from tests.conftest import make_order
from tests.test_browser_journeys import browser, check, closes_connections, danish, journey, page  # noqa: F401

pytestmark = BROWSER_MARKS

BREACH = "Vagtdata A/S har meldt et sikkerhedsbrud; alle certifikater spærres."


@pytest.mark.django_db(transaction=True)
def test_support_closes_every_running_access_of_a_vendor_at_once(cast, live_server, page):
    at_a = make_order(cast, "active", codes=("opret-fravaer",))
    at_b = make_order(cast, "active", customer=cast.customer_b, codes=("opret-fravaer",))
    canteen = make_order(cast, "active", system=cast.canteen, codes=("engangsydelser",))
    being_set_up = make_order(cast, "provisioning", codes=("moedetidsplaner",))
    vendor = cast.rostering.vendor
    with journey(page, live_server, "support") as base:
        page.click("main a[href='/support/incident-closure/']")
        page.wait_for_url(f"{base}/support/incident-closure/")
        check(page)

        page.select_option("#incident-vendor", str(vendor.pk))
        with page.expect_navigation():
            page.click("form:has(#incident-vendor) button[type=submit]")
        check(page)
        table = page.locator("main table")
        for order in (at_a, at_b, canteen):
            assert table.locator(f"a[href='/orders/{order.pk}/']").count() == 1
        assert table.locator(f"a[href='/orders/{being_set_up.pk}/']").count() == 0
        assert "Aarhus Kommune, Odense Kommune" in page.locator("main").inner_text()

        # The reason forgotten: the modal asks, its button sends, and the field says what is missing.
        modal = page.locator("#confirm-incident_close")
        page.click("form#action-incident_close button[type=submit]")
        modal.wait_for(state="visible")
        assert "Lukker 3 adgange for Vagtdata A/S nu." in modal.inner_text()
        assert danish("This cannot be undone.") in modal.inner_text()
        keep_screenshot(page, "incident-closure-confirm", full_page=False)
        assert_no_wider_than_viewport(page)
        assert_no_axe_violations(page)
        with page.expect_navigation():
            modal.locator("button[name=confirmed]").click()
        check(page)
        error = page.locator("main .form-error-message")
        assert "Skriv begrundelsen for lukningen" in error.inner_text()
        assert AccessOrder.objects.filter(state="emergency_closed").count() == 0

        page.fill("#incident_close-reason", BREACH)
        page.click("form#action-incident_close button[type=submit]")
        modal.wait_for(state="visible")
        with page.expect_navigation():
            modal.locator("button[name=confirmed]").click()
        check(page)
        success = page.locator("main .alert-success")
        assert "3 adgange for Vagtdata A/S er lukket akut." in success.inner_text()

        states = dict(AccessOrder.objects.values_list("pk", "state"))
        assert [states[o.pk] for o in (at_a, at_b, canteen, being_set_up)] == [
            "emergency_closed",
            "emergency_closed",
            "emergency_closed",
            "provisioning",
        ]
        assert json.loads(access_register("production").body)["accesses"] == []
