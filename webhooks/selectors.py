"""What of webhooks a customer's user administrator sees: their own customers' endpoints, nothing else."""

from django.db.models import QuerySet

from audit import vocabulary
from core.security import visible_or_404
from ordering.models import Customer, CustomerMembership

from .models import WebhookDelivery, WebhookEndpoint

# The newest test webhooks shown on an endpoint's page.
DELIVERIES_SHOWN = 10


def customers_with_webhooks_of(user) -> QuerySet[Customer]:
    """The customers whose endpoints `user` manages: those where they are user administrator."""
    if not (user.is_authenticated and user.is_active):
        return Customer.objects.none()
    admin_of = CustomerMembership.objects.filter(user=user, is_user_admin=True).values("customer_id")
    return Customer.objects.filter(pk__in=admin_of).order_by("name")


def endpoints_visible_to(user) -> QuerySet[WebhookEndpoint]:
    """The endpoints of the customers `user` manages; KMD's own (no customer) never."""
    return WebhookEndpoint.objects.filter(customer__in=customers_with_webhooks_of(user)).select_related("customer")


def customer_for_webhooks(user, pk: int) -> Customer:
    """The customer if `user` manages its endpoints; 404 otherwise (another customer's is logged)."""
    return visible_or_404(customers_with_webhooks_of(user), pk, kind="customer")


def endpoint_for_user(user, pk: int) -> WebhookEndpoint:
    """The endpoint if it is one of `user`'s customers'; 404 otherwise (another customer's is logged)."""
    return visible_or_404(endpoints_visible_to(user), pk, kind="webhook endpoint")


def recent_deliveries(endpoint: WebhookEndpoint) -> list[WebhookDelivery]:
    """The endpoint's newest deliveries with their attempts, in two queries however many there are; each with
    `kind_label`, what its kind reads as in the reader's language."""
    deliveries = list(endpoint.deliveries.prefetch_related("attempt_log").order_by("-pk")[:DELIVERIES_SHOWN])
    for delivery in deliveries:
        delivery.kind_label = vocabulary.kind_label(delivery.kind)
    return deliveries
