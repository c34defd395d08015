"""A customer's objects are invisible through the API to everyone outside it, as on the pages
(tests/ordering/test_tenant_isolation.py): every endpoint × every outsider's token × every id of the
other customer's objects answers 404 (or 403 where the outsider's role is refused before any object is
looked up), and changes nothing (`snapshot()`, tests/security/snapshots.py)."""

import pytest

from audit.models import AuditEvent
from billing.models import Invoice
from certificates.models import CertificateUpload
from ordering.models import AccessOrder
from ordering.transitions import TRANSITIONS

from ..security.snapshots import snapshot

# Customer B's people, B's account manager, and a user of no customer: none of them serves customer A.
OUTSIDERS = ["orderer_b", "signatory_b", "am_b", "outsider"]


def endpoints(order_id: int) -> list[tuple[str, str, dict]]:
    """Every endpoint that names an order, as (method, path, what is sent)."""
    base = f"/api/v1/orders/{order_id}"
    return [
        ("get", f"{base}/", {}),
        ("patch", f"{base}/", {"note": "Ændret udefra"}),
        ("post", f"{base}/submit/", {"vendor_agreement": True}),
        ("post", f"{base}/withdraw/", {"comment": "Trukket tilbage udefra"}),
        *[("post", f"{base}/actions/{action}/", {"comment": "Udefra", "confirm": True}) for action in TRANSITIONS],
        ("get", f"{base}/addenda/1/pdf/", {}),
        ("get", f"{base}/addenda/1/accepted-pdf/", {}),
    ]


def everything_of(customer) -> tuple:
    orders = AccessOrder.objects.filter(customer=customer).order_by("pk")
    return (
        [snapshot(order) for order in orders],
        AuditEvent.objects.count(),
        CertificateUpload.objects.count(),
        AccessOrder.objects.count(),
    )


def send(client, method: str, path: str, data: dict):
    if method == "get":
        return client.get(path)
    return getattr(client, method)(path, data, content_type="application/json")


@pytest.mark.parametrize("person", OUTSIDERS)
def test_every_order_endpoint_answers_404_for_every_other_customers_order_and_changes_nothing(cast, world, api, person):
    client = api(person)
    before = everything_of(cast.customer_a)
    for order in world["customer_a"].values():
        for method, path, data in endpoints(order.pk):
            response = send(client, method, path, data)
            assert response.status_code == 404, (method, path, response.status_code)
            assert response["Content-Type"] == "application/problem+json"
            assert "Aarhus" not in response.content.decode()
        with open(__file__, "rb") as upload:
            response = client.post(f"/api/v1/orders/{order.pk}/certificates/", {"bundle": upload})
        assert response.status_code == 404
    assert everything_of(cast.customer_a) == before


@pytest.mark.parametrize("person", OUTSIDERS)
def test_another_customers_invoices_are_404_and_never_listed(cast, world, api, person):
    client = api(person)
    for invoice in Invoice.objects.filter(customer=cast.customer_a):
        assert client.get(f"/api/v1/invoices/{invoice.pk}/").status_code == 404
    listed = client.get("/api/v1/invoices/")
    if listed.status_code == 200:
        assert all(row["cvr"] != cast.customer_a.cvr for row in listed.json()["results"])
    else:
        assert person == "outsider" and listed.status_code == 403


@pytest.mark.parametrize("person", OUTSIDERS)
def test_lists_and_filters_never_reveal_another_customers_orders(cast, world, api, person):
    client = api(person)
    theirs = {order.pk for order in world["customer_a"].values()}
    for query in [
        "",
        "?state=draft",
        "?q=Aarhus",
        f"?q=OA-{min(theirs):06d}",
        f"?q={cast.customer_a.cvr}",
        "?limit=100",
    ]:
        response = client.get("/api/v1/orders/" + query)
        if person == "outsider":
            assert response.status_code == 403
            continue
        assert response.status_code == 200
        assert not {row["id"] for row in response.json()["results"]} & theirs
        assert "Aarhus" not in response.content.decode()
    # Naming the other customer in the filter is an invalid choice, the same as an id that does not exist.
    if person != "outsider":
        named = client.get(f"/api/v1/orders/?customer={cast.customer_a.pk}")
        unknown = client.get("/api/v1/orders/?customer=999999")
        assert named.status_code == unknown.status_code == 400
        assert named.json()["errors"].keys() == unknown.json()["errors"].keys() == {"customer"}


@pytest.mark.parametrize("person", OUTSIDERS)
def test_no_one_creates_an_order_for_another_customer_or_with_its_objects(cast, world, api, person):
    client = api(person)
    before = everything_of(cast.customer_a)
    base = {"external_system": cast.rostering.pk, "purchase_model": "single", "environment": "production"}
    base["interfaces"] = [cast.interfaces["moedetidsplaner"].pk]
    # For customer A by name: 404, as the page answers; without the orderer role: 403.
    response = client.post("/api/v1/orders/", {**base, "customer": cast.customer_a.pk}, content_type="application/json")
    assert response.status_code == (404 if person == "orderer_b" else 403)
    if person == "orderer_b":
        # With A's own system, or naming A's access as the one to change or replace: a field error, nothing made.
        active_a = world["customer_a"]["active"]
        for extra in (
            {"external_system": cast.own_system.pk},
            {"reason": "change", "changes_order": active_a.pk},
            {"replaces_order": active_a.pk},
        ):
            response = client.post("/api/v1/orders/", {**base, **extra}, content_type="application/json")
            assert response.status_code == 400, extra
            assert "Aarhus" not in response.content.decode()
    assert everything_of(cast.customer_a) == before


def test_the_catalogue_shows_a_customers_own_system_only_to_that_customer_and_kmd(cast, api):
    for person, sees in [("orderer_a", True), ("am_a", True), ("support", True), ("orderer_b", False), ("am_b", False)]:
        names = {
            row["name"] for row in api(person).get("/api/v1/catalogue/external-systems/?limit=100").json()["results"]
        }
        assert (cast.own_system.name in names) is sees, person
