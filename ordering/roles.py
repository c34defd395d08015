"""Who may do what: the four roles a user can hold towards an order."""

from django.contrib.auth import get_user_model
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.roles import is_support
from core.prepared import Prepared


class Role(models.TextChoices):
    ORDERER = "orderer", _("Orderer")
    SIGNATORY = "signatory", _("Signatory")
    ACCOUNT_MANAGER = "account_manager", _("Account manager")
    SUPPORT = "support", _("Support")
    # KMD staff who maintain the catalogue and price lists in the admin; never a role towards an order.
    CATALOGUE_ADMIN = "catalogue_admin", _("Catalogue administrator")
    # A customer's employee who grants and removes the customer's roles; never a role towards an order.
    USER_ADMIN = "user_admin", _("User administrator")


def customer_roles(user, customer_id: int) -> set[Role]:
    """The roles `user` holds towards one customer's orders."""
    if not user.is_authenticated:
        return set()
    roles: set[Role] = set()
    membership = _membership(user, customer_id)
    if membership is not None:
        if membership.is_orderer:
            roles.add(Role.ORDERER)
        if membership.is_signatory:
            roles.add(Role.SIGNATORY)
    if is_support(user):
        roles.add(Role.SUPPORT)
    return roles


def _membership(user, customer_id: int):
    """The user's membership at the customer, read once per user object.

    A page asks for the roles several times (the order's actions, its money section, its forms); the
    user object lives as long as the request, so, like Django's own permission cache on the user, the
    answer is kept on it and a changed membership counts from the next request.
    """
    cache = getattr(user, "_memberships_by_customer", None)
    if cache is None:
        cache = user._memberships_by_customer = {}
    if customer_id not in cache:
        cache[customer_id] = _MEMBERSHIP.first(user=user.pk, customer=customer_id)
    return cache[customer_id]


# Asked on every order page and by every action on it: compiled once per process (core/prepared.py). The model as
# the user's relation names it: ordering.models asks the roles of an order, so this module cannot import it.
_MEMBERSHIP = Prepared(
    lambda p: (
        get_user_model()
        ._meta.get_field("memberships")
        .related_model.objects.filter(user_id=p.user, customer_id=p.customer)
        .order_by("pk")[:1]
    )
)


def order_roles(user, order) -> set[Role]:
    """The roles `user` holds towards `order`: customer roles plus account manager of its customer."""
    roles = customer_roles(user, order.customer_id)
    if user.is_authenticated and order.customer.account_manager_id == user.pk:
        roles.add(Role.ACCOUNT_MANAGER)
    return roles
