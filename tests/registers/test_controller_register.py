"""The controller's register: what each access says for the customer's records of processing (GDPR art. 30),
which accesses it lists (running ones, and those closed in the last five years to the day), and who may read it.
"""

import datetime

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation

from ordering.models import AccessOrder, Addendum, Vendor
from registers.controller import closed_since, controller_register
from tests.conftest import make_order, make_user

PEOPLE = ["orderer_a", "signatory_a", "am_a", "orderer_b", "signatory_b", "am_b", "support", "outsider", "admin"]
# Who reads which customer's register; everyone else gets 404, as for a customer that does not exist.
READS = {
    "orderer_a": {"a"},
    "signatory_a": {"a"},
    "am_a": {"a"},
    "orderer_b": {"b"},
    "signatory_b": {"b"},
    "am_b": {"b"},
    "support": {"a", "b"},
    "outsider": set(),
    "admin": set(),
}
DOWNLOADS = ["registers:controller_register", "registers:controller_register_csv", "registers:controller_register_pdf"]


@pytest.fixture
def person(cast):
    admin = make_user("admin", is_staff=True, is_superuser=True)
    return lambda name: admin if name == "admin" else getattr(cast, name)


def categorise(cast):
    cast.interfaces["opret-fravaer"].data_categories = "Fraværsoplysninger\nHelbredsoplysninger\nCPR-nummer"
    cast.interfaces["opret-fravaer"].save()
    cast.interfaces["moedetidsplaner"].data_categories = "Arbejdstid\nCPR-nummer"
    cast.interfaces["moedetidsplaner"].save()


def entry_for(register, order):
    return next(e for e in register.entries if e.order.pk == order.pk)


def closed_on(order, day: datetime.date) -> None:
    """An access that ended on `day` (the services close today only): dates set as if it had been so."""
    AccessOrder.objects.filter(pk=order.pk).update(activated_on=day - datetime.timedelta(days=400), closed_on=day)


def short(day: datetime.date) -> str:
    return day.strftime("%d.%m.%Y")


# --- What an access says -------------------------------------------------------------------------


def test_a_running_access_lists_system_vendor_interfaces_categories_environment_since_and_addendum(cast):
    categorise(cast)
    order = make_order(cast, "active", codes=("opret-fravaer", "moedetidsplaner"))
    entry = entry_for(controller_register(cast.customer_a), order)
    accepted = Addendum.objects.get(order=order, status="accepted")
    assert (entry.system, entry.vendor, entry.vendor_cvr) == ("VagtPlan", "Vagtdata A/S", "31415926")
    assert entry.interfaces == ["Mødetidsplaner", "Opret Fravær"]
    # Each category once, in the order the interfaces give them.
    assert entry.data_categories == ["Arbejdstid", "CPR-nummer", "Fraværsoplysninger", "Helbredsoplysninger"]
    assert entry.order.environment == "production" and entry.since == timezone.localdate()
    assert entry.addendum_number == f"{order.reference}-1"
    # The hash of the exact PDF the signatory accepted: the one the customer downloads as the document.
    assert entry.addendum_sha256 == accepted.accepted_sha256 == accepted.pdf_sha256 and len(entry.addendum_sha256) == 64
    assert entry.status == "Aktiv" and entry.closed_on is None
    # Standard integration: KMD and the vendor agreed the certificate; the register says so.
    assert entry.certificate is None and "KMD" in entry.certificate_holder


def test_the_register_lists_the_latest_accepted_addendum_version(cast):
    from ordering import services
    from tests.conftest import accept_rendered

    order = make_order(cast, "awaiting_signature")
    order = services.order_revise(order=order, actor=cast.am_a, comment="Ny pris")
    order = accept_rendered(order=order, actor=cast.signatory_a)
    services.order_activate(order=order, actor=cast.am_a)
    entry = entry_for(controller_register(cast.customer_a), order)
    assert entry.addendum_number == f"{order.reference}-2"
    assert entry.addendum_sha256 == Addendum.objects.get(order=order, version=2).accepted_sha256


