"""What the benchmarks build alike: many customers with valid EANs, and a gateway token.

Imported by the bench scripts after django.setup(); the scripts put the repository root on sys.path.
"""

import datetime


def customers(count: int, *, name: str, first_cvr: int, account_manager):
    """`count` customers (bulk-created): `name` formatted with the number, CVRs counting up from `first_cvr`.

    `account_manager` is a user, or a function of the customer's number giving one.
    """
    from ordering.models import Customer
    from ordering.validators import gs1_check_digit

    def manager(i: int):
        return account_manager(i) if callable(account_manager) else account_manager

    return Customer.objects.bulk_create(
        [
            Customer(
                name=name.format(i),
                cvr=str(first_cvr + i),
                ean=f"579800{i:06d}" + str(gs1_check_digit(f"579800{i:06d}")),
                account_manager=manager(i),
            )
            for i in range(count)
        ]
    )


def gateway_key(name: str) -> str:
    """The secret of a new gateway token for the access register, valid for 30 days."""
    from django.utils import timezone

    from accounts.tokens import token_create

    _token, key = token_create(
        user=None,
        name=name,
        scopes=["register"],
        last_day=timezone.localdate() + datetime.timedelta(days=30),
        actor=None,
        kind="gateway",
    )
    return key
