"""Orders whose addendum was issued before fees due once were tracked, and whose access is not established yet,
get their fees due once (billing.models.SharedFee): the first order to price a fee pays it, as from now on.

Their frozen quotes keep their text and have no keys; billing/services.py derives the key of such a line when
the access is established, so the fee is booked once: by the order recorded here, or by none if a running
access paid it already (a running licence, a system set up). Should the order recorded here end unestablished,
the fee moves to the next order in flight whose addendum priced it too.
"""

from django.db import migrations
from django.db.models import Q
from django.utils import timezone

AWAITING_OR_ACCEPTED = ("issued", "accepted")
NOT_ESTABLISHED = ("awaiting_signature", "provisioning")
RUNNING = ("active", "closure_requested")


def _keys(line: dict, order, serves_all: bool) -> str:
    rule, code, system = line["rule"], line.get("interface", ""), order.external_system_id
    if rule == "licence_start" and code and serves_all:
        return f"licence:{code}"
    if rule in ("setup_fee", "setup_fee_replacement"):
        return f"setup:{system}"
    if rule in ("additional_system", "licence_additional_system") and code:
        return f"additional:{system}:{code}"
    return ""


def _paid_already(apps) -> set[tuple[int, str]]:
    """What an established access paid already: the licences running and the systems set up (running access)."""
    RecurringFee = apps.get_model("billing", "RecurringFee")
    AccessOrder = apps.get_model("ordering", "AccessOrder")
    today = timezone.localdate()
    licences = (
        RecurringFee.objects.filter(kind="licence", starts_on__lte=today)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gt=today))
        .values_list("customer_id", "interface__code")
    )
    running = AccessOrder.objects.filter(state__in=RUNNING, startup_package=False).values_list(
        "customer_id", "external_system_id"
    )
    return {(c, f"licence:{code}") for c, code in licences} | {(c, f"setup:{system}") for c, system in running}


def record_fees_of_orders_in_flight(apps, schema_editor):
    Addendum = apps.get_model("ordering", "Addendum")
    MainContract = apps.get_model("ordering", "MainContract")
    SharedFee = apps.get_model("billing", "SharedFee")
    contracts = {c.customer_id: c for c in MainContract.objects.all()}
    # A fee pending already, or paid by an access that runs, is not given to an order in flight.
    taken = set(SharedFee.objects.filter(charge__isnull=True).values_list("customer_id", "key")) | _paid_already(apps)
    addenda = (
        Addendum.objects.filter(status__in=AWAITING_OR_ACCEPTED, order__state__in=NOT_ESTABLISHED)
        .exclude(quote__isnull=True)
        .select_related("order")
        .order_by("issued_at", "pk")
    )
    for addendum in addenda:
        order = addendum.order
        contract = contracts.get(order.customer_id)
        serves_all = contract is None or contract.terms != "tender" or contract.licence_scope == "all"
        for line in addendum.quote.get("lines", []):
            if line.get("key") or line.get("kind") != "one_time":
                continue
            key = _keys(line, order, serves_all)
            if key and (order.customer_id, key) not in taken:
                SharedFee.objects.create(customer_id=order.customer_id, key=key, order_id=order.pk)
                taken.add((order.customer_id, key))


class Migration(migrations.Migration):
    dependencies = [("billing", "0008_shared_fees"), ("ordering", "0021_consulting_requests")]

    operations = [migrations.RunPython(record_fees_of_orders_in_flight, migrations.RunPython.noop)]