def test_a_package_access_lists_the_packages_interfaces(cast):
    categorise(cast)
    order = make_order(cast, "active", purchase_model="package", package=cast.package, codes=())
    entry = entry_for(controller_register(cast.customer_a), order)
    assert entry.interfaces == ["Mødetidsplaner", "Opret Fravær"]
    assert "Fraværsoplysninger" in entry.data_categories


def test_an_individual_integration_shows_the_certificate_holder_and_expiry(cast, individual_order, vendor_leaf):
    from certificates.validation import describe_name

    order = individual_order("active")
    entry = entry_for(controller_register(cast.customer_a), order)
    assert entry.certificate is not None and entry.certificate.role == "leaf"
    parts = describe_name(entry.certificate.subject)
    assert entry.certificate_holder.startswith(parts.holder) and parts.holder
    assert parts.organisation in entry.certificate_holder and f"CVR {vendor_leaf_cvr(cast)}" in entry.certificate_holder
    assert entry.certificate_expires == timezone.localdate(vendor_leaf.not_valid_after_utc)
    assert entry.order.environment == "test"


def vendor_leaf_cvr(cast) -> str:
    return cast.own_system.vendor.cvr


@pytest.mark.parametrize("state", ["draft", "submitted", "awaiting_signature", "provisioning", "withdrawn", "rejected"])
def test_an_order_whose_access_was_never_established_is_not_listed(cast, state):
    make_order(cast, state)
    assert controller_register(cast.customer_a).entries == []


def test_a_running_access_with_a_closure_requested_or_scheduled_is_listed_with_its_date(cast):
    from ordering import services

    requested = make_order(cast, "closure_requested")
    scheduled = make_order(cast, "active", system=cast.canteen, codes=("engangsydelser",))
    on = timezone.localdate() + datetime.timedelta(days=30)
    services.order_schedule_closure(order=scheduled, actor=cast.am_a, on=on)
    register = controller_register(cast.customer_a)
    assert [e.order.pk for e in register.running] == [scheduled.pk, requested.pk]  # by system name
    assert entry_for(register, requested).status == "Lukning ønsket"
    assert entry_for(register, scheduled).closure_scheduled_on == on
    assert register.closed == []


# --- Closed accesses: the last five years, to the day ---------------------------------------------


def test_five_years_back_is_the_same_day_and_29_february_becomes_28_february():
    assert closed_since(datetime.date(2026, 11, 28)) == datetime.date(2021, 11, 28)
    assert closed_since(datetime.date(2028, 2, 29)) == datetime.date(2023, 2, 28)
    assert closed_since(datetime.date(2026, 1, 1)) == datetime.date(2021, 1, 1)


def test_an_access_closed_exactly_five_years_ago_is_listed_and_one_closed_the_day_before_is_not(cast):
    today = datetime.date(2026, 11, 28)
    on_the_boundary = make_order(cast, "closed")
    just_outside = make_order(cast, "closed", system=cast.canteen, codes=("engangsydelser",))
    closed_on(on_the_boundary, datetime.date(2021, 11, 28))
    closed_on(just_outside, datetime.date(2021, 11, 27))
    register = controller_register(cast.customer_a, today=today)
    assert [e.order.pk for e in register.closed] == [on_the_boundary.pk]
    assert register.closed_since == datetime.date(2021, 11, 28)
    entry = register.closed[0]
    assert entry.closed_on == datetime.date(2021, 11, 28) and entry.status == "Lukket"
    # The next day the boundary moves on, and that access drops out by itself.
    assert controller_register(cast.customer_a, today=datetime.date(2026, 11, 29)).closed == []


