"""What a logged-in user gets is never cached; static files are; the admin runs under the same CSP; every response
carries the Permissions-Policy."""

import re

import pytest
from django.urls import reverse

from config.middleware import CONTENT_SECURITY_POLICY, PERMISSIONS_POLICY
from ordering import services
from tests.conftest import make_user
from tests.pages import order_page

PRIVATE = "no-store, private"


@pytest.mark.parametrize(
    ("who", "status"),
    [
        pytest.param("orderer_a", 200, id="shown-to-its-customer"),
        # A refusal for a logged-in user is not stored either.
        pytest.param("orderer_b", 404, id="refused-to-another-customer"),
    ],
)
def test_an_order_page_is_not_stored(cast, order_in, client, who, status):
    response = order_page(client, getattr(cast, who), order_in("submitted"))
    assert response.status_code == status
    assert response["Cache-Control"] == PRIVATE


def test_a_pdf_download_is_not_stored(cast, order_in, client):
    order = order_in("awaiting_signature")
    services.addendum_render(order.addenda.get().pk)
    client.force_login(cast.signatory_a)
    response = client.get(reverse("ordering:addendum_document", args=[order.pk, 1, "document"]))
    assert response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == PRIVATE


def test_a_csv_export_is_not_stored(cast, order_in, client):
    import datetime

    from billing.services import billing_run

    order_in("active")
    run = billing_run(period=datetime.date.today().replace(day=1), force=True)
    client.force_login(cast.am_a)
    response = client.get(reverse("billing:run_export", args=[run.pk]))
    assert response["Content-Type"].startswith("text/csv")
    assert response["Cache-Control"] == PRIVATE


def test_an_htmx_fragment_is_not_stored(cast, client):
    client.force_login(cast.orderer_a)
    response = client.get(
        reverse("ordering:order_form_preview"), {"external_system": cast.rostering.pk}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert "<html" not in response.content.decode()
    assert response["Cache-Control"] == PRIVATE


def test_the_static_files_a_private_page_links_stay_cacheable(cast, client, settings):
    settings.WHITENOISE_USE_FINDERS = True  # served as in production, by WhiteNoise, without collectstatic
    settings.WHITENOISE_AUTOREFRESH = True
    client.force_login(cast.orderer_a)
    page = client.get(reverse("ordering:order_list"))
    assert page["Cache-Control"] == PRIVATE
    stylesheet = client.get("/static/css/app.css")
    assert stylesheet.status_code == 200
    assert "no-store" not in stylesheet["Cache-Control"] and "public" in stylesheet["Cache-Control"]


def test_neither_the_login_page_nor_the_first_page_after_it_is_stored(cast, client):
    # The anonymous login page: Django's LoginView marks itself never_cache (its form carries a CSRF token).
    assert "no-store" in client.get(reverse("login"))["Cache-Control"]
    response = client.post(reverse("login"), {"username": "orderer_a", "password": "a-long-test-password"})
    assert response["Cache-Control"] == PRIVATE
    assert client.get(response.url)["Cache-Control"] == PRIVATE


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
INLINE_STYLE = re.compile(r"<style\b|\sstyle=", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"\son[a-z]+=", re.IGNORECASE)


@pytest.mark.parametrize(
    "url",
    [
        "admin:index",
        "admin:ordering_customer_changelist",
        "admin:ordering_customer_add",
        "admin:ordering_externalsystem_add",
        "admin:ordering_maincontract_add",
        "admin:billing_pricelist_add",
        "admin:axes_accessattempt_changelist",
        "admin:accounts_user_changelist",
        "admin:password_change",
    ],
)
def test_the_admin_runs_under_the_content_security_policy(cast, client, url):
    client.force_login(make_user("catalogue_admin", is_staff=True, is_superuser=True))
    response = client.get(reverse(url))
    assert response.status_code == 200
    assert response["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    html = response.content.decode()
    assert not INLINE_SCRIPT.findall(html)
    assert not INLINE_STYLE.findall(html)
    assert not EVENT_HANDLER.findall(html)


@pytest.mark.django_db  # the login page reads the current site (django.contrib.sites, which allauth needs)
def test_the_admin_login_page_runs_under_the_content_security_policy(client):
    response = client.get(reverse("admin:login"))
    assert response["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert not INLINE_SCRIPT.findall(response.content.decode())


def assert_permissions_policy(response) -> None:
    assert response["Permissions-Policy"] == PERMISSIONS_POLICY


def test_the_permissions_policy_denies_the_features_the_app_never_uses():
    features = dict(item.split("=") for item in PERMISSIONS_POLICY.split(", "))
    assert {"camera", "microphone", "geolocation", "payment", "usb"} <= features.keys()
    assert set(features.values()) == {"()"}


def test_a_page_carries_the_permissions_policy(cast, order_in, client):
    assert_permissions_policy(order_page(client, cast.orderer_a, order_in("submitted")))


@pytest.mark.django_db
def test_an_anonymous_page_and_a_404_carry_the_permissions_policy(client):
    assert_permissions_policy(client.get(reverse("login")))
    missing = client.get("/no-such-page/")
    assert missing.status_code == 404
    assert_permissions_policy(missing)


@pytest.mark.django_db
def test_an_api_answer_carries_the_permissions_policy(client):
    refused = client.get("/api/v1/orders/")
    assert refused.status_code == 401
    assert_permissions_policy(refused)


@pytest.mark.django_db
def test_the_health_endpoints_carry_the_permissions_policy(client):
    assert_permissions_policy(client.get(reverse("healthz")))
    assert_permissions_policy(client.get(reverse("readyz")))


def test_a_static_file_carries_the_permissions_policy(client, settings):
    settings.WHITENOISE_USE_FINDERS = True  # served as in production, by WhiteNoise
    settings.WHITENOISE_AUTOREFRESH = True
    stylesheet = client.get("/static/css/app.css")
    assert stylesheet.status_code == 200
    assert_permissions_policy(stylesheet)


def test_the_redirect_to_https_carries_the_permissions_policy(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.ALLOWED_HOSTS = ["adgang.example.dk"]
    redirect = client.get("/", HTTP_HOST="adgang.example.dk")
    assert redirect.status_code == 301 and redirect["Location"].startswith("https://")
    assert_permissions_policy(redirect)
