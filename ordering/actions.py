"""How each lifecycle action is offered on the order page."""

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Action:
    name: str
    label: Promise
    button: str = "button-secondary"
    help: Promise | str = ""
    comment_label: Promise = _("Comment")
    comment_required: bool = False
    asks_comment: bool = True
    asks_date: bool = False
    date_label: Promise = _("Date")
    asks_confirmation: bool = False
    asks_signature: bool = False
    confirmation_label: Promise = _("I confirm")


ACTIONS = {
    a.name: a
    for a in [
        Action(
            "submit",
            _("Submit order"),
            button="button-primary",
            asks_comment=False,
            help=_("The account manager at KMD reviews the order and prepares the contract addendum."),
        ),
        Action("withdraw", _("Withdraw order"), help=_("The order is cancelled and cannot be reopened.")),
        Action(
            "return_for_changes",
            _("Return for changes"),
            comment_label=_("What should the orderer change?"),
            comment_required=True,
        ),
        Action("reject", _("Reject order"), button="button-warning", comment_label=_("Reason"), comment_required=True),
        Action(
            "issue_addendum",
            _("Issue contract addendum"),
            button="button-primary",
            help=_("The customer's signatories are asked to accept the addendum."),
        ),
        Action(
            "revise",
            _("Issue a new version of the addendum"),
            comment_label=_("What changed?"),
            comment_required=True,
        ),
        Action(
            "accept",
            _("Accept addendum"),
            button="button-primary",
            asks_comment=False,
            asks_confirmation=True,
            asks_signature=True,
            confirmation_label=_(
                "I am authorised to bind the customer, and I instruct KMD as data processor to give the "
                "external system access as described in the addendum."
            ),
        ),
        Action(
            "decline",
            _("Decline addendum"),
            comment_label=_("Why is the addendum declined?"),
            comment_required=True,
        ),
        Action(
            "activate",
            _("Access established"),
            button="button-primary",
            asks_date=True,
            date_label=_("Access established on"),
            help=_("The orderers are told, with a text to forward to the vendor."),
        ),
        Action("request_closure", _("Request closure of access")),
        Action(
            "close",
            _("Close access"),
            button="button-primary",
            asks_date=True,
            date_label=_("Access ends on"),
            help=_("Billing tied to this access stops on that date."),
        ),
        Action(
            "emergency_close",
            _("Emergency-close access"),
            button="button-warning",
            comment_label=_("Reason for the emergency closure"),
            comment_required=True,
            asks_confirmation=True,
            confirmation_label=_(
                "I understand that access is closed at once and cannot be reopened; a new order is needed."
            ),
            help=_("Closes access immediately. Customer and account manager are notified at once."),
        ),
    ]
}
