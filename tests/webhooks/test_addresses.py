"""Webhooks go to public HTTPS addresses only: an endpoint URL must not reach into KMD's network (SSRF)."""

import socket

import pytest
from django.core.exceptions import ValidationError

from webhooks import transport
from webhooks.models import WebhookEndpoint


@pytest.fixture
def production(settings):
    settings.WEBHOOK_REQUIRE_HTTPS = True
    settings.WEBHOOK_ALLOWED_NETWORKS = []


@pytest.mark.parametrize(
    "url",
    [
        "http://itsm.example.com/hooks",  # plain HTTP
        "ftp://itsm.example.com/hooks",
        "https://127.0.0.1/hooks",
        "https://localhost:8443/hooks",
        "https://api.localhost/hooks",
        "https://10.1.2.3/hooks",
        "https://172.16.0.1/hooks",
        "https://192.168.1.1/hooks",
        "https://169.254.169.254/latest/meta-data/",  # cloud metadata
        "https://100.64.0.1/hooks",  # carrier-grade NAT
        "https://0.0.0.0/hooks",
        "https://[::1]/hooks",
        "https://[fe80::1]/hooks",
        "https://[fd00::1]/hooks",
        "https://[::ffff:10.0.0.1]/hooks",  # IPv4-mapped private address
        "https://224.0.0.1/hooks",
        "https://user:password@itsm.example.com/hooks",
        "https:///hooks",
    ],
)
def test_an_endpoint_url_to_a_private_local_or_plain_address_is_refused(production, db, url):
    assert transport.url_problem(url)
    with pytest.raises(ValidationError):
        WebhookEndpoint(url=url).full_clean()


@pytest.mark.parametrize("url", ["https://itsm.example.com/hooks", "https://93.184.215.14:8443/a?b=c"])
def test_a_public_https_url_is_accepted(production, db, url):
    assert transport.url_problem(url) is None
    WebhookEndpoint(url=url).full_clean()


def test_a_network_the_setting_allows_is_accepted(settings):
    settings.WEBHOOK_REQUIRE_HTTPS = True
    settings.WEBHOOK_ALLOWED_NETWORKS = ["10.20.0.0/16"]
    assert transport.url_problem("https://10.20.3.4/provisioning") is None
    assert transport.url_problem("https://10.21.3.4/provisioning")


def test_a_name_that_resolves_to_a_private_address_is_refused_when_sending_and_nothing_connects(
    production, monkeypatch
):
    def resolves_to(*addresses):
        return lambda host, port, **kw: [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in addresses]

    connected = []
    monkeypatch.setattr(socket, "create_connection", lambda *a, **kw: connected.append(a))
    for addresses in (["10.0.0.5"], ["93.184.215.14", "127.0.0.1"]):  # rebinding: one public, one local
        monkeypatch.setattr(socket, "getaddrinfo", resolves_to(*addresses))
        with pytest.raises(transport.Refused):
            transport.post("https://itsm.example.com/hooks", b"{}", {})
    assert connected == []


def test_a_refused_address_is_a_failed_attempt_recorded_for_the_delivery(
    cast, production, monkeypatch, django_capture_on_commit_callbacks
):
    from tests.conftest import make_order
    from webhooks.models import WebhookDelivery

    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda host, port, **kw: [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.5", port))],
    )
    itsm = WebhookEndpoint.objects.create(url="https://itsm.example.com/hooks", customer=cast.customer_a)
    with django_capture_on_commit_callbacks(execute=True):
        make_order(cast, "draft")
    delivery = WebhookDelivery.objects.get(endpoint=itsm)
    assert delivery.status == "pending"
    assert delivery.last_error.startswith("Refused: itsm.example.com resolves to an address webhooks may not go to")
