"""A customer's user administrator manages the customer's own webhook endpoints (issue 22, item 9): adds one (the
same address rules as KMD's), sees its secret once, sends a test webhook, gives it a new secret, removes it."""

import datetime

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from standardwebhooks import Webhook

from audit.models import AuditEvent
from core.errors import NotPermitted
from core.form_tokens import form_token_issue
from core.models import OutboxMessage
from ordering.models import CustomerMembership
from webhooks import services as webhooks
from webhooks.audit import WebhookAuditKind
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint


@pytest.fixture
def admins(cast):
    """A user administrator of each customer (the signatories, as in the demo)."""
    for signatory, customer in ((cast.signatory_a, cast.customer_a), (cast.signatory_b, cast.customer_b)):
        CustomerMembership.objects.filter(user=signatory, customer=customer).update(is_user_admin=True)
    return cast


def client_of(user) -> Client:
    """Logged in as `user`, reading English (the Danish is checked by tests/test_translations.py)."""
    client = Client()
    client.force_login(user)
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def endpoint_of(customer, receiver, path: str, **answer) -> WebhookEndpoint:
    made = WebhookEndpoint.objects.create(url=receiver.url(path), customer=customer, description=path)
    receiver.listen(path, made.secret, **answer)
    return made


def snapshot() -> list:
    """Every endpoint as stored, every delivery and every webhook audit event: a refused action changes none."""
    return [
        list(WebhookEndpoint.objects.order_by("pk").values()),
        list(WebhookDelivery.objects.order_by("pk").values()),
        list(AuditEvent.objects.filter(kind__startswith="webhook_").values_list("kind", flat=True)),
    ]


# --- Adding, and the secret shown once -------------------------------------------------------------------------


def test_user_administrator_adds_an_endpoint_and_sees_its_secret_only_once(admins):
    client = client_of(admins.signatory_a)
    form = client.get(reverse("webhooks:endpoint_add", args=[admins.customer_a.pk]))
    assert form.status_code == 200

    answer = client.post(
        reverse("webhooks:endpoint_add", args=[admins.customer_a.pk]),
        {"url": "https://itsm.aarhus.example/hooks", "description": "ITSM"},
    )

    endpoint = WebhookEndpoint.objects.get()
    assert (endpoint.customer, endpoint.url, endpoint.description) == (
        admins.customer_a,
        "https://itsm.aarhus.example/hooks",
        "ITSM",
    )
    assert answer.status_code == 200
    assert endpoint.secret.startswith("whsec_")
    assert endpoint.secret in answer.content.decode()
    assert 'data-copy-target="webhook-secret"' in answer.content.decode()
    assert "no-store" in answer["Cache-Control"]
    event = AuditEvent.objects.get(kind=WebhookAuditKind.WEBHOOK_ENDPOINT_ADDED)
    assert (event.actor, event.actor_role, event.subject_id) == (admins.signatory_a, "user_admin", str(endpoint.pk))
    assert event.params == {"webhook_url": "https://itsm.aarhus.example/hooks"}
    # Nowhere else: not on the endpoint's page, not in the list.
    for url in (reverse("webhooks:endpoint_detail", args=[endpoint.pk]), reverse("webhooks:endpoint_list")):
        page = client.get(url)
        assert page.status_code == 200
        assert endpoint.secret not in page.content.decode()


def test_an_add_form_sent_twice_adds_one_endpoint_and_does_not_show_the_secret_again(admins):
    client = client_of(admins.signatory_a)
    url = reverse("webhooks:endpoint_add", args=[admins.customer_a.pk])
    data = {"url": "https://itsm.aarhus.example/hooks", "form_token": form_token_issue(admins.signatory_a.pk)}
    first = client.post(url, data)
    again = client.post(url, data, follow=True)

    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.secret in first.content.decode()
    assert endpoint.secret not in again.content.decode()
    assert "It was shown once, at that time, and cannot be shown again." in again.content.decode()


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hooks",  # loopback
        "https://localhost/hooks",
        "https://[::1]/hooks",
        "https://169.254.169.254/latest/meta-data/",  # the cloud's metadata service (link-local)
        "https://[fe80::1]/hooks",  # link-local IPv6
        "https://10.1.2.3/hooks",  # private
        "https://[64:ff9b::a9fe:a9fe]/hooks",  # 169.254.169.254 behind a NAT64 gateway
    ],
)
def test_a_private_local_or_metadata_address_is_refused_with_a_clear_sentence(admins, settings, url):
    # Production's rules: no network allowed beyond the public ones (the tests' receiver is not allowed here).
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    settings.WEBHOOK_REQUIRE_HTTPS = True
    before = snapshot()

    answer = client_of(admins.signatory_a).post(
        reverse("webhooks:endpoint_add", args=[admins.customer_a.pk]), {"url": url}
    )

    assert answer.status_code == 400
    assert "Webhooks cannot be sent to a private or local address" in answer.content.decode()
    assert snapshot() == before


