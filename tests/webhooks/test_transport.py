"""Sending one webhook (webhooks/transport.py): the port, the request line, one deadline for the whole
request, what is kept of the answer, and the URLs refused before anything connects. No database: the
"receiver" is one end of a socket pair with its answer already written."""

import dataclasses
import socket

import pytest
from django.utils import translation

from webhooks import transport


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def production(settings):
    settings.WEBHOOK_REQUIRE_HTTPS = True
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    settings.WEBHOOK_CONNECT_TIMEOUT_SECONDS = 5
    settings.WEBHOOK_TIMEOUT_SECONDS = 10


class Clock:
    """time.monotonic() for transport only, moved by the test (and by a slow connect)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


class RecordingSocket(socket.socket):
    """Our end of the socket pair, recording each timeout the sender sets and what it sends."""

    timeouts: list[float]
    sent: list[bytes]

    def settimeout(self, value):
        self.timeouts.append(value)
        super().settimeout(value)

    def sendall(self, data, *args):
        self.sent.append(bytes(data))
        return super().sendall(data, *args)


class Peer:
    """What the sender connected to: where, with which timeout, and what it wrote."""

    def __init__(self, monkeypatch, answer: bytes, *, resolves_to=("93.184.215.14",), connect_takes=0.0) -> None:
        self.clock = Clock()
        self.resolved: list[tuple[str, int]] = []
        self.connected: list[tuple[tuple[str, int], float]] = []
        self.answer = answer
        self.sock: RecordingSocket | None = None
        self.far: socket.socket | None = None

        def getaddrinfo(host, port, **kwargs):
            self.resolved.append((host, port))
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in resolves_to]

        def create_connection(address, timeout):
            self.connected.append((address, timeout))
            self.clock.now += connect_takes
            near, self.far = socket.socketpair()
            self.far.sendall(self.answer)
            self.sock = RecordingSocket(fileno=near.detach())
            self.sock.timeouts, self.sock.sent = [], []
            return self.sock

        monkeypatch.setattr(transport, "time", self.clock)
        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
        monkeypatch.setattr(socket, "create_connection", create_connection)

    def request(self) -> bytes:
        self.far.settimeout(1)
        return self.far.recv(65536)


def ok(body: bytes = b"ok", *, close: bool = False) -> bytes:
    connection = b"Connection: close\r\n" if close else b""
    return b"HTTP/1.1 200 OK\r\n" + connection + b"Content-Length: %d\r\n\r\n" % len(body) + body


def test_plain_http_goes_to_port_80_by_default(settings, monkeypatch):
    settings.WEBHOOK_REQUIRE_HTTPS = False
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    peer = Peer(monkeypatch, ok())

    answer = transport.post("http://itsm.example.com/hooks", b"{}", {})

    assert answer == transport.Answer(200, "ok")
    assert peer.resolved == [("itsm.example.com", 80)]
    assert [address for address, _ in peer.connected] == [("93.184.215.14", 80)]


@pytest.mark.parametrize(
    ("url", "port"), [("https://itsm.example.com/hooks", 443), ("https://itsm.example.com:8443/", 8443)]
)
def test_https_goes_to_port_443_unless_the_url_names_one(production, monkeypatch, url, port):
    connected = []

    def connect(address, timeout):
        connected.append(address)
        raise ConnectionRefusedError("the test stops before TLS")

    monkeypatch.setattr(
        socket, "getaddrinfo", lambda host, p, **kw: [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", p))]
    )
    monkeypatch.setattr(socket, "create_connection", connect)

    with pytest.raises(ConnectionRefusedError):
        transport.post(url, b"{}", {})

    assert connected == [("93.184.215.14", port)]


@pytest.mark.parametrize(
    ("url", "request_line"),
    [
        ("http://itsm.example.com", b"POST / HTTP/1.1"),
        ("http://itsm.example.com/hooks", b"POST /hooks HTTP/1.1"),
        ("http://itsm.example.com/hooks?tenant=a&x=1", b"POST /hooks?tenant=a&x=1 HTTP/1.1"),
    ],
)
def test_the_request_posts_the_body_to_the_urls_path_and_query_naming_its_sender(
    settings, monkeypatch, url, request_line
):
    settings.WEBHOOK_REQUIRE_HTTPS = False
    peer = Peer(monkeypatch, ok())

    transport.post(url, b'{"n":1}', {"webhook-id": "msg_1"})

    sent = peer.request()
    assert sent.split(b"\r\n")[0] == request_line
    assert b"\r\nUser-Agent: Opus-Adgang-Webhooks/1\r\n" in sent and b"\r\nwebhook-id: msg_1\r\n" in sent
    assert sent.endswith(b'\r\n\r\n{"n":1}')


def test_connecting_sending_and_reading_share_one_deadline(settings, monkeypatch):
    settings.WEBHOOK_REQUIRE_HTTPS = False
    settings.WEBHOOK_CONNECT_TIMEOUT_SECONDS = 5
    settings.WEBHOOK_TIMEOUT_SECONDS = 10
    peer = Peer(monkeypatch, ok(), connect_takes=4)

    transport.post("http://itsm.example.com/hooks", b"{}", {})

    assert [timeout for _, timeout in peer.connected] == [5]  # connecting: the connect timeout, within the 10 s
    assert peer.sock.timeouts == [6, 6]  # what is left of the 10 s after a 4 s connect, for sending and for reading


def test_the_connect_timeout_is_cut_to_the_whole_requests_timeout(settings, monkeypatch):
    settings.WEBHOOK_REQUIRE_HTTPS = False
    settings.WEBHOOK_CONNECT_TIMEOUT_SECONDS = 5
    settings.WEBHOOK_TIMEOUT_SECONDS = 3
    peer = Peer(monkeypatch, ok())

    transport.post("http://itsm.example.com/hooks", b"{}", {})

    assert [timeout for _, timeout in peer.connected] == [3]


@pytest.mark.parametrize(("connect_takes", "left"), [(9.5, 0.5), (9.999, 0.001)])
def test_a_request_with_time_left_goes_on(settings, monkeypatch, connect_takes, left):
    settings.WEBHOOK_REQUIRE_HTTPS = False
    settings.WEBHOOK_TIMEOUT_SECONDS = 10
    peer = Peer(monkeypatch, ok(), connect_takes=connect_takes)

    assert transport.post("http://itsm.example.com/hooks", b"{}", {}).status == 200
    assert peer.sock.timeouts[0] == pytest.approx(left)


@pytest.mark.parametrize("connect_takes", [10, 11])
def test_a_request_whose_deadline_has_come_stops_without_sending(settings, monkeypatch, connect_takes):
    settings.WEBHOOK_REQUIRE_HTTPS = False
    settings.WEBHOOK_TIMEOUT_SECONDS = 10
    peer = Peer(monkeypatch, ok(), connect_takes=connect_takes)

    with pytest.raises(TimeoutError, match="no answer within 10 s"):
        transport.post("http://itsm.example.com/hooks", b"{}", {})

    assert (peer.sock.timeouts, peer.sock.sent) == ([], [])


def test_an_answer_that_closes_the_connection_is_still_read(settings, monkeypatch):
    settings.WEBHOOK_REQUIRE_HTTPS = False
    peer = Peer(monkeypatch, ok(b"received", close=True))

    assert transport.post("http://itsm.example.com/hooks", b"{}", {}) == transport.Answer(200, "received")
    assert len(peer.sock.timeouts) == 1  # the socket is gone once the answer said "Connection: close"


@pytest.mark.parametrize(("size", "kept"), [(4095, 4095), (4096, 4096), (4097, 4096)])
def test_at_most_4096_bytes_of_the_answer_are_kept(settings, monkeypatch, size, kept):
    settings.WEBHOOK_REQUIRE_HTTPS = False
    Peer(monkeypatch, ok(b"x" * size))

    assert transport.post("http://itsm.example.com/hooks", b"{}", {}).excerpt == "x" * kept


def test_an_answer_that_is_not_utf8_is_kept_readable(settings, monkeypatch):
    settings.WEBHOOK_REQUIRE_HTTPS = False
    Peer(monkeypatch, ok(b"fejl \xe6"))

    assert transport.post("http://itsm.example.com/hooks", b"{}", {}).excerpt == "fejl \ufffd"


def test_every_address_the_name_has_must_be_allowed_and_the_first_is_used(production, monkeypatch):
    peer_addresses = ("93.184.215.14", "93.184.215.15", "93.184.215.14")
    Peer(monkeypatch, ok(), resolves_to=peer_addresses)

    assert transport._resolve("itsm.example.com", 443) == "93.184.215.14"


def test_a_name_without_addresses_is_refused(production, monkeypatch):
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, port, **kw: [])

    with pytest.raises(transport.Refused, match="resolves to an address webhooks may not go to: none"):
        transport.post("https://itsm.example.com/hooks", b"{}", {})


def test_a_name_that_does_not_resolve_is_refused_naming_it(production, monkeypatch):
    def unknown(host, port, **kw):
        raise socket.gaierror(-2, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", unknown)

    with pytest.raises(transport.Refused, match="^itsm.example.com could not be resolved"):
        transport.post("https://itsm.example.com/hooks", b"{}", {})


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("https://hook@itsm.example.com/hooks", "cannot contain a user name or password"),  # a user name only
        ("https://:secret@itsm.example.com/hooks", "cannot contain a user name or password"),  # a password only
        ("https://itsm.example.com:0/hooks", "The URL is not valid"),
        ("https://itsm.example.com:65536/hooks", "The URL is not valid"),
        ("https://itsm.example.com:port/hooks", "The URL is not valid"),
        ("https://localhost./hooks", "private or local address (localhost.)"),
        ("https://10.0.0.1./hooks", "private or local address (10.0.0.1.)"),
        ("https://[fe80::1%25eth0]/hooks", "private or local address"),
        ("https://10.0.0.1%25eth0/hooks", "private or local address"),  # a zone does not make it a name
        ("https:/hooks", "The URL has no host name"),
    ],
)
def test_a_url_is_refused_with_a_sentence_saying_why(production, url, problem):
    assert problem in transport.url_problem(url)


@pytest.mark.parametrize("url", ["https://itsm.example.com:1/hooks", "https://itsm.example.com:65535/hooks"])
def test_any_port_from_1_to_65535_is_accepted(production, url):
    assert transport.url_problem(url) is None


def test_plain_http_is_accepted_only_where_https_is_not_required(settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    settings.WEBHOOK_REQUIRE_HTTPS = False
    assert transport.url_problem("http://itsm.example.com/hooks") is None
    assert transport.url_problem("https://itsm.example.com/hooks") is None
    assert "must start with https://" in transport.url_problem("ftp://itsm.example.com/hooks")
    settings.WEBHOOK_REQUIRE_HTTPS = True
    assert "must start with https://" in transport.url_problem("http://itsm.example.com/hooks")


def test_a_refused_url_is_refused_when_sending_too_and_nothing_is_resolved(production, monkeypatch):
    resolved = []
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **kw: resolved.append(a) or [])

    with pytest.raises(transport.Refused, match="cannot contain a user name"):
        transport.post("https://hook@itsm.example.com/hooks", b"{}", {})

    assert resolved == []


# Local-use NAT64 (RFC 8215, 64:ff9b:1::/48): the IPv4 address is certainly the last 32 bits only when bits
# 48-95 (counted from the left) are zero. The first and the last of those bits each make it unreadable.
@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("64:ff9b:1::9765:101", True),  # 151.101.1.1: public, and its first bit is set
        ("64:ff9b:1::5db8:d70e", True),  # 93.184.215.14
        ("64:ff9b:1:8000::9765:101", False),  # bit 48 set
        ("64:ff9b:1:0:0:1:9765:101", False),  # bit 95 set
        ("64:ff9b:1::a00:1", False),  # 10.0.0.1
    ],
)
def test_a_local_use_nat64_address_is_allowed_only_when_its_ipv4_address_can_be_read_and_is_public(
    production, address, allowed
):
    assert transport.address_allowed(address) is allowed


def test_the_ipv4_address_an_ipv6_address_carries_is_read_to_its_last_bit(settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = ["10.20.3.5/32"]
    for carrying_10_20_3_5 in ("64:ff9b::a14:305", "::ffff:0:a14:305", "::a14:305"):
        assert transport.address_allowed(carrying_10_20_3_5), carrying_10_20_3_5
    for carrying_10_20_3_4 in ("64:ff9b::a14:304", "::ffff:0:a14:304", "::a14:304"):
        assert not transport.address_allowed(carrying_10_20_3_4), carrying_10_20_3_4


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("2002:5db8:d70e::1", True),  # 6to4 of 93.184.215.14
        ("2002:a00:1::1", False),  # 6to4 of 10.0.0.1
    ],
)
def test_a_6to4_address_is_as_public_as_the_ipv4_address_it_carries(production, address, allowed):
    assert transport.address_allowed(address) is allowed


def test_a_teredo_address_the_setting_allows_needs_a_public_server_and_client(settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = ["2001::/32"]  # Teredo's own prefix is not public: only a setting allows it
    assert transport.address_allowed("2001:0:5db8:d70e::689a:fefe")  # server 93.184.215.14, client 151.101.1.1
    assert not transport.address_allowed("2001:0:5db8:d70e::f5ff:fffe")  # client 10.0.0.1


def test_an_allowed_network_may_be_written_with_its_host_bits_set(settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = ["10.20.3.4/16"]  # as an operator may paste it: 10.20.0.0/16
    assert transport.address_allowed("10.20.9.9")
    assert not transport.address_allowed("10.21.9.9")


def test_an_answer_cannot_be_changed_once_received():
    answer = transport.Answer(200, "ok")
    with pytest.raises(dataclasses.FrozenInstanceError):
        answer.status = 500
