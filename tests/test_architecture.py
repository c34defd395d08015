"""The shape of the code: which app may import which, pure cores without Django, no cycles (.importlinter).

`make test` runs this, so a change that breaks a contract fails the tests and names the import.
"""

import inspect
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import transaction

from billing import services as billing_services
from billing.lifecycle import BillingHooks
from certificates.lifecycle import CertificateHooks
from ordering import lifecycle

ROOT = Path(__file__).resolve().parents[1]


def test_every_import_contract_is_kept():
    result = subprocess.run(  # noqa: S603 - a fixed command in the project's own virtualenv
        [str(Path(sys.executable).parent / "lint-imports"), "--no-cache", "--no-logo"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("contract", "implementation"), [(lifecycle.Billing, BillingHooks), (lifecycle.Certificates, CertificateHooks)]
)
def test_billing_and_certificates_implement_every_hook_ordering_declares(contract, implementation):
    declared = {
        name for name, member in vars(contract).items() if inspect.isfunction(member) and not name.startswith("_")
    }
    assert declared
    for name in declared:
        wanted = inspect.signature(getattr(contract, name))
        given = inspect.signature(getattr(implementation, name))
        assert list(given.parameters.items()) == list(wanted.parameters.items()), name


def test_the_apps_registered_their_hooks():
    assert isinstance(lifecycle.billing(), BillingHooks)
    assert isinstance(lifecycle.certificates(), CertificateHooks)


@pytest.mark.django_db(transaction=True)
def test_billings_lifecycle_hooks_write_only_inside_the_orders_transition(cast, order_in):
    order = order_in("active")
    with pytest.raises(transaction.TransactionManagementError):
        billing_services.billing_on_emergency_close(order=order, actor=cast.am_a, on=order.activated_on)
