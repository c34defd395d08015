"""`check --deploy` names every setting that weakens a protection outside debug, and every key of the wrong form.

Run in this process with the settings overridden; tests/security/test_deploy.py runs `manage.py check --deploy`
itself with the documented production environment.
"""

import base64
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.core.checks import run_checks
from django.test.utils import override_settings

# What the settings say in production when nothing weakens them.
SAFE = {
    "DEBUG": False,
    "WEBHOOK_ALLOWED_NETWORKS": [],
    "WEBHOOK_REQUIRE_HTTPS": True,
}


def deploy_check_ids(**changes) -> list[str]:
    with override_settings(**{**SAFE, **changes}):
        return [message.id for message in run_checks(include_deployment_checks=True)]


def test_the_safe_settings_raise_none_of_the_projects_warnings():
    ids = deploy_check_ids()
    assert not [each for each in ids if each.startswith("webhooks.")]


# webhooks.W001: a listed network reaches this machine (loopback, 0.0.0.0/8) or the cloud's metadata (link-local).
@pytest.mark.parametrize(
    "network",
    [
        "0.0.0.0/0",
        "::/0",
        "0.0.0.0/1",
        "128.0.0.0/1",  # holds 169.254.0.0/16
        "127.0.0.1/32",
        "127.255.255.255/32",
        "0.0.0.0/32",
        "169.254.169.254/32",
        "169.254.0.0/16",
        "::1/128",
        "fe80::/10",
        "fd00:ec2::254/128",
    ],
)
def test_an_allowed_network_reaching_this_machine_or_the_metadata_service_is_warned_about(network):
    assert "webhooks.W001" in deploy_check_ids(WEBHOOK_ALLOWED_NETWORKS=[network])


@pytest.mark.parametrize(
    "network",
    ["10.20.0.0/16", "126.255.255.255/32", "128.0.0.0/32", "1.0.0.0/8", "169.253.255.255/32", "169.255.0.0/32"],
)
def test_a_network_just_beside_this_machine_and_the_metadata_service_is_not_warned_about(network):
    assert "webhooks.W001" not in deploy_check_ids(WEBHOOK_ALLOWED_NETWORKS=[network])


