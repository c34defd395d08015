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


# --- Every write survives a deadlock ------------------------------------------------------------------------

# Functions that open a transaction of their own without @retry_on_conflict, and why that is right for them.
OWN_TRANSACTION_WITHOUT_RETRY = {
    # Called inside their caller's transaction (a savepoint): the caller's retry runs them again.
    "core/outbox.py:outbox_enqueue": "joins its caller's transaction",
    "webhooks/services.py:webhooks_enqueue_for_event": "joins the audit event's transaction",
    "webhooks/services.py:_record": "joins the delivery's transaction",
    # Not safe to run twice: a retry would repeat what cannot be taken back.
    "certificates/services.py:certificate_expiry_notify": "sends its mail inside the transaction; a contended day "
    "is tried again by tomorrow's run, and a retry now could send the mail twice",
    "audit/verification.py:audit_checkpoint_write": "writes a new checkpoint file inside the transaction; the next "
    "scheduled run signs the head again",
    "config/management/commands/seed_demo.py:_seed": "the demo's seeding, run by hand on a database nobody else "
    "writes to; it runs the services, which retry themselves",
    # The decorator itself.
    "core/transactions.py:run": "the decorator itself",
}
# Decorators that run the function in a transaction that retries by other means.
RETRYING_DECORATORS = ("retry_on_conflict", "outbox_handler", "shared_task")


def _functions_opening_a_transaction():
    import ast

    for path in sorted(ROOT.glob("*/**/*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if relative.split("/")[0] in {"tests", "bench", "tools", "node_modules", ".venv"} or "/migrations/" in relative:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and "transaction.atomic" in ast.unparse(node):
                # Only its own body: a nested function that opens one is checked on its own.
                own = [n for n in node.body if not isinstance(n, ast.FunctionDef)]
                if any("transaction.atomic" in ast.unparse(n) for n in own):
                    decorators = [ast.unparse(d) for d in node.decorator_list]
                    yield f"{relative}:{node.name}", decorators


def test_every_service_that_opens_a_transaction_retries_it_after_a_deadlock():
    """docs/style.md practice 1: every writing service is @retry_on_conflict (core/transactions.py), so a deadlock PostgreSQL breaks
    is a second attempt, and when attempts run out a `Contended` refusal (the API's 503), never an error page."""
    missing = [
        name
        for name, decorators in _functions_opening_a_transaction()
        if name not in OWN_TRANSACTION_WITHOUT_RETRY
        and not any(d.split("(")[0].endswith(RETRYING_DECORATORS) for d in decorators)
    ]
    assert not missing, f"decorate with @retry_on_conflict, or say why not in OWN_TRANSACTION_WITHOUT_RETRY: {missing}"
    found = {name for name, _decorators in _functions_opening_a_transaction()}
    stale = sorted(set(OWN_TRANSACTION_WITHOUT_RETRY) - found)
    assert not stale, f"no longer open a transaction: remove them from OWN_TRANSACTION_WITHOUT_RETRY: {stale}"
