"""Who a user is in Opus Adgang, and so which pages they may open: the one home of these rules.

Views check these predicates, and the menu (templates/base.html) and the start page show a link
only when the same predicate holds (config/context_processors.py offers them to templates), so no
page is linked for someone it refuses. A role towards one order or one customer (orderer,
signatory, the account manager of *that* customer) lives in ordering/roles.py.
"""

from functools import cache

from django.contrib.auth import get_user_model
from django.db import connection

# KMD staff who maintain the catalogue and price lists without being superusers are put in this group
# (a superuser creates it in the admin and gives it the permissions the work needs).
CATALOGUE_ADMIN_GROUP = "Katalogadministratorer"


def _active(user) -> bool:
    return user.is_authenticated and user.is_active


def _standing(user) -> tuple[bool, bool, bool, bool]:
    """(member of a customer, account manager of a customer, in the catalogue-admin group, user administrator of
    a customer), in one query.

    The menu on every page and the view below it ask several predicates; the user object lives as
    long as the request, so the answer is kept on it (like Django's own permission cache) and a new
    membership, customer or group counts from the next request.
    """
    standing = getattr(user, "_opus_standing", None)
    if standing is None:
        with connection.cursor() as cursor:
            cursor.execute(_standing_sql(), [user.pk, user.pk, user.pk, CATALOGUE_ADMIN_GROUP, user.pk])
            standing = user._opus_standing = tuple(bool(answer) for answer in cursor.fetchone())
    return standing


@cache
def _standing_sql() -> str:
    """The four questions as SQL of their own, written once per process: every page asks them, and the ORM took a
    millisecond to build and compile them on each request, twenty times what the database takes to answer.

    The names are read off the user model's relations (memberships, managed customers and groups are reverse
    relations of the user: no import of ordering); the values are parameters. tests/test_menu.py compares the
    answers with the ORM's for each kind of user."""
    fields = get_user_model()._meta
    membership = fields.get_field("memberships").related_model._meta
    customer = fields.get_field("managed_customers").related_model._meta
    user_groups = fields.get_field("groups").remote_field.through._meta
    group = fields.get_field("groups").related_model._meta
    q = connection.ops.quote_name
    names = {
        "membership": q(membership.db_table),
        "member": q(membership.get_field("user").column),
        "user_admin": q(membership.get_field("is_user_admin").column),
        "customer": q(customer.db_table),
        "account_manager": q(customer.get_field("account_manager").column),
        "user_groups": q(user_groups.db_table),
        "in_group": q(user_groups.get_field("group").column),
        "group_member": q(user_groups.get_field("user").column),
        "group": q(group.db_table),
        "group_id": q(group.pk.column),
        "group_name": q(group.get_field("name").column),
    }
    # Identifiers from the models' own metadata, quoted by the backend; nothing from a request is in the text.
    return (  # noqa: S608
        "SELECT EXISTS(SELECT 1 FROM {membership} WHERE {member} = %s), "
        "EXISTS(SELECT 1 FROM {customer} WHERE {account_manager} = %s), "
        "EXISTS(SELECT 1 FROM {user_groups} INNER JOIN {group} ON {group}.{group_id} = {user_groups}.{in_group} "
        "WHERE {user_groups}.{group_member} = %s AND {group}.{group_name} = %s), "
        "EXISTS(SELECT 1 FROM {membership} WHERE {member} = %s AND {user_admin})"
    ).format(**names)


def is_customer_user(user) -> bool:
    """An orderer, signatory or user administrator of at least one customer."""
    return _active(user) and _standing(user)[0]


def is_account_manager(user) -> bool:
    """KMD's account manager (salgs- og kundeansvarlig) of at least one customer."""
    return _active(user) and _standing(user)[1]


def is_support(user) -> bool:
    """KMD Opus Personale support: reads every order, emergency-closes any access, resends messages."""
    return _active(user) and user.is_support


def is_back_office(user) -> bool:
    """KMD's back office in Opus Adgang: support and account managers.

    Not `is_staff`: catalogue admins are staff too, and they work in the admin, not here.
    """
    return is_support(user) or is_account_manager(user)


def is_catalogue_admin(user) -> bool:
    """Active KMD staff who are superusers or in the catalogue-admin group: the only people the admin lets in.

    `is_staff` alone is not enough: account managers and support are staff too (account managers must
    be, to be chosen on a customer), and they work in Opus Adgang itself, not in the admin.
    """
    if not (_active(user) and user.is_staff):
        return False
    return user.is_superuser or _standing(user)[2]


# The pages behind the menu. Each view checks its predicate and the menu links the page only when it holds.


def can_see_orders(user) -> bool:
    """Orders, invoices and licences: of one's own customers, the managed ones, or (support) all."""
    return is_back_office(user) or is_customer_user(user)


def can_ask_for_help(user) -> bool:
    """Help from KMD (ordering/consulting.py): the customer's people ask, its account manager answers."""
    return is_customer_user(user) or is_account_manager(user)


def can_see_billing_runs(user) -> bool:
    """The billing page (billing/views.py): the next run's preview and the runs so far, of the customers one serves."""
    return is_back_office(user)


def can_start_billing_run(user) -> bool:
    """Starting the monthly billing run from the billing page: KMD's back office, those who see the billing page.

    A run bills every customer, not only the starter's: it is the same run the 1st of the month makes, idempotent,
    and only for a month that has ended, so starting it early changes no amount anyone is billed (docs/billing.md).
    """
    return can_see_billing_runs(user)


def can_see_expiring_certificates(user) -> bool:
    return is_back_office(user)


def can_see_controller_registers(user) -> bool:
    """The controller's register of external systems (registers/controller.py): a customer's own people, and
    KMD's back office for the customers it serves; which customers is the tenant rule's (served_customers)."""
    return is_back_office(user) or is_customer_user(user)


def can_see_undelivered_messages(user) -> bool:
    # core/views.py checks the same support flag itself: core sits below accounts (.importlinter).
    return is_support(user)


def is_user_admin(user) -> bool:
    """A customer's user administrator (brugeradministrator): grants and removes that customer's roles."""
    return _active(user) and _standing(user)[3]


def can_manage_people(user) -> bool:
    """The users page: a customer's user administrators, and KMD, who appoints a customer's first one."""
    return is_user_admin(user) or is_account_manager(user) or is_catalogue_admin(user)


def can_use_admin(user) -> bool:
    return is_catalogue_admin(user)