def test_plain_http_is_refused_where_https_is_required(admins, settings):
    settings.WEBHOOK_REQUIRE_HTTPS = True
    before = snapshot()
    answer = client_of(admins.signatory_a).post(
        reverse("webhooks:endpoint_add", args=[admins.customer_a.pk]), {"url": "http://itsm.aarhus.example/hooks"}
    )
    assert answer.status_code == 400
    assert "A webhook URL must start with https://." in answer.content.decode()
    assert snapshot() == before


def test_the_address_rule_is_the_one_kmds_endpoints_follow(admins, settings, monkeypatch):
    """The same function decides (webhooks/transport.py url_problem), not a copy of it."""
    asked = []
    monkeypatch.setattr(webhooks.transport, "url_problem", lambda url: asked.append(url) or "Refused by the rule.")
    answer = client_of(admins.signatory_a).post(
        reverse("webhooks:endpoint_add", args=[admins.customer_a.pk]), {"url": "https://itsm.aarhus.example/"}
    )
    assert asked == ["https://itsm.aarhus.example/"]
    assert "Refused by the rule." in answer.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_a_customer_has_at_most_ten_endpoints(admins):
    for n in range(webhooks.CUSTOMER_ENDPOINTS_MAX - 1):
        WebhookEndpoint.objects.create(url=f"https://itsm.aarhus.example/{n}", customer=admins.customer_a)
    # KMD's own endpoints and another customer's do not count.
    WebhookEndpoint.objects.create(url="https://provisioning.kmd.example/")
    WebhookEndpoint.objects.create(url="https://itsm.odense.example/", customer=admins.customer_b)
    client = client_of(admins.signatory_a)
    url = reverse("webhooks:endpoint_add", args=[admins.customer_a.pk])

    tenth = client.post(url, {"url": "https://itsm.aarhus.example/tenth"})
    assert tenth.status_code == 200
    assert WebhookEndpoint.objects.filter(customer=admins.customer_a).count() == 10

    before = snapshot()
    eleventh = client.post(url, {"url": "https://itsm.aarhus.example/eleventh"})
    assert eleventh.status_code == 400
    assert "A customer can have at most 10 webhook endpoints." in eleventh.content.decode()
    assert snapshot() == before
    # The list no longer offers to add one.
    listing = client.get(reverse("webhooks:endpoint_list")).content.decode()
    assert url not in listing
    assert (
        reverse("webhooks:endpoint_add", args=[admins.customer_b.pk])
        in client_of(admins.signatory_b).get(reverse("webhooks:endpoint_list")).content.decode()
    )


def test_description_and_url_lengths_are_bounded_at_the_fields_limits(admins):
    client = client_of(admins.signatory_a)
    url = reverse("webhooks:endpoint_add", args=[admins.customer_a.pk])
    long_url = "https://itsm.aarhus.example/" + "a" * (500 - len("https://itsm.aarhus.example/"))
    assert client.post(url, {"url": long_url, "description": "d" * 200}).status_code == 200
    before = snapshot()
    assert client.post(url, {"url": long_url + "a"}).status_code == 400
    assert client.post(url, {"url": "https://itsm.aarhus.example/x", "description": "d" * 201}).status_code == 400
    assert snapshot() == before


# --- The test webhook ------------------------------------------------------------------------------------------


