"""Where a webhook may go, and sending one over HTTP(S).

An endpoint URL is typed by a person, and the server posts to it from inside KMD's network, so it must
not become a way into that network (server-side request forgery): webhooks go only to public addresses,
unless settings.WEBHOOK_ALLOWED_NETWORKS lists the network. A literal address is checked when the
endpoint is saved; a host name is checked when sending, on every address it resolves to, and the
connection goes to the very address that was checked, so the name cannot be re-pointed in between
(DNS rebinding).

The standard library's http.client rather than urllib: it follows no redirects (a 3xx is simply not a
2xx, so it is retried and never followed to somewhere else), and it lets us connect to a chosen address
while TLS still verifies the certificate for the host name.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# What is read of a receiver's answer: enough to show support what it said, never more.
READ_LIMIT = 4096
USER_AGENT = "Opus-Adgang-Webhooks/1"


class Refused(Exception):
    """The URL, or an address its host resolves to, is not one webhooks may go to."""


@dataclass(frozen=True)
class Answer:
    status: int
    excerpt: str  # the start of the body, at most READ_LIMIT bytes


# IPv6 addresses that stand for an IPv4 address: a packet to one ends up at the IPv4 address inside it, through
# the host's own stack or through a gateway or relay on the way. Such an address is only as public as the IPv4
# address it carries, whatever the IPv6 prefix itself is.
_NAT64_WELL_KNOWN = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052: the IPv4 address is the last 32 bits
_NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")  # RFC 8215: the network chooses its prefix length
_NAT64_RESERVED = ipaddress.IPv6Network("64:ff9b::/32")  # around both: reserved, no layout to read
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")  # RFC 4291, deprecated: ::a.b.c.d
_IPV4_TRANSLATED = ipaddress.IPv6Network("::ffff:0:0:0/96")  # RFC 2765 (SIIT): ::ffff:0:a.b.c.d
_MIDDLE_BITS = ((1 << 48) - 1) << 32  # bits 48-95: between the /48 prefix and the last 32 bits


def _last_32_bits(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address:
    return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)


def embedded_ipv4(ip: ipaddress.IPv6Address) -> tuple[ipaddress.IPv4Address, ...] | None:
    """The IPv4 addresses an IPv6 address leads to: () for a plain IPv6 address.

    None for an address in a NAT64 prefix whose IPv4 address cannot be read off: in
    64:ff9b:1::/48 the network picks the prefix length, so only with bits 48-95 all zero is the IPv4
    address certainly the last 32 bits (the other layouts of RFC 6052 would then lead to 0.0.0.0/8).
    """
    if ip.ipv4_mapped is not None:
        return (ip.ipv4_mapped,)
    if ip.sixtofour is not None:
        return (ip.sixtofour,)
    if ip.teredo is not None:
        return ip.teredo  # (server, client): the relay goes to both
    if ip in _NAT64_WELL_KNOWN:
        return (_last_32_bits(ip),)
    if ip in _NAT64_LOCAL:
        if int(ip) & _MIDDLE_BITS:
            return None
        return (_last_32_bits(ip),)
    if ip in _NAT64_RESERVED:
        return None
    if ip in _IPV4_COMPATIBLE or ip in _IPV4_TRANSLATED:
        return (_last_32_bits(ip),)
    return ()


def _allowed(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    for network in settings.WEBHOOK_ALLOWED_NETWORKS:
        if ip in ipaddress.ip_network(network, strict=False):
            return True
    return ip.is_global and not ip.is_multicast


def address_allowed(address: str) -> bool:
    """Public unicast addresses, and those in settings.WEBHOOK_ALLOWED_NETWORKS.

    An IPv6 address that carries an IPv4 address (NAT64, 6to4, Teredo, IPv4-compatible or -translated)
    is allowed only when both are: 64:ff9b::a9fe:a9fe is public IPv6, and a NAT64 gateway takes it to
    169.254.169.254. An IPv4-mapped address (::ffff:10.0.0.1) is the IPv4 address itself, so only that
    one is checked.
    """
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv4Address):
        return _allowed(ip)
    inner = embedded_ipv4(ip)
    if inner is None:
        return False  # where it leads cannot be told, so it cannot be shown to be public
    outer = () if ip.ipv4_mapped is not None else (ip,)
    return all(_allowed(each) for each in (*outer, *inner))


def url_problem(url: str) -> str | None:
    """Why this URL cannot be a webhook endpoint, in a sentence; None when it can."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return _("The URL is not valid. Write it as https://host/path.")
    if parts.scheme not in ("https", "http") or (parts.scheme == "http" and settings.WEBHOOK_REQUIRE_HTTPS):
        return _("A webhook URL must start with https://.")
    if parts.username or parts.password:
        return _("A webhook URL cannot contain a user name or password; the signature shows who sent the webhook.")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        return _("The URL has no host name. Write it as https://host/path.")
    if port == 0:
        return _("The URL is not valid. Write it as https://host/path.")
    if host == "localhost" or host.endswith(".localhost"):
        host = "127.0.0.1"
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None  # a name: its addresses are checked when sending, since they may change
    if not address_allowed(host):
        return _(
            "Webhooks cannot be sent to a private or local address (%(host)s). Use the receiver's public address."
        ) % {"host": parts.hostname}
    return None