def test_closed_and_emergency_closed_accesses_are_listed_most_recently_closed_first(cast):
    today = timezone.localdate()
    closed = make_order(cast, "closed")
    emergency = make_order(cast, "emergency_closed", system=cast.canteen, codes=("engangsydelser",))
    closed_on(closed, today - datetime.timedelta(days=10))
    register = controller_register(cast.customer_a)
    assert [e.order.pk for e in register.closed] == [emergency.pk, closed.pk]
    assert entry_for(register, emergency).status == "Akut lukket"
    assert entry_for(register, emergency).closed_on == today
    assert register.running == []


def test_another_customers_accesses_never_appear(cast):
    mine = make_order(cast, "active")
    theirs = make_order(cast, "active", customer=cast.customer_b, system=cast.canteen, codes=("engangsydelser",))
    assert [e.order.pk for e in controller_register(cast.customer_a).entries] == [mine.pk]
    assert [e.order.pk for e in controller_register(cast.customer_b).entries] == [theirs.pk]


# --- Who may read it ------------------------------------------------------------------------------


@pytest.mark.parametrize("who", PEOPLE)
def test_each_role_reads_exactly_the_registers_of_its_own_customers_and_gets_404_for_every_other(
    cast, client, person, who
):
    make_order(cast, "active")
    make_order(cast, "active", customer=cast.customer_b, system=cast.canteen, codes=("engangsydelser",))
    client.force_login(person(who))
    for key, customer in (("a", cast.customer_a), ("b", cast.customer_b)):
        for name in DOWNLOADS:
            response = client.get(reverse(name, args=[customer.pk]))
            expected = 200 if key in READS[who] else 404
            assert response.status_code == expected, (who, key, name)
    # A customer that does not exist answers the same 404 as one the user may not see.
    missing = max(cast.customer_a.pk, cast.customer_b.pk) + 1
    assert client.get(reverse("registers:controller_register", args=[missing])).status_code == 404


@pytest.mark.parametrize("who", PEOPLE)
def test_the_list_of_registers_names_only_the_customers_the_user_may_read(cast, client, person, who):
    client.force_login(person(who))
    response = client.get(reverse("registers:controller_register_index"))
    if not READS[who]:
        assert response.status_code == 403
        return
    body = response.content.decode()
    for key, customer in (("a", cast.customer_a), ("b", cast.customer_b)):
        linked = reverse("registers:controller_register", args=[customer.pk]) in body
        assert linked is (key in READS[who]) and (customer.name in body) is (key in READS[who])


def test_the_register_of_another_customer_is_written_to_the_security_log(cast, client, caplog):
    client.force_login(cast.orderer_b)
    with caplog.at_level("WARNING", logger="security"):
        assert client.get(reverse("registers:controller_register", args=[cast.customer_a.pk])).status_code == 404
    assert any("other_customers_object" in r.getMessage() for r in caplog.records), caplog.records


def test_the_pages_need_login(cast, client):
    for name in DOWNLOADS:
        response = client.get(reverse(name, args=[cast.customer_a.pk]))
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


# --- The page -------------------------------------------------------------------------------------


