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


# IPv6 addresses that lead to an IPv4 address that is not public: a NAT64 gateway, a 6to4 or Teredo relay or the
# host's own stack takes the packets there.
EMBEDDING_A_PRIVATE_IPV4 = [
    "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254, the cloud metadata address
    "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
    "64:ff9b:1::7f00:1",  # local-use NAT64 (RFC 8215) of 127.0.0.1
    "64:ff9b:1:ab::808:808",  # local-use NAT64 with a longer prefix: where the IPv4 address sits cannot be told
    "64:ff9b:0:1::808:808",  # reserved space beside the NAT64 prefix: no layout to read an IPv4 address from
    "2002:7f00:1::1",  # 6to4 of 127.0.0.1
    "2002:a00:1::1",  # 6to4 of 10.0.0.1
    "2001:0:5db8:d70e:0:f227:f5ff:fffe",  # Teredo: public server 93.184.215.14, client 10.0.0.1
    "2001:0:a00:1:0:f227:a247:28f1",  # Teredo: server 10.0.0.1, public client 93.184.215.14 (port 3544)
    "::127.0.0.1",  # IPv4-compatible
    "::a9fe:a9fe",  # IPv4-compatible 169.254.169.254
    "::ffff:0:7f00:1",  # IPv4-translated 127.0.0.1
    "::ffff:0:a00:1",  # IPv4-translated 10.0.0.1
]
PUBLIC_IPV6 = [
    "2606:4700:4700::1111",
    "2001:4860:4860::8888",
    "2a00:1450:4001:80b::200e",
    "64:ff9b::5db8:d70e",  # NAT64 of the public 93.184.215.14
]


def resolving_to(address):
    """getaddrinfo as the host name's resolver would answer with one IPv6 address."""
    return lambda host, port, **kw: [(socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port, 0, 0))]


@pytest.mark.parametrize("address", EMBEDDING_A_PRIVATE_IPV4)
def test_an_ipv6_address_that_carries_a_private_ipv4_address_is_refused_when_the_endpoint_is_saved(
    production, db, address
):
    url = f"https://[{address}]/hooks"
    assert not transport.address_allowed(address)
    assert transport.url_problem(url)
    with pytest.raises(ValidationError):
        WebhookEndpoint(url=url).full_clean()


@pytest.mark.parametrize("address", EMBEDDING_A_PRIVATE_IPV4)
def test_a_name_that_resolves_to_an_ipv6_address_carrying_a_private_ipv4_is_refused_when_sending(
    production, monkeypatch, address
):
    connected = []
    monkeypatch.setattr(socket, "getaddrinfo", resolving_to(address))
    monkeypatch.setattr(socket, "create_connection", lambda *a, **kw: connected.append(a))
    with pytest.raises(transport.Refused, match="resolves to an address webhooks may not go to"):
        transport.post("https://itsm.example.com/hooks", b"{}", {})
    assert connected == []


@pytest.mark.parametrize("address", PUBLIC_IPV6)
def test_a_public_ipv6_address_is_accepted_when_saved_and_connected_to_when_sending(
    production, db, monkeypatch, address
):
    url = f"https://[{address}]/hooks"
    assert transport.url_problem(url) is None
    WebhookEndpoint(url=url).full_clean()

    connected = []

    def connect(address_and_port, *args, **kwargs):
        connected.append(address_and_port)
        raise ConnectionRefusedError("the test stops here")

    monkeypatch.setattr(socket, "getaddrinfo", resolving_to(address))
    monkeypatch.setattr(socket, "create_connection", connect)
    with pytest.raises(ConnectionRefusedError):
        transport.post("https://itsm.example.com/hooks", b"{}", {})
    assert connected == [(address, 443)]


def test_an_allowed_network_still_allows_its_addresses_however_they_are_written(settings):
    settings.WEBHOOK_REQUIRE_HTTPS = True
    settings.WEBHOOK_ALLOWED_NETWORKS = ["10.20.0.0/16"]
    for allowed in ("10.20.3.4", "::ffff:10.20.3.4", "64:ff9b::a14:304", "::ffff:0:a14:304"):
        assert transport.address_allowed(allowed), allowed
        assert transport.url_problem(f"https://[{allowed}]/" if ":" in allowed else f"https://{allowed}/") is None
    for refused in ("10.21.3.4", "::ffff:10.21.3.4", "64:ff9b::a15:304", "2002:a15:304::1", "64:ff9b::a9fe:a9fe"):
        assert not transport.address_allowed(refused), refused