def test_a_test_webhook_goes_signed_to_that_endpoint_only_and_its_status_is_shown(
    admins, receiver, django_capture_on_commit_callbacks
):
    itsm = endpoint_of(admins.customer_a, receiver, "/itsm")
    other = endpoint_of(admins.customer_a, receiver, "/other")
    kmd = WebhookEndpoint.objects.create(url=receiver.url("/kmd"))
    receiver.listen("/kmd", kmd.secret)
    client = client_of(admins.signatory_a)

    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(reverse("webhooks:endpoint_test", args=[itsm.pk]))

    delivery = WebhookDelivery.objects.get()
    assert answer.status_code == 302
    assert answer["Location"] == reverse("webhooks:endpoint_detail", args=[itsm.pk]) + "#deliveries"
    [got] = receiver.at("/itsm")
    assert got.verified
    assert Webhook(itsm.secret).verify(got.body, got.headers) == got.payload
    event = AuditEvent.objects.get(kind=WebhookAuditKind.WEBHOOK_TEST_SENT)
    assert got.webhook_id == f"evt_{event.seq}" == delivery.webhook_id
    assert got.payload == {
        "type": "webhook.test",
        "timestamp": got.payload["timestamp"],
        "data": {
            "event": {"seq": event.seq, "kind": "webhook_test_sent", "occurred_at": got.payload["timestamp"]},
            "customer": {"cvr": admins.customer_a.cvr},
            "endpoint": {"id": itsm.pk, "url": itsm.url},
        },
    }
    assert receiver.at("/other") == [] and receiver.at("/kmd") == []
    assert not WebhookDelivery.objects.filter(endpoint__in=[other, kmd]).exists()
    assert (delivery.endpoint, delivery.status, delivery.attempts) == (itsm, "delivered", 1)
    assert (event.actor, event.actor_role) == (admins.signatory_a, "user_admin")

    page = client.get(answer["Location"]).content.decode()
    assert delivery.webhook_id in page
    assert "Delivered" in page and "HTTP 200" in page
    assert "Test webhook sent to the endpoint" in page


def test_a_test_webhook_the_receiver_refuses_shows_its_answer_and_is_tried_again(
    admins, receiver, django_capture_on_commit_callbacks
):
    itsm = endpoint_of(admins.customer_a, receiver, "/itsm", status=503, body=b"down for maintenance")
    client = client_of(admins.signatory_a)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("webhooks:endpoint_test", args=[itsm.pk]))

    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, 503)
    assert OutboxMessage.objects.filter(handler=webhooks.DELIVER, status="pending").count() == 1
    page = client.get(reverse("webhooks:endpoint_detail", args=[itsm.pk])).content.decode()
    assert "HTTP 503" in page and "down for maintenance" in page


def test_no_test_webhook_to_an_endpoint_kmd_deactivated(admins, receiver):
    itsm = endpoint_of(admins.customer_a, receiver, "/itsm")
    WebhookEndpoint.objects.filter(pk=itsm.pk).update(is_active=False)
    before = snapshot()
    client = client_of(admins.signatory_a)
    answer = client.post(reverse("webhooks:endpoint_test", args=[itsm.pk]), follow=True)
    assert "The endpoint is not active, so no test webhook can be sent to it." in answer.content.decode()
    assert snapshot() == before


# --- A new secret, and removing -----------------------------------------------------------------------------------


def test_a_new_secret_is_shown_once_and_signs_the_next_webhook(admins, receiver, django_capture_on_commit_callbacks):
    itsm = endpoint_of(admins.customer_a, receiver, "/itsm")
    old = itsm.secret
    client = client_of(admins.signatory_a)
    assert client.get(reverse("webhooks:endpoint_rotate", args=[itsm.pk])).status_code == 200

    answer = client.post(reverse("webhooks:endpoint_rotate", args=[itsm.pk]))

    itsm.refresh_from_db()
    assert itsm.secret != old
    assert itsm.secret in answer.content.decode()
    event = AuditEvent.objects.get(kind=WebhookAuditKind.WEBHOOK_SECRET_ROTATED)
    assert (event.actor, event.actor_role) == (admins.signatory_a, "user_admin")
    assert itsm.secret not in answer.content.decode().replace(itsm.secret, "", 1)  # shown once on the page
    receiver.listen("/itsm", itsm.secret)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("webhooks:endpoint_test", args=[itsm.pk]))
    [got] = receiver.at("/itsm")
    assert got.verified