def test_the_page_shows_the_register_in_an_accessible_table_with_both_downloads(cast, client):
    order = make_order(cast, "active")
    closed = make_order(cast, "closed", system=cast.canteen, codes=("engangsydelser",))
    client.force_login(cast.signatory_a)
    response = client.get(reverse("registers:controller_register", args=[cast.customer_a.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    assert body.count('class="table--responsive-scroll" tabindex="0"') == 2
    assert '<th scope="col">' in body and "<caption" in body
    assert reverse("registers:controller_register_csv", args=[cast.customer_a.pk]) in body
    assert reverse("registers:controller_register_pdf", args=[cast.customer_a.pk]) in body
    assert "VagtPlan" in body and "KantineKort" in body and order.reference in body and closed.reference in body
    # The page names the accepted document by the start of its SHA-256; the CSV and the PDF carry all of it.
    sha256 = Addendum.objects.get(order=order, status="accepted").accepted_sha256
    assert f"<code>{sha256[:12]}…</code>" in body and sha256 not in body
    # Danish dates (dd.mm.yyyy), the app's format.
    assert short(timezone.localdate()) in body


def test_the_page_writes_english_dates_in_english(cast, client):
    make_order(cast, "active")
    client.force_login(cast.orderer_a)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    body = client.get(reverse("registers:controller_register", args=[cast.customer_a.pk])).content.decode()
    assert timezone.localdate().strftime("%d/%m/%Y") in body and short(timezone.localdate()) not in body
    assert "Active" in body


def col_headings(html: str) -> list[str]:
    import re

    return re.findall(r'<th scope="col">([^<]*)</th>', html)


def test_the_page_the_pdf_and_the_csv_give_the_same_columns_in_the_same_order(cast, client):
    from registers.controller import register_pdf_html

    make_order(cast, "active")
    client.force_login(cast.orderer_a)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = col_headings(
        client.get(reverse("registers:controller_register", args=[cast.customer_a.pk])).content.decode()
    )
    header, _row = csv_rows(client.get(reverse("registers:controller_register_csv", args=[cast.customer_a.pk])))
    with translation.override("en"):
        pdf = col_headings(register_pdf_html(controller_register(cast.customer_a)))
    assert page == pdf
    assert page[:3] == ["Order", "External system", "Interfaces"] and page[-2:] == ["Certificate", "Status"]
    # A cell of the tables may hold several of the CSV's columns (the system, its vendor and the vendor's CVR).
    in_csv = [header.index(heading) for heading in page if heading in header]
    assert len(in_csv) == len(page) - 1 and in_csv == sorted(in_csv)


def test_the_tables_say_when_an_access_ended_or_will_close(cast, client):
    from ordering import services
    from registers.controller import register_pdf_html

    closed = make_order(cast, "closed")
    scheduled = make_order(cast, "active", system=cast.canteen, codes=("engangsydelser",))
    on = timezone.localdate() + datetime.timedelta(days=30)
    services.order_schedule_closure(order=scheduled, actor=cast.am_a, on=on)
    client.force_login(cast.orderer_a)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.get(reverse("registers:controller_register", args=[cast.customer_a.pk])).content.decode()
    with translation.override("en"):
        pdf = register_pdf_html(controller_register(cast.customer_a))
    today, later = (day.strftime("%d/%m/%Y") for day in (timezone.localdate(), on))
    for body in (page, pdf):
        assert f"Ended on {today}" in body and f"Closes on {later}" in body
    assert closed.reference in page


def test_the_start_page_links_the_registers_for_customer_people_and_kmd_but_not_for_others(cast, client, person):
    index = reverse("registers:controller_register_index")
    for who in PEOPLE:
        client.force_login(person(who))
        assert (index in client.get(reverse("home")).content.decode()) is bool(READS[who]), who


# --- The CSV --------------------------------------------------------------------------------------


def csv_rows(response) -> list[list[str]]:
    import csv
    import io

    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:]), delimiter=";"))


def test_the_csv_is_for_danish_excel_with_one_row_per_access_and_danish_dates(cast, client):
    categorise(cast)
    order = make_order(cast, "active", codes=("opret-fravaer", "moedetidsplaner"))
    closed = make_order(cast, "closed", system=cast.canteen, codes=("engangsydelser",))
    client.force_login(cast.orderer_a)
    response = client.get(reverse("registers:controller_register_csv", args=[cast.customer_a.pk]))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="fortegnelse-eksterne-systemer-55133018-')
    header, *rows = csv_rows(response)
    assert len(header) == 15 and header[:3] == ["Bestilling", "Eksternt system", "Leverandør"]
    assert [row[0] for row in rows] == [order.reference, closed.reference]
    running, ended = rows
    today = short(timezone.localdate())
    assert running[1:5] == ["VagtPlan", "Vagtdata A/S", "31415926", "Mødetidsplaner; Opret Fravær"]
    assert running[5] == "Arbejdstid; CPR-nummer; Fraværsoplysninger; Helbredsoplysninger"
    assert running[6] == "Produktion" and running[7] == today
    assert running[8] == f"{order.reference}-1" and len(running[9]) == 64
    assert running[12] == "Aktiv" and running[13] == ""
    assert ended[12] == "Lukket" and ended[13] == today


