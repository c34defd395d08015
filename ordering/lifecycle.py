"""What ordering needs from the apps built on it: the one contract between orders and money, and orders
and certificates.

ordering sits below billing and certificates (.importlinter) and never imports them. Yet activating an
order starts billing, closing it stops fees, issuing an addendum freezes its quote, individual
integration needs an accepted certificate chain, and the order page shows both. Each of those needs is
a method of a Protocol here; billing and certificates implement it and register their implementation in
their AppConfig.ready(). ordering reaches them only as `billing()` and `certificates()`.

The hooks that write (`on_activate`, `on_close`, `on_emergency_close`, `on_decline`, `quote_freeze`) run inside the
order's transition (ordering/services/): in its transaction, after its locks, and recorded by its
audit event. A refusal they raise (core.errors.Refusal) undoes the whole transition.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any, Protocol

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Expression, Q

if TYPE_CHECKING:
    from .models import AccessOrder, Addendum, ConsultingRequest, Customer


class Billing(Protocol):
    """Money around an order's lifecycle. billing.lifecycle.BillingHooks implements it."""

    def quote_freeze(self, *, addendum: Addendum) -> None:
        """A version of the addendum is issued: fix the quote it shows from then on.

        Raises a Refusal when no quote can be made (no price list in force, a price missing).
        """

    def on_activate(self, *, order: AccessOrder, actor) -> None:
        """Access is established on `order.activated_on`: book the accepted quote's charges, start its fees."""

    def on_close(
        self, *, order: AccessOrder, actor, on: datetime.date, end_licence_ids: list[int] | None = None
    ) -> None:
        """Access ends on `on`: stop the order's fees, and end the chosen licences (None: every licence
        that `licences_offered_on_close` offers)."""

    def on_emergency_close(self, *, order: AccessOrder, actor, on: datetime.date) -> None:
        """Access ends at once: stop the order's fees; its licences run until someone ends them. Closed before
        its access was established, the order pays none of the fees it shares with other orders."""

    def on_decline(self, *, order: AccessOrder, actor) -> None:
        """The signatory declined the addendum: the fees it shared with other orders are not this order's to
        pay now (another may take them over)."""

    def licences_offered_on_close(self, order: AccessOrder) -> list[Any]:
        """The running licences that only this access uses, which closing it may end (each has `pk` and
        `interface`)."""

    def quote_preview(self, *, customer: Customer, facts: dict) -> tuple[Any | None, Any | None]:
        """For the new-order form's current answers: their quote (None while they are incomplete), and single
        purchase beside the system's integration packages for the chosen interfaces (None when there is nothing
        to compare). One call, as both read the same price list, contract and customer's facts."""

    def addendum_quote(self, addendum: Addendum) -> Any | None:
        """The quote frozen in an addendum version, as the document prints it."""

    def addendum_line_sentence(self, line: Any, *, system: str, package: str, interface_names: dict[str, str]) -> str:
        """The contract addendum's Danish sentence for one line of its frozen quote (`addendum_quote`), in the
        contract's register ("Kunden"). Raises LookupError for a price rule billing has no wording for."""

    def order_section(self, order: AccessOrder, roles: set, *, interfaces: list) -> dict:
        """The order page's money section (templates/billing/_money_section.html reads it as `money`), from the
        order as the page read it: `interfaces` are its requested_interfaces(), and its addenda and requests for
        help are read from the order (prefetched by the page)."""

    def consulting_request_section(self, request: ConsultingRequest, roles: set) -> dict:
        """A request for help's money: the consulting recorded since it was asked, and the account manager's
        form to record more (templates/billing/_consulting_request.html reads it as `money`)."""


class Certificates(Protocol):
    """The OCES3 certificate chains of individual integration. certificates.lifecycle.CertificateHooks
    implements it."""

    def current_bundle(self, order: AccessOrder) -> Any | None:
        """The chain in use for the order, or None. It has `environment`, `get_environment_display()` and
        `leaf` (with `not_after`)."""

    def rollover_waiting(self, now: datetime.datetime | Expression) -> Q:
        """A condition on AccessOrder: a new certificate chain waits for the account manager's confirmation, and
        its certificate has not expired by `now` (so it can still be confirmed). `now` may be a prepared query's
        slot (core/prepared.py), as may `until` below."""

    def renewal_window_end(self, today: datetime.date) -> datetime.datetime:
        """The last moment of certificates' renewal window as it stands on `today` (that window's last day
        included)."""

    def renewal_due(self, until: datetime.datetime | Expression) -> Q:
        """A condition on AccessOrder: the certificate in use expires by `until`, the renewal window's end
        (`renewal_window_end`): due for renewal."""

    def order_section(self, order: AccessOrder, user) -> dict:
        """The order page's certificate section for `user` (templates/certificates/_section.html reads it as
        `certificates`): the upload and rollover forms only when their rules let `user` use them now."""


_registered: dict[str, Any] = {}


def register_billing(hooks: Billing) -> None:
    _registered["billing"] = hooks


def register_certificates(hooks: Certificates) -> None:
    _registered["certificates"] = hooks


def _get(name: str) -> Any:
    try:
        return _registered[name]
    except KeyError:
        # Never a silent no-op: an order activated without billing would go unbilled.
        raise ImproperlyConfigured(
            f"No {name} hooks are registered: {name} registers them in its AppConfig.ready() (ordering/lifecycle.py)."
        ) from None


def billing() -> Billing:
    return _get("billing")


def certificates() -> Certificates:
    return _get("certificates")
