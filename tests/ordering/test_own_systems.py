"""Customers register their own systems: theirs alone (and KMD's to see), always individual integration."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from audit.models import AuditEvent
from core.errors import Invalid, NotPermitted
from ordering import services
from ordering.audit import AuditKind
from ordering.models import AccessOrder, ExternalSystem, Vendor
from ordering.selectors import own_systems_visible_to, systems_available_to
from tests.pages import post_form

from ..conftest import facts


def register(cast, actor=None, customer=None, **overrides) -> ExternalSystem:
    fields = {
        "name": "Vikarbanken",
        "vendor_name": "Lille Software ApS",
        "vendor_cvr": "29190925",
        "vendor_email": "kontakt@lille-software.example",
        "category": "technical_environment",
        "description": "Kommunens eget system til vikarer på teknik- og miljøområdet.",
    }
    fields.update(overrides)
    return services.external_system_register(
        actor=actor or cast.orderer_a, customer=customer or cast.customer_a, **fields
    )


def test_an_orderer_registers_a_system_the_catalogue_does_not_list(cast):
    """ "Kunder har desuden ofte valgt at integrere individuelt udviklede eller mindre udbredte systemer med
    KMD Opus Personale." """
    system = register(cast)
    assert (system.owner, system.is_standard, system.category) == (cast.customer_a, False, "technical_environment")
    assert (system.vendor.name, system.vendor.cvr, system.vendor.contact_email, system.vendor.owner) == (
        "Lille Software ApS",
        "29190925",
        "kontakt@lille-software.example",
        cast.customer_a,
    )
    event = AuditEvent.objects.get(kind=AuditKind.SYSTEM_REGISTERED)
    assert (event.order, event.subject_type, event.subject_id, event.actor) == (
        None,
        ContentType.objects.get_for_model(ExternalSystem),
        str(system.pk),
        cast.orderer_a,
    )


def test_all_ten_categories_of_the_document_and_other_can_be_chosen():
    """ "vagtplanlægning, kantineadministration, medarbejderafregning, e-rekruttering, tidsregistrering,
    dagtilbudsadministration, skoleforvaltning, teknik og miljø, organisationstyring, sikkerhedsstyring og
    mange andre." """
    assert set(ExternalSystem.Category.values) == {
        "rostering",
        "canteen",
        "payroll",
        "recruitment",
        "time_registration",
        "daycare",
        "school",
        "technical_environment",
        "organisation",
        "security",
        "other",
    }


def test_an_order_for_an_own_system_is_always_individual_integration(cast):
    """ "Hvis I ønsker at integrere med systemer, der ikke understøtter standardintegration, er opgaven mere
    kompleks" – individuel integration."""
    system = register(cast)
    order = services.order_create(actor=cast.orderer_a, customer=cast.customer_a, facts=facts(cast, system=system))
    assert order.integration_type == AccessOrder.IntegrationType.INDIVIDUAL


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("vendor_cvr", "12345678"),  # fails modulus 11
        ("vendor_cvr", "1234567"),
        ("vendor_email", "ikke-en-adresse"),
        ("category", "kantine"),
        ("name", ""),
        ("vendor_name", "Lille\u202eSoftware"),
    ],
)
def test_what_is_typed_wrong_is_named_field_by_field_and_nothing_is_registered(cast, field, value):
    with pytest.raises(Invalid) as refusal:
        register(cast, **{field: value})
    assert field in refusal.value.errors
    assert not ExternalSystem.objects.filter(name="Vikarbanken").exists()
    assert not AuditEvent.objects.filter(kind=AuditKind.SYSTEM_REGISTERED).exists()


def test_a_customer_cannot_register_the_same_system_name_twice(cast):
    register(cast)
    with pytest.raises(Invalid) as refusal:
        register(cast, name="VIKARBANKEN")
    assert "name" in refusal.value.errors


def test_only_an_orderer_of_the_customer_registers_systems_for_it(cast):
    for person in (cast.signatory_a, cast.orderer_b, cast.am_a, cast.support):
        with pytest.raises(NotPermitted):
            register(cast, actor=person)
    assert not ExternalSystem.objects.filter(name="Vikarbanken").exists()


def test_what_one_customer_types_about_a_vendor_never_changes_what_another_sees(cast):
    mine = register(cast)
    theirs = register(cast, actor=cast.orderer_b, customer=cast.customer_b, vendor_name="Et andet navn ApS")
    assert mine.vendor != theirs.vendor
    assert Vendor.objects.get(pk=mine.vendor.pk).name == "Lille Software ApS"
    # KMD's catalogue vendor with the same CVR (Vagtdata A/S) is left as it was too.
    register(cast, name="Andet system", vendor_cvr=cast.rostering.vendor.cvr, vendor_name="Forkert navn")
    assert Vendor.objects.get(pk=cast.rostering.vendor.pk).name == "Vagtdata A/S"


# --- Visible only to the customer and KMD ----------------------------------------------------------