def test_removing_an_endpoint_asks_first_then_cancels_what_waits_and_is_audited(admins, receiver):
    itsm = endpoint_of(admins.customer_a, receiver, "/itsm")
    client = client_of(admins.signatory_a)
    # A test webhook still waiting (its worker has not run): it will not be sent after the removal.
    client.post(reverse("webhooks:endpoint_test", args=[itsm.pk]))
    message = OutboxMessage.objects.get(handler=webhooks.DELIVER)
    confirm = client.get(reverse("webhooks:endpoint_remove", args=[itsm.pk]))
    assert confirm.status_code == 200
    assert WebhookEndpoint.objects.filter(pk=itsm.pk).exists()

    answer = client.post(reverse("webhooks:endpoint_remove", args=[itsm.pk]))

    assert answer.status_code == 302 and answer["Location"] == reverse("webhooks:endpoint_list")
    assert not WebhookEndpoint.objects.filter(pk=itsm.pk).exists()
    message.refresh_from_db()
    assert message.status == "cancelled"
    event = AuditEvent.objects.get(kind=WebhookAuditKind.WEBHOOK_ENDPOINT_REMOVED)
    assert (event.actor, event.actor_role, event.subject_id) == (admins.signatory_a, "user_admin", str(itsm.pk))
    assert event.params == {"webhook_url": itsm.url}


def test_a_remove_form_sent_twice_removes_once_and_answers_the_same(admins, receiver):
    itsm = endpoint_of(admins.customer_a, receiver, "/itsm")
    client = client_of(admins.signatory_a)
    data = {"form_token": form_token_issue(admins.signatory_a.pk)}
    first = client.post(reverse("webhooks:endpoint_remove", args=[itsm.pk]), data)
    again = client.post(reverse("webhooks:endpoint_remove", args=[itsm.pk]), data)
    assert first.status_code == again.status_code == 302
    assert first["Location"] == again["Location"] == reverse("webhooks:endpoint_list")
    assert AuditEvent.objects.filter(kind=WebhookAuditKind.WEBHOOK_ENDPOINT_REMOVED).count() == 1
    # A new form for the removed endpoint finds nothing.
    assert client.post(reverse("webhooks:endpoint_remove", args=[itsm.pk])).status_code == 404


# --- Who may: tenant isolation, roles, CSRF ------------------------------------------------------------------------


def test_a_user_administrator_never_reaches_another_customers_endpoints(admins, receiver):
    theirs = endpoint_of(admins.customer_b, receiver, "/odense")
    kmd = WebhookEndpoint.objects.create(url=receiver.url("/kmd"))
    client = client_of(admins.signatory_a)
    before = snapshot()

    for endpoint in (theirs, kmd):
        for name in ("endpoint_detail", "endpoint_rotate", "endpoint_remove"):
            assert client.get(reverse(f"webhooks:{name}", args=[endpoint.pk])).status_code == 404
        for name in ("endpoint_test", "endpoint_rotate", "endpoint_remove"):
            assert client.post(reverse(f"webhooks:{name}", args=[endpoint.pk])).status_code == 404
    add_for_b = reverse("webhooks:endpoint_add", args=[admins.customer_b.pk])
    assert client.get(add_for_b).status_code == 404
    assert client.post(add_for_b, {"url": "https://evil.example/"}).status_code == 404

    assert snapshot() == before
    assert receiver.received == []
    listing = client.get(reverse("webhooks:endpoint_list")).content.decode()
    assert theirs.url not in listing and admins.customer_b.name not in listing


