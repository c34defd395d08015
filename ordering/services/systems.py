"""A customer's own external systems: registered by its orderers, seen by its people."""

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext as _

from audit.trail import audit_record
from core.errors import Invalid, NotPermitted
from core.transactions import retry_on_conflict

from ..audit import AuditKind
from ..models import (
    TEXT_MAX_LENGTH,
    Customer,
    ExternalSystem,
    Vendor,
)
from ..roles import Role, customer_roles
from ..validators import typed_text_problem, validate_cvr


def _system_problems(
    *, name: str, vendor_name: str, vendor_cvr: str, vendor_email: str, category: str, description: str
) -> dict:
    errors: dict[str, str] = {}
    for field, value, limit, multiline in (
        ("name", name, ExternalSystem._meta.get_field("name").max_length, False),
        ("vendor_name", vendor_name, Vendor._meta.get_field("name").max_length, False),
        ("description", description, TEXT_MAX_LENGTH, True),
    ):
        problem = typed_text_problem(value, max_length=limit, multiline=multiline)
        if problem:
            errors[field] = problem
    if not name:
        errors["name"] = _("Type the system's name.")
    if not vendor_name:
        errors["vendor_name"] = _("Type the vendor's name.")
    try:
        validate_cvr(vendor_cvr)
    except ValidationError as error:
        errors["vendor_cvr"] = " ".join(error.messages)
    if vendor_email:
        try:
            validate_email(vendor_email)
        except ValidationError:
            errors["vendor_email"] = _("Type the vendor contact's e-mail address, for example it@leverandoer.dk.")
    if category not in ExternalSystem.Category.values:
        errors["category"] = _("Choose the category that fits the system best, or “Other”.")
    return errors


@retry_on_conflict
def external_system_register(
    *,
    actor,
    customer: Customer,
    name: str,
    vendor_name: str,
    vendor_cvr: str,
    vendor_email: str = "",
    category: str,
    description: str = "",
) -> ExternalSystem:
    """An orderer registers a system KMD's catalogue does not list ("individuelt udviklede eller mindre
    udbredte systemer"). It belongs to the customer, is seen only by it and KMD, and is never a standard
    system, so every order for it is individual integration."""
    if Role.ORDERER not in customer_roles(actor, customer.pk):
        raise NotPermitted(
            _("Only an orderer at %(customer)s can register systems for it.") % {"customer": customer.name}
        )
    name, vendor_name, vendor_cvr = name.strip(), vendor_name.strip(), vendor_cvr.strip().replace(" ", "")
    vendor_email, description = vendor_email.strip(), description.strip()
    errors = _system_problems(
        name=name,
        vendor_name=vendor_name,
        vendor_cvr=vendor_cvr,
        vendor_email=vendor_email,
        category=category,
        description=description,
    )
    if errors:
        raise Invalid(_("The system has errors. Correct the fields marked below."), errors=errors)
    with transaction.atomic():
        Customer.objects.select_for_update(no_key=True).only("pk").get(pk=customer.pk)
        if ExternalSystem.objects.filter(owner=customer, name__iexact=name).exists():
            message = _("%(customer)s has already registered a system called “%(name)s”. Choose it in the order form.")
            message %= {"customer": customer.name, "name": name}
            raise Invalid(message, errors={"name": message})
        # The customer's own record of the vendor, so what it types never changes KMD's catalogue or
        # what another customer sees; a later registration naming the same CVR updates it.
        vendor, _created = Vendor.objects.update_or_create(
            owner=customer, cvr=vendor_cvr, defaults={"name": vendor_name, "contact_email": vendor_email}
        )
        system = ExternalSystem.objects.create(
            name=name, vendor=vendor, category=category, description=description, owner=customer, is_standard=False
        )
        audit_record(
            kind=AuditKind.SYSTEM_REGISTERED,
            subject=system,
            actor=actor,
            role=Role.ORDERER,
            comment=f"{customer.name}: {system.name} ({vendor.name}, CVR {vendor.cvr})",
        )
    return system
