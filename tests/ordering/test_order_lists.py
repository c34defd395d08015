"""The order list people work with: search, filters, sorting, "waiting since", exports, discarding and copying."""

import csv
import datetime
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from audit.models import AuditEvent
from ordering import services
from ordering.audit import AuditKind
from ordering.models import AccessOrder, ExternalSystem, State


def listed(client, user, **params) -> str:
    client.force_login(user)
    response = client.get(reverse("ordering:order_list"), params)
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def orders(cast, order_in):
    """Aarhus: an active VagtPlan in production and a KantineKort draft in test; Odense: one of its own."""
    return {
        "active": order_in("active", requisition_number="REK-4711"),
        "draft": order_in("draft", system=cast.canteen, codes=("engangsydelser",), environment="test"),
        "other": order_in("submitted", customer=cast.customer_b, system=cast.canteen, codes=("engangsydelser",)),
    }


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("OA-{active}", "active"),
        ("{active}", "active"),
        ("vagtplan", "active"),
        ("kantine", "draft"),
        ("REK-4711", "active"),
    ],
)
def test_the_search_finds_an_order_by_number_system_or_requisition(cast, orders, client, query, found):
    query = query.format(active=f"{orders['active'].pk:06d}" if query.startswith("OA") else orders["active"].pk)
    body = listed(client, cast.orderer_a, q=query)
    others = {name for name in ("active", "draft") if name != found}
    assert orders[found].reference in body
    assert all(orders[name].reference not in body for name in others)


def test_the_search_by_vendor_customer_or_cvr_never_shows_another_customers_orders(cast, orders, client):
    for query in ("Vagtdata", "Odense", cast.customer_b.cvr):
        body = listed(client, cast.orderer_a, q=query)
        assert orders["other"].reference not in body, query
    body = listed(client, cast.support, q=cast.customer_b.cvr)
    assert orders["other"].reference in body and orders["active"].reference not in body


def test_filters_narrow_by_state_environment_system_and_date(cast, orders, client):
    body = listed(client, cast.am_a, state="draft")
    assert orders["draft"].reference in body and orders["active"].reference not in body
    body = listed(client, cast.am_a, environment="test")
    assert orders["draft"].reference in body and orders["active"].reference not in body
    body = listed(client, cast.am_a, external_system=cast.rostering.pk)
    assert orders["active"].reference in body and orders["draft"].reference not in body
    body = listed(client, cast.am_a, created_from="2999-01-01")
    assert orders["active"].reference not in body and orders["draft"].reference not in body


def test_filtering_by_another_customer_shows_nothing_of_theirs(cast, orders, client):
    body = listed(client, cast.am_a, customer=cast.customer_b.pk)
    assert orders["other"].reference not in body


@pytest.mark.parametrize("who", ["orderer_a", "am_a", "am_b", "support"])
def test_the_customer_and_system_choices_are_the_users_own_and_what_the_filter_accepts(cast, orders, rf, who):
    """The dropdowns are listed by queries compiled once per process (core.prepared.prepared_choices); the filter
    validates against its query sets. Both come from one builder: the same rows, the user's own customers and
    systems (KMD's catalogue and their customers' own), nobody else's."""
    from ordering.filters import OrderFilter, order_list_queryset

    user = getattr(cast, who)
    request = rf.get("/orders/")
    request.user = user
    form = OrderFilter({}, queryset=order_list_queryset(user), request=request).form
    for name in ("customer", "external_system"):
        field = form.fields[name]
        listed_pks = [str(value) for value, _label in field.choices][1:]  # after "All"
        assert listed_pks == [str(pk) for pk in field.queryset.values_list("pk", flat=True)], name
    customers = {str(c) for _value, c in form.fields["customer"].choices}
    assert (cast.customer_b.name in customers) == (who in ("am_b", "support"))
    assert (cast.customer_a.name in customers) == (who != "am_b")


def test_columns_sort_both_ways_and_a_key_outside_the_whitelist_is_ignored(cast, orders, client):
    body = listed(client, cast.am_a, sort="system")
    assert body.index("KantineKort") < body.index(orders["active"].reference)
    body = listed(client, cast.am_a, sort="-system")
    assert body.index(orders["active"].reference) < body.index(orders["draft"].reference)
    # Not a column: the list falls back to newest first instead of sorting by it (or failing).
    body = listed(client, cast.am_a, sort="customer__account_manager__password")
    assert body.index(orders["draft"].reference) < body.index(orders["active"].reference)


def test_waiting_since_is_when_the_order_entered_its_state(cast, orders, client):
    from ordering.filters import order_list_queryset

    row = order_list_queryset(cast.am_a).get(pk=orders["active"].pk)
    entered = AuditEvent.objects.filter(order=row, to_state=State.ACTIVE).latest("seq").created_at
    assert row.waiting_since == entered
    assert "Venter siden" in listed(client, cast.am_a) and "Senest ændret" in listed(client, cast.am_a)


