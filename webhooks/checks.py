"""`manage.py check`: every allowed network is a network; `--deploy`: nothing opens webhooks up in production.

The allowance (settings.WEBHOOK_ALLOWED_NETWORKS, webhooks/transport.py) exists for one receiver's network
inside a private range, e.g. KMD's provisioning at 10.20.0.0/16. Listing public addresses changes nothing
(they are allowed anyway); what weakens the protection against server-side request forgery is a network
that reaches this very machine or the cloud's metadata service, or one that opens a whole private range.
"""

import ipaddress

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# Addresses that are never a receiver: a webhook to one reaches the server itself or its cloud's instance
# metadata (credentials). 0.0.0.0 connects to the local host on Linux; fd00:ec2::254 is AWS's IPv6 metadata.
_THIS_MACHINE = tuple(
    ipaddress.ip_network(cidr)
    for cidr in ("0.0.0.0/8", "127.0.0.0/8", "169.254.0.0/16", "::/128", "::1/128", "fe80::/10", "fd00:ec2::254/128")
)
# Private-use ranges (RFC 1918, RFC 6598's shared address space, RFC 4193's unique local addresses): a network
# that contains one of them whole opens every host in it, not one receiver's network.
_PRIVATE_RANGES = tuple(
    ipaddress.ip_network(cidr)
    for cidr in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7")
)


def _listed_networks() -> tuple[list[tuple[str, Network]], list[str]]:
    """The listed networks parsed as transport.py parses them (host bits ignored), and the entries that are not."""
    networks, malformed = [], []
    for text in settings.WEBHOOK_ALLOWED_NETWORKS:
        try:
            networks.append((text, ipaddress.ip_network(text, strict=False)))
        except ValueError:
            malformed.append(text)
    return networks, malformed


@register(Tags.security)
def allowed_networks_are_networks(app_configs, **kwargs) -> list[Error]:
    _networks, malformed = _listed_networks()
    return [
        Error(
            f"WEBHOOK_ALLOWED_NETWORKS lists {text!r}, which is not a network: sending any webhook fails while it "
            "is listed.",
            hint="Write each network in CIDR notation, comma-separated, e.g. 10.20.0.0/16.",
            id="webhooks.E001",
        )
        for text in malformed
    ]


@register(Tags.security, deploy=True)
def webhooks_in_production(app_configs, **kwargs) -> list[Warning]:
    problems = []
    networks, _malformed = _listed_networks()
    for text, network in networks:
        reached = [str(r) for r in _THIS_MACHINE if r.version == network.version and network.overlaps(r)]
        if reached:
            problems.append(
                Warning(
                    f"WEBHOOK_ALLOWED_NETWORKS lists {text}, which lets webhooks reach this machine or its cloud's "
                    f"metadata service ({', '.join(reached)}): an endpoint URL could then read what only the server "
                    "should.",
                    hint="List only the receiver's own network, e.g. 10.20.0.0/16; loopback is for a developer's "
                    "machine (DJANGO_DEBUG=1).",
                    id="webhooks.W001",
                )
            )
        opened = [str(r) for r in _PRIVATE_RANGES if r.version == network.version and network.supernet_of(r)]
        if opened:
            problems.append(
                Warning(
                    f"WEBHOOK_ALLOWED_NETWORKS lists {text}, which opens the whole private range "
                    f"{', '.join(opened)} to webhooks: every host in it becomes reachable from an endpoint URL.",
                    hint="List only the receiver's own network inside that range, e.g. 10.20.0.0/16.",
                    id="webhooks.W002",
                )
            )
    if not settings.WEBHOOK_REQUIRE_HTTPS and not settings.DEBUG:
        problems.append(
            Warning(
                "WEBHOOK_REQUIRE_HTTPS is off outside debug: webhook endpoints on plain http are accepted, so a "
                "webhook's content can be read and its endpoint impersonated on the way.",
                hint="Leave WEBHOOK_REQUIRE_HTTPS unset (on); plain http is for a developer's machine (DJANGO_DEBUG=1).",
                id="webhooks.W003",
            )
        )
    return problems