def test_the_csv_writes_english_dates_in_english(cast, client):
    make_order(cast, "active")
    client.force_login(cast.orderer_a)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    header, row = csv_rows(client.get(reverse("registers:controller_register_csv", args=[cast.customer_a.pk])))
    assert header[1] == "External system" and row[7] == timezone.localdate().strftime("%d/%m/%Y")


def test_no_cell_of_the_csv_can_run_as_a_formula(cast, client):
    order = make_order(cast, "active")
    Vendor.objects.filter(pk=order.external_system.vendor_id).update(name='=HYPERLINK("https://evil.example","x")')
    cast.interfaces["opret-fravaer"].data_categories = "@SUM(1+1)\n-2+3"
    cast.interfaces["opret-fravaer"].cpr_numbers = False  # the CPR flag would add its own, harmless, category
    cast.interfaces["opret-fravaer"].save()
    client.force_login(cast.orderer_a)
    _, row = csv_rows(client.get(reverse("registers:controller_register_csv", args=[cast.customer_a.pk])))
    assert row[2] == '\'=HYPERLINK("https://evil.example","x")'
    assert row[5] == "'@SUM(1+1); -2+3"


# --- Queries --------------------------------------------------------------------------------------


def bulk_accesses(cast, n: int) -> None:
    """`n` more accesses of every kind the register shows: single purchase, package, closed."""
    today = timezone.localdate()
    orders = AccessOrder.objects.bulk_create(
        [
            AccessOrder(
                customer=cast.customer_a,
                external_system=cast.canteen if i % 3 else cast.rostering,
                purchase_model="package" if i % 3 == 0 else "single",
                package=cast.package if i % 3 == 0 else None,
                environment="test" if i % 2 else "production",
                integration_type="standard",
                state="closed" if i % 4 == 0 else "active",
                activated_on=today - datetime.timedelta(days=100),
                closed_on=today - datetime.timedelta(days=5) if i % 4 == 0 else None,
                created_by=cast.orderer_a,
            )
            for i in range(n)
        ]
    )
    AccessOrder.interfaces.through.objects.bulk_create(
        [
            AccessOrder.interfaces.through(accessorder=o, interface=interface)
            for o in orders
            # A package order's own interfaces are those its addendum froze from the package.
            for interface in (cast.package.interfaces.all() if o.package_id else [cast.interfaces["engangsydelser"]])
        ]
    )


@pytest.mark.parametrize("name", DOWNLOADS)
def test_the_register_costs_the_same_queries_for_one_access_as_for_many(cast, client, name):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    make_order(cast, "active")
    client.force_login(cast.orderer_a)
    url = reverse(name, args=[cast.customer_a.pk])
    with CaptureQueriesContext(connection) as one:
        assert client.get(url).status_code == 200
    bulk_accesses(cast, 40)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert response.status_code == 200
    assert len(controller_register(cast.customer_a).entries) == 41
    assert len(one.captured_queries) == len(many.captured_queries), [q["sql"] for q in many.captured_queries]


def test_the_register_itself_is_four_queries_however_many_accesses(cast, django_assert_num_queries):
    make_order(cast, "active")
    bulk_accesses(cast, 40)
    customer = cast.customer_a
    with django_assert_num_queries(4):
        register = controller_register(customer)
        # Everything the page and the files print, read from what was fetched.
        printed = [
            (e.system, e.vendor, e.interfaces, e.addendum_number, e.certificate_holder) for e in register.entries
        ]
    assert len(printed) == 41