def test_another_customer_never_sees_the_system_in_lists_forms_or_by_id(cast, client):
    """ "I app'en, synlig kun for kunden og KMD" (docs/domain.md): lists, the order form, and the page by id."""
    system = register(cast)
    assert system not in systems_available_to(cast.customer_b)
    assert system not in own_systems_visible_to(cast.orderer_b)
    for person in ("orderer_b", "signatory_b", "am_b", "outsider"):
        client.force_login(getattr(cast, person))
        assert client.get(reverse("ordering:system_detail", args=[system.pk])).status_code == 404
        listing = client.get(reverse("ordering:system_list"))  # 403 for someone who sees no orders at all
        assert listing.status_code in (200, 403) and "Vikarbanken" not in listing.content.decode()
        assert "Vikarbanken" not in client.get(reverse("ordering:catalogue")).content.decode()
    client.force_login(cast.orderer_b)
    form = client.get(reverse("ordering:order_create"))
    assert "Vikarbanken" not in form.content.decode()
    assert system not in form.context["form"].fields["external_system"].queryset
    preselected = client.get(reverse("ordering:order_create"), {"external_system": system.pk}).content.decode()
    assert "Vikarbanken" not in preselected
    preview = client.get(reverse("ordering:order_form_preview"), {"external_system": system.pk}).content.decode()
    assert "Vikarbanken" not in preview and "Lille Software" not in preview


def test_another_customer_cannot_order_access_for_it(cast, client):
    system = register(cast)
    with pytest.raises(Invalid) as refusal:
        services.order_create(actor=cast.orderer_b, customer=cast.customer_b, facts=facts(cast, system=system))
    assert "external_system" in refusal.value.errors
    client.force_login(cast.orderer_b)
    response = client.post(
        reverse("ordering:order_create"),
        {
            "customer": cast.customer_b.pk,
            "external_system": system.pk,
            "purchase_model": "single",
            "interfaces": [cast.interfaces["opret-fravaer"].pk],
            "environment": "test",
            "reason": "new",
        },
    )
    assert response.status_code == 400 and not AccessOrder.objects.exists()


@pytest.mark.parametrize("person", ["orderer_a", "signatory_a", "am_a", "support"])
def test_the_customer_and_kmd_see_the_system(cast, client, person):
    system = register(cast)
    client.force_login(getattr(cast, person))
    assert "Vikarbanken" in client.get(reverse("ordering:system_list")).content.decode()
    page = client.get(reverse("ordering:system_detail", args=[system.pk]))
    assert page.status_code == 200 and "Lille Software ApS" in page.content.decode()


# --- The pages ---------------------------------------------------------------------------------------


def test_my_system_is_not_listed_leads_from_the_order_form_to_registering_and_back(cast, client):
    client.force_login(cast.orderer_a)
    form = client.get(reverse("ordering:order_create")).content.decode()
    assert reverse("ordering:system_create") in form
    response = client.post(
        reverse("ordering:system_create"),
        {
            "customer": cast.customer_a.pk,
            "name": "Vikarbanken",
            "vendor_name": "Lille Software ApS",
            "vendor_cvr": "29190925",
            "vendor_email": "",
            "category": "other",
            "description": "",
        },
    )
    system = ExternalSystem.objects.get(name="Vikarbanken")
    assert response.status_code == 302
    assert response["Location"].endswith(f"?customer={cast.customer_a.pk}&external_system={system.pk}")
    back = client.get(response["Location"])
    assert back.context["form"]["external_system"].value() == system.pk


def test_a_wrong_cvr_on_the_page_is_shown_on_its_field(cast, client):
    response = post_form(
        client,
        cast.orderer_a,
        "ordering:system_create",
        {
            "customer": cast.customer_a.pk,
            "name": "X",
            "vendor_name": "Y",
            "vendor_cvr": "12345678",
            "category": "other",
        },
    )
    assert response.status_code == 400
    assert "modulus 11" in " ".join(response.context["form"].errors["vendor_cvr"])
    assert not ExternalSystem.objects.filter(name="X").exists()


def test_a_signatory_is_not_offered_registration(cast, client):
    client.force_login(cast.signatory_a)
    assert client.get(reverse("ordering:system_create")).status_code == 403  # a page the role cannot use says so


def test_the_order_forms_choices_are_listed_as_the_form_validates_them_each_customer_its_own(cast, order_in):
    """The order form lists its systems and the accesses to change or replace from queries compiled once per process
    (core.prepared.prepared_choices); its query sets, built by the same builders, validate what is sent."""
    from ordering.forms import OrderForm

    register(cast)
    running = order_in("active")  # an access of Aarhus' to change or to replace
    for customer in (cast.customer_a, cast.customer_b):
        form = OrderForm(customer=customer)
        for name in ("external_system", "changes_order", "replaces_order"):
            field = form.fields[name]
            listed = [str(value) for value, _label in field.choices if value != ""]
            assert listed == [str(pk) for pk in field.queryset.values_list("pk", flat=True)], (customer, name)
        systems = " ".join(str(label) for _value, label in form.fields["external_system"].choices)
        assert ("Vikarbanken" in systems) == (customer == cast.customer_a)
        accesses = [row.pk for row in form.fields["changes_order"].prepared_rows()]
        assert accesses == ([running.pk] if customer == cast.customer_a else [])
