"""Support's incident closure page (ordering/services/incidents.py): choose an external system or a vendor, see
the running accesses that would close, give the reason and confirm the count in one step."""

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy, ngettext

from accounts.roles import is_support
from core.form_tokens import Outcome
from core.http import allowed_if, submit_or_refuse
from core.widgets import HiddenInput

from .models import AccessOrder
from .selectors import IncidentTarget, incident_accesses, incident_choices, incident_target_for
from .services import incident_close
from .services.incidents import incident_label
from .transitions import comment_field

# The modal (ordering/_confirm_modal.html) and the form it sends are named after this.
ACTION = "incident_close"
LABEL = gettext_lazy("Emergency-close every running access")


class IncidentClosureForm(forms.Form):
    """The reason, and the orders the page showed (their ids): the service closes them only if they are still
    exactly the running accesses."""

    reason = comment_field(
        gettext_lazy("Reason for the emergency closure"),
        missing=gettext_lazy(
            "Give the reason for the incident closure; every customer and account manager concerned will see it."
        ),
    )
    orders = forms.CharField(widget=HiddenInput)

    def __init__(self, data=None, *, target: IncidentTarget, accesses: list[AccessOrder], **kwargs) -> None:
        initial = {"orders": ",".join(str(pk) for pk in sorted(order.pk for order in accesses))}
        super().__init__(data, initial=initial, auto_id=f"{ACTION}-%s", **kwargs)
        self.fields["reason"].help_text = gettext_lazy(
            "Customers and their account managers get it by e-mail, and it is kept with each order."
        )
        self.target = target
        self.count = len(accesses)

    def clean_orders(self) -> list[int]:
        parts = self.cleaned_data["orders"].split(",")
        if not all(part.isdigit() for part in parts):
            raise forms.ValidationError(gettext_lazy("The list of accesses was not sent. Reload the page."))
        return [int(part) for part in parts]

    # What ordering/_confirm_modal.html and ordering/_consequence.html ask of an action's form.
    confirm_button = "button-warning"

    def consequence(self) -> str:
        return ngettext(
            "Closes %(count)s access of %(target)s now.",
            "Closes %(count)s accesses of %(target)s now.",
            self.count,
        ) % {"count": self.count, "target": incident_label(self.target)}

    def consequence_attrs(self) -> dict:
        return {}


@login_required
@allowed_if(is_support)
def incident_closure(request: HttpRequest) -> HttpResponse:
    """GET: choose (no target), or the running accesses of the chosen system (?system=) or vendor (?vendor=).
    POST: close them, asked first (the modal; without JavaScript, a page of its own)."""
    target = incident_target_for(request.user, system=request.GET.get("system"), vendor=request.GET.get("vendor"))
    if target is None:
        status = 400 if request.method == "POST" else 200  # a closure posted without its system or vendor
        return render(
            request, "ordering/incident_closure.html", {"choices": incident_choices(request.user)}, status=status
        )
    accesses = list(incident_accesses(target))
    form = IncidentClosureForm(request.POST or None, target=target, accesses=accesses)
    if request.method == "POST" and form.is_valid():
        if request.POST.get("confirmed") != "1":
            # Without JavaScript the modal cannot ask: the consequence on a page of its own, nothing done yet.
            return render(request, "ordering/incident_confirm.html", _context(target, accesses, form))

        def act() -> Outcome:
            closed = incident_close(
                target=target,
                actor=request.user,
                reason=form.cleaned_data["reason"],
                expected_ids=form.cleaned_data["orders"],
            )
            message = ngettext(
                "%(count)s access of %(target)s has been emergency-closed. The customer and the account manager "
                "are told by e-mail, and the access register no longer lists it.",
                "%(count)s accesses of %(target)s have been emergency-closed. The customers and their account "
                "managers are told by e-mail, and the access register no longer lists them.",
                len(closed),
            ) % {"count": len(closed), "target": incident_label(target)}
            return Outcome(reverse("ordering:incident_closure"), message)

        def again() -> HttpResponse:
            # The list as it is now, with the reason as typed; the refusal is shown above it.
            fresh = list(incident_accesses(target))
            retyped = IncidentClosureForm(target=target, accesses=fresh)
            retyped.initial["reason"] = form.cleaned_data["reason"]
            return render(request, "ordering/incident_closure.html", _context(target, fresh, retyped), status=409)

        return submit_or_refuse(request, act, refused=again, action=ACTION)
    status = 400 if request.method == "POST" else 200
    return render(request, "ordering/incident_closure.html", _context(target, accesses, form), status=status)


def _context(target: IncidentTarget, accesses: list[AccessOrder], form: IncidentClosureForm) -> dict:
    customers = sorted({order.customer.name for order in accesses})
    return {
        "target": target,
        "target_label": incident_label(target),
        "accesses": accesses,
        "customers": customers,
        "form": form,
        "spec": {"name": ACTION, "label": LABEL},
    }