def test_only_a_user_administrator_of_the_customer_manages_its_endpoints(admins, receiver):
    ours = endpoint_of(admins.customer_a, receiver, "/itsm")
    before = snapshot()
    # The orderer, the customer's account manager and support: the list is refused, the endpoint unknown.
    for someone in (admins.orderer_a, admins.am_a, admins.support, admins.outsider):
        client = client_of(someone)
        assert client.get(reverse("webhooks:endpoint_list")).status_code == 403
        assert client.get(reverse("webhooks:endpoint_detail", args=[ours.pk])).status_code == 404
        assert client.post(reverse("webhooks:endpoint_test", args=[ours.pk])).status_code == 404
        assert client.get(reverse("webhooks:endpoint_add", args=[admins.customer_a.pk])).status_code == 404
    # And the services refuse them too, whatever calls them.
    for someone in (admins.orderer_a, admins.signatory_b, admins.am_a):
        with pytest.raises(NotPermitted):
            webhooks.webhook_test_send(endpoint=ours, actor=someone)
        with pytest.raises(NotPermitted):
            webhooks.webhook_endpoint_rotate_secret(endpoint=ours, actor=someone)
        with pytest.raises(NotPermitted):
            webhooks.customer_webhook_endpoint_remove(endpoint=ours, actor=someone)
        with pytest.raises(NotPermitted):
            webhooks.customer_webhook_endpoint_add(
                customer=admins.customer_a, url="https://x.example/", description="", actor=someone
            )
    assert snapshot() == before
    # A former administrator loses it at once.
    CustomerMembership.objects.filter(user=admins.signatory_a).update(is_user_admin=False)
    assert client_of(admins.signatory_a).get(reverse("webhooks:endpoint_detail", args=[ours.pk])).status_code == 404


def test_a_user_administrator_of_two_customers_sees_both(admins):
    CustomerMembership.objects.create(user=admins.signatory_a, customer=admins.customer_b, is_user_admin=True)
    WebhookEndpoint.objects.create(url="https://itsm.odense.example/", customer=admins.customer_b)
    listing = client_of(admins.signatory_a).get(reverse("webhooks:endpoint_list")).content.decode()
    assert admins.customer_a.name in listing and "https://itsm.odense.example/" in listing


def test_the_forms_need_the_csrf_token(admins, receiver):
    itsm = endpoint_of(admins.customer_a, receiver, "/itsm")
    client = Client(enforce_csrf_checks=True)
    client.force_login(admins.signatory_a)
    before = snapshot()
    for url in (
        reverse("webhooks:endpoint_add", args=[admins.customer_a.pk]),
        reverse("webhooks:endpoint_test", args=[itsm.pk]),
        reverse("webhooks:endpoint_rotate", args=[itsm.pk]),
        reverse("webhooks:endpoint_remove", args=[itsm.pk]),
    ):
        assert client.post(url, {"url": "https://itsm.aarhus.example/"}).status_code == 403
    assert snapshot() == before


def test_the_menu_links_webhooks_for_user_administrators_only(admins):
    link = f'href="{reverse("webhooks:endpoint_list")}"'
    assert link in client_of(admins.signatory_a).get(reverse("home")).content.decode()
    assert link not in client_of(admins.orderer_a).get(reverse("home")).content.decode()


# --- Query counts ------------------------------------------------------------------------------------------------


def test_the_pages_query_the_same_however_many_endpoints_and_webhooks(
    admins, receiver, django_assert_num_queries, django_capture_on_commit_callbacks
):
    client = client_of(admins.signatory_a)
    itsm = endpoint_of(admins.customer_a, receiver, "/itsm")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("webhooks:endpoint_test", args=[itsm.pk]))
    listing, detail = reverse("webhooks:endpoint_list"), reverse("webhooks:endpoint_detail", args=[itsm.pk])
    client.get(listing), client.get(detail)  # the session and the user, as on every later request

    counts = {}
    for url in (listing, detail):
        with CaptureQueriesContext(connection) as captured:
            client.get(url)
        counts[url] = len(captured)

    for n in range(4):
        endpoint_of(admins.customer_a, receiver, f"/more-{n}")
        with django_capture_on_commit_callbacks(execute=True):
            client.post(reverse("webhooks:endpoint_test", args=[itsm.pk]))
    assert WebhookAttempt.objects.filter(delivery__endpoint=itsm).count() == 5
    for url in (listing, detail):
        with django_assert_num_queries(counts[url]):
            client.get(url)


def test_the_new_api_tokens_page_has_a_copy_button_with_a_live_region(admins):
    client = client_of(admins.orderer_a)
    last_day = (timezone.localdate() + datetime.timedelta(days=30)).isoformat()
    answer = client.post(reverse("accounts:profile"), {"name": "ITSM", "scopes": ["read"], "last_day": last_day})
    assert answer.status_code == 200 and "Your new API token" in answer.content.decode()
    html = answer.content.decode()
    assert 'data-copy-target="api-token-secret"' in html
    assert 'id="api-token-secret-copy-status" role="status" aria-live="polite"' in html
    assert "/static/js/copy.js" in html and "<script>" not in html
