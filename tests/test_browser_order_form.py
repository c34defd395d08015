"""The order form's rules and the order page's steps in a real browser (Debian's chromium), on a laptop and a phone
(issue #22, items 4 and 5): the standard interfaces ticked as the system is chosen, one access choice at a time,
the preview refusing what saving refuses, an error summary whose links land on their fields, and the step
indicator. Every state shown must fit the screen and pass axe-core with no WCAG 2.1 A/AA violation.
"""

import pytest
from django.db import connections

from ordering.models import AccessOrder
from tests import browser
from tests.conftest import make_order

pytestmark = browser.BROWSER_MARKS

VIEWPORTS = [
    pytest.param({"width": 1366, "height": 900}, id="1366"),
    pytest.param({"width": 390, "height": 844}, id="390"),
]


@pytest.fixture(params=VIEWPORTS)
def page(request, monkeypatch):
    with browser.chromium_page(monkeypatch, viewport=request.param) as page:
        yield page
    connections.close_all()


def fits_and_passes_axe(page) -> None:
    page.wait_for_load_state("networkidle")  # the preview has caught up with every choice
    browser.assert_no_wider_than_viewport(page)
    browser.assert_no_axe_violations(page)


def screenshot(page, tmp_path, name: str) -> None:
    page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)
    browser.keep_screenshot(page, f"order-form-{name}")


@pytest.mark.django_db(transaction=True)
def test_the_order_form_guides_the_orderer_and_refuses_in_the_preview_what_saving_refuses(
    cast, live_server, page, tmp_path
):
    active = make_order(cast, "active", environment="test")
    base = live_server.url
    browser.password_login(page, base, "orderer_a", "a-long-test-password")

    page.goto(f"{base}/orders/new/")
    # A new integration may replace a live access: one choice for it, and no change choice.
    assert page.locator("select[name=replaces_order]").count() == 1
    assert page.locator("select[name=changes_order]").count() == 0
    page.select_option("#id_external_system", str(cast.rostering.pk))
    page.wait_for_selector("#order-preview .alert")
    web = cast.interfaces
    # VagtPlan's standard interfaces are ticked as it is chosen; the others are not.
    page.wait_for_selector(f"input[name=interfaces][value='{web['opret-fravaer'].pk}']:checked")
    assert page.is_checked(f"input[name=interfaces][value='{web['moedetidsplaner'].pk}']")
    assert not page.is_checked(f"input[name=interfaces][value='{web['engangsydelser'].pk}']")

    page.check("input[name=purchase_model][value=single]")
    page.check(f"input[name=interfaces][value='{web['engangsydelser'].pk}']")  # individual integration
    page.check("input[name=environment][value=production]")
    page.check("input[name=startup_package]")
    # The startup package is for the test environment: the preview says so and quotes no price.
    page.wait_for_selector("#order-preview-problems")
    assert page.locator("#order-preview h2", has_text="Hvad det koster").count() == 0
    fits_and_passes_axe(page)
    screenshot(page, tmp_path, "preview-refuses")

    page.check("input[name=environment][value=test]")
    page.wait_for_selector("#order-preview-problems", state="detached")
    page.wait_for_selector("#order-preview h2")

    # A change names the access it changes; the replacement choice goes away, so there is only one.
    page.check("input[name=reason][value=change]")
    page.wait_for_selector("select[name=changes_order]")
    assert page.locator("select[name=replaces_order]").count() == 0
    page.select_option("select[name=changes_order]", str(active.pk))
    fits_and_passes_axe(page)


@pytest.mark.django_db(transaction=True)
def test_the_error_summary_lists_every_error_and_its_links_land_on_the_fields(cast, live_server, page, tmp_path):
    base = live_server.url
    browser.password_login(page, base, "orderer_a", "a-long-test-password")
    page.goto(f"{base}/orders/new/")
    page.fill("#id_requisition_number", "R" * 60)
    # The browser stops typing at the model's limit.
    assert (
        page.input_value("#id_requisition_number") == "R" * AccessOrder._meta.get_field("requisition_number").max_length
    )
    with page.expect_navigation():
        page.click("main form[method=post] button[type=submit].button-primary")

    summary = page.locator("main .alert-error[role=alert]").first
    links = summary.locator("a.function-link")
    assert links.count() >= 3  # system, purchase model and environment at once, not one at a time
    assert "Dette felt er påkrævet" not in page.inner_text("main")
    fits_and_passes_axe(page)
    screenshot(page, tmp_path, "error-summary")

    links.first.click()
    assert page.evaluate("() => location.hash") == "#id_external_system"
    assert not AccessOrder.objects.exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("state", ["awaiting_signature", "rejected", "active"])
def test_the_step_indicator_fits_the_screen_and_passes_axe(cast, live_server, page, tmp_path, state):
    order = make_order(cast, state)
    base = live_server.url
    browser.password_login(page, base, "orderer_a", "a-long-test-password")
    page.goto(f"{base}/orders/{order.pk}/")
    steps = page.locator("#order-steps li")
    assert steps.count() == 5
    assert page.locator("#order-next-step").inner_text().strip() != ""
    fits_and_passes_axe(page)
    screenshot(page, tmp_path, f"steps-{state}")