def export(client, user, fmt, **params):
    client.force_login(user)
    response = client.get(reverse("ordering:order_list_export", args=[fmt]), params)
    assert response.status_code == 200
    return response


def test_the_csv_export_is_for_danish_excel_and_neutralises_formulas(cast, orders, client):
    AccessOrder.objects.filter(pk=orders["draft"].pk).update(requisition_number='=HYPERLINK("http://x","klik")')
    content = export(client, cast.am_a, "csv").content.decode("utf-8")
    assert content.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(content.removeprefix("\ufeff")), delimiter=";"))
    assert rows[0][0] == "Ordre" or rows[0][0] == "Bestilling"
    by_reference = {row[0]: row for row in rows[1:]}
    assert set(by_reference) == {orders["active"].reference, orders["draft"].reference}  # not Odense's
    assert by_reference[orders["draft"].reference][7] == '\'=HYPERLINK("http://x","klik")'
    days = by_reference[orders["active"].reference][10]
    assert "," in days and "." not in days


def test_the_csv_export_writes_times_in_copenhagen_to_the_minute(cast, orders, client):
    AccessOrder.objects.filter(pk=orders["active"].pk).update(created_at=CREATED)
    content = export(client, cast.am_a, "csv").content.decode("utf-8-sig")
    by_reference = {row[0]: row for row in csv.reader(io.StringIO(content), delimiter=";")}
    assert by_reference[orders["active"].reference][8] == "2026-11-29 15:03"


def test_the_xlsx_export_keeps_numbers_numbers_and_text_inert(cast, orders, client):
    AccessOrder.objects.filter(pk=orders["draft"].pk).update(requisition_number='=HYPERLINK("http://x","klik")')
    response = export(client, cast.am_a, "xlsx", environment="test")
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert [row[0] for row in rows[1:]] == [orders["draft"].reference]  # the filter applies to the export
    cell = sheet.cell(row=2, column=8)
    assert cell.data_type == "s" and cell.value.startswith("'=")
    assert isinstance(rows[1][10], (int, float))


CREATED = datetime.datetime(2026, 11, 29, 14, 3, tzinfo=datetime.UTC)  # 15:03 in Copenhagen


def test_the_xlsx_export_has_real_times_and_numbers_a_frozen_filtered_header_and_fitted_columns(cast, orders, client):
    AccessOrder.objects.filter(pk=orders["active"].pk).update(created_at=CREATED)
    # 200 characters (the most the model keeps; PostgreSQL refuses more) in the system's name.
    ExternalSystem.objects.filter(pk=orders["active"].external_system_id).update(name="S" * 200)
    sheet = load_workbook(io.BytesIO(export(client, cast.am_a, "xlsx").content)).active
    rows = {row[0].value: row for row in sheet.iter_rows(min_row=2)}
    active = rows[orders["active"].reference]

    created = active[8]
    assert created.value == datetime.datetime(2026, 11, 29, 15, 3)  # Copenhagen's wall clock, naive for Excel
    assert created.is_date and created.number_format == "dd.mm.yyyy hh:mm"
    days = active[10]
    assert days.data_type == "n" and days.number_format == "#,##0.0"
    assert all(cell.font.bold for cell in sheet[1])
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:L3"  # the headings and Aarhus's two orders
    widths = {column: sheet.column_dimensions[column].width for column in "ABCDEFGHIJKL"}
    assert widths["D"] == 60  # 200 characters of system name: as wide as the limit, no wider
    assert widths["I"] == len("29.11.2026 15:03") + 1  # the time, wider than its heading "Oprettet"
    assert all(8 <= width <= 60 for width in widths.values()), widths


def test_an_unknown_export_format_is_not_found(cast, client):
    client.force_login(cast.am_a)
    assert client.get(reverse("ordering:order_list_export", args=["pdf"])).status_code == 404


def test_the_orderer_discards_a_draft_and_the_trail_says_so(cast, order_in):
    draft = order_in("draft")
    services.order_discard(order=draft, actor=cast.orderer_a)
    draft.refresh_from_db()
    assert draft.state == State.WITHDRAWN
    assert draft.events.latest("seq").kind == AuditKind.DISCARD


def test_only_a_draft_can_be_discarded(cast, order_in):
    from core.errors import Refusal

    submitted = order_in("submitted")
    with pytest.raises(Refusal):
        services.order_discard(order=submitted, actor=cast.orderer_a)


def test_copying_an_order_prefills_a_new_draft_form(cast, orders, client):
    client.force_login(cast.orderer_a)
    response = client.get(reverse("ordering:order_create"), {"copy": orders["active"].pk})
    assert response.status_code == 200
    form = response.context["form"]
    assert form.initial["external_system"] == cast.rostering
    assert form.initial["requisition_number"] == "REK-4711"
    assert form.initial["vendor_agreement_confirmed"] is False


def test_copying_another_customers_order_is_not_found(cast, orders, client):
    client.force_login(cast.orderer_a)
    response = client.get(reverse("ordering:order_create"), {"copy": orders["other"].pk})
    assert response.status_code == 404