# webhooks.W002: a listed network holds a whole private range, rather than one receiver's network inside it.
@pytest.mark.parametrize(
    "network",
    ["0.0.0.0/0", "::/0", "10.0.0.0/8", "10.0.0.0/7", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7"],
)
def test_an_allowed_network_holding_a_whole_private_range_is_warned_about(network):
    assert "webhooks.W002" in deploy_check_ids(WEBHOOK_ALLOWED_NETWORKS=[network])


@pytest.mark.parametrize(
    "network",
    ["10.0.0.0/9", "10.128.0.0/9", "10.20.0.0/16", "172.16.0.0/13", "192.168.0.0/17", "fd12:3456::/32", "fc00::/8"],
)
def test_part_of_a_private_range_is_not_warned_about(network):
    assert "webhooks.W002" not in deploy_check_ids(WEBHOOK_ALLOWED_NETWORKS=[network])


def test_each_listed_network_is_judged_on_its_own():
    ids = deploy_check_ids(WEBHOOK_ALLOWED_NETWORKS=["10.20.0.0/16", "127.0.0.1/32", "192.168.0.0/16"])
    assert ids.count("webhooks.W001") == 1 and ids.count("webhooks.W002") == 1


def test_a_network_written_with_host_bits_is_judged_as_the_transport_reads_it():
    # transport.py reads 10.20.3.4/8 as 10.0.0.0/8.
    assert "webhooks.W002" in deploy_check_ids(WEBHOOK_ALLOWED_NETWORKS=["10.20.3.4/8"])


def test_a_listed_entry_that_is_not_a_network_is_an_error_in_every_check():
    with override_settings(**{**SAFE, "WEBHOOK_ALLOWED_NETWORKS": ["10.20.0.0/16", "10.20.0.0/33"]}):
        messages = [message for message in run_checks() if message.id == "webhooks.E001"]
    assert len(messages) == 1 and "'10.20.0.0/33'" in messages[0].msg and messages[0].is_serious()


# webhooks.W003: plain-http endpoints are for a developer's machine.
def test_plain_http_webhooks_outside_debug_are_warned_about():
    assert "webhooks.W003" in deploy_check_ids(WEBHOOK_REQUIRE_HTTPS=False)


@pytest.mark.parametrize(("debug", "require_https"), [(False, True), (True, False)])
def test_plain_http_webhooks_in_debug_or_https_only_are_not_warned_about(debug, require_https):
    assert "webhooks.W003" not in deploy_check_ids(DEBUG=debug, WEBHOOK_REQUIRE_HTTPS=require_https)


# accounts.W001 (already there before #21): password login for everyone.
@pytest.mark.parametrize(("value", "warned"), [("all", True), ("break-glass", False)])
def test_password_login_for_everyone_is_warned_about(value, warned):
    assert ("accounts.W001" in deploy_check_ids(PASSWORD_LOGIN=value)) is warned


# accounts.W004: the lockout switched off; accounts.W005: a failure limit that lets a password be guessed anyway.
@pytest.mark.parametrize(
    ("changes", "warned"),
    [
        ({"AXES_ENABLED": False}, True),
        ({"AXES_ENABLED": True}, False),
        ({"AXES_COOLOFF_TIME": timedelta(0)}, True),  # LOGIN_LOCKOUT_MINUTES=0
        ({"AXES_COOLOFF_TIME": timedelta(seconds=59)}, True),
        ({"AXES_COOLOFF_TIME": timedelta(minutes=1)}, False),
        ({"AXES_COOLOFF_TIME": None}, False),  # django-axes: locked until lifted
    ],
)
def test_a_lockout_switched_off_is_warned_about(changes, warned):
    assert ("accounts.W004" in deploy_check_ids(**changes)) is warned


@pytest.mark.parametrize("setting", ["AXES_FAILURE_LIMIT", "LOGIN_ADDRESS_FAILURE_LIMIT"])
@pytest.mark.parametrize(("limit", "warned"), [(100, False), (101, True)])
def test_a_failure_limit_above_a_hundred_is_warned_about(setting, limit, warned):
    assert ("accounts.W005" in deploy_check_ids(**{setting: limit})) is warned


def test_the_default_lockout_is_not_warned_about():
    ids = deploy_check_ids()
    assert "accounts.W004" not in ids and "accounts.W005" not in ids


# The keys' form: errors, since the key cannot be used at all.
def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


SEED = b"\xfb\xff\xbf" * 10 + b"\x01\x02"  # 32 bytes whose base64 holds "+" and "/"
PUBLIC = Ed25519PrivateKey.from_private_bytes(SEED).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


@pytest.mark.parametrize(("key", "wrong"), [("k" * 31, True), ("k" * 32, False)])
def test_an_audit_hmac_key_shorter_than_32_characters_is_an_error(key, wrong):
    assert ("audit.E001" in deploy_check_ids(AUDIT_HMAC_KEY=key)) is wrong


@pytest.mark.parametrize(
    ("key", "wrong"),
    [
        (b64(SEED), False),
        (b64(SEED) + "\n", False),  # as read from a file
        ("", False),  # not set: only the machine that writes checkpoints needs it (README.md)
        (b64(SEED[:31]), True),
        (b64(SEED + b"\x00"), True),
        (b64(SEED).rstrip("="), True),  # unpadded: base64.b64decode refuses it when the checkpoint runs
        (base64.urlsafe_b64encode(SEED).decode(), True),  # URL-safe: read as some other key
        (b64(SEED)[:20] + "!" + b64(SEED)[20:], True),  # a character base64 does not have
        ("not a key at all", True),
    ],
)
def test_an_audit_checkpoint_key_not_of_32_bytes_in_base64_is_an_error(key, wrong):
    assert ("audit.E002" in deploy_check_ids(AUDIT_CHECKPOINT_KEY=key)) is wrong


@pytest.mark.parametrize(
    ("key", "wrong"),
    [(b64(PUBLIC), False), ("", False), (b64(PUBLIC[:31]), True), (b64(PUBLIC)[:10] + "." + b64(PUBLIC)[10:], True)],
)
def test_an_audit_checkpoint_public_key_not_of_32_bytes_in_base64_is_an_error(key, wrong):
    assert ("audit.E003" in deploy_check_ids(AUDIT_CHECKPOINT_KEY=b64(SEED), AUDIT_CHECKPOINT_PUBLIC_KEY=key)) is wrong


@pytest.mark.parametrize(
    ("private", "public", "wrong"),
    [
        (b64(SEED), b64(PUBLIC), False),
        (b64(bytes(32)), b64(PUBLIC), True),
        ("", b64(PUBLIC), False),  # a verifying machine holds the public key only
    ],
)
def test_an_audit_checkpoint_public_key_of_another_key_is_an_error(private, public, wrong):
    ids = deploy_check_ids(AUDIT_CHECKPOINT_KEY=private, AUDIT_CHECKPOINT_PUBLIC_KEY=public)
    assert ("audit.E004" in ids) is wrong


@pytest.mark.parametrize(
    ("key", "wrong"),
    [
        (b64(SEED), False),
        (base64.urlsafe_b64encode(SEED).decode().rstrip("="), False),  # registers/jws.py reads URL-safe, unpadded
        (b64(SEED) + "\n", False),
        (b64(SEED)[:20] + "!" + b64(SEED)[20:], True),  # jws.py would drop the "!" and sign with the rest
        (b64(SEED)[:20] + "=" + b64(SEED)[20:], True),
        (b64(SEED[:31]), True),
    ],
)
def test_a_register_signing_key_not_strictly_of_32_bytes_in_base64_is_an_error(key, wrong):
    assert ("registers.E001" in deploy_check_ids(ACCESS_REGISTER_SIGNING_KEY=key)) is wrong


@pytest.mark.parametrize(("key", "wrong"), [(b64(PUBLIC), False), (b64(PUBLIC)[:8] + "*" + b64(PUBLIC)[8:], True)])
def test_a_previous_register_key_not_strictly_in_base64_is_an_error(key, wrong):
    assert ("registers.E001" in deploy_check_ids(ACCESS_REGISTER_PREVIOUS_PUBLIC_KEYS=[key])) is wrong


def test_the_development_keys_have_their_form():
    ids = deploy_check_ids()
    assert not [each for each in ids if each.startswith(("audit.", "registers."))]