def validate_endpoint_url(url: str) -> None:
    problem = url_problem(url)
    if problem:
        raise ValidationError(problem, code="webhook_url")


def _resolve(host: str, port: int) -> str:
    """The address to connect to; every address the name has must be allowed, or none is used."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise Refused(f"{host} could not be resolved: {error}") from error
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    refused = [address for address in addresses if not address_allowed(address)]
    if refused or not addresses:
        raise Refused(f"{host} resolves to an address webhooks may not go to: {', '.join(refused) or 'none'}")
    return addresses[0]


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the address that was checked, whatever the name resolves to now."""

    def __init__(self, host: str, port: int, *, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, *, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self.address = address

    def connect(self) -> None:
        sock = socket.create_connection((self.address, self.port), self.timeout)
        # The certificate is verified for the host name in the URL, not for the address.
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def _left(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError(f"no answer within {settings.WEBHOOK_TIMEOUT_SECONDS} s")
    return left


def post(url: str, body: bytes, headers: dict[str, str]) -> Answer:
    """POST `body` once: connect within WEBHOOK_CONNECT_TIMEOUT_SECONDS, all of it within WEBHOOK_TIMEOUT_SECONDS.

    Raises Refused for a URL or address not allowed, OSError (timeouts included) and
    http.client.HTTPException for a receiver that cannot be reached or answers nonsense.
    """
    problem = url_problem(url)
    if problem:
        raise Refused(problem)
    deadline = time.monotonic() + settings.WEBHOOK_TIMEOUT_SECONDS
    parts = urlsplit(url)
    secure = parts.scheme == "https"
    port = parts.port or (443 if secure else 80)
    address = _resolve(parts.hostname, port)
    connection_class = _PinnedHTTPSConnection if secure else _PinnedHTTPConnection
    connection = connection_class(
        parts.hostname, port, address=address, timeout=min(settings.WEBHOOK_CONNECT_TIMEOUT_SECONDS, _left(deadline))
    )
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.connect()
        connection.sock.settimeout(_left(deadline))
        connection.request("POST", target, body=body, headers={**headers, "User-Agent": USER_AGENT})
        response = connection.getresponse()
        if connection.sock is not None:  # None once the answer said "Connection: close"; its timeout still holds
            connection.sock.settimeout(_left(deadline))
        excerpt = response.read(READ_LIMIT)
        return Answer(response.status, excerpt.decode("utf-8", errors="replace"))
    finally:
        connection.close()
