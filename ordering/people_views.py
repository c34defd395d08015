"""The customer's own people: who holds which role, who waits for one, invitations (ordering/people.py)."""

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from accounts.roles import can_manage_people
from core.errors import Refusal
from core.form_tokens import Outcome, submit_once
from core.http import allowed_if, show_refusal
from core.security import NotVisible
from core.widgets import HiddenInput

from . import people
from .models import Customer, Invitation

INVITATION_SESSION_KEY = "pending_invitation"


class _RoleChoices(forms.Form):
    """The three roles a customer's user administrator gives: one checkbox each."""

    orderer = forms.BooleanField(label=gettext_lazy("Orderer"), required=False)
    signatory = forms.BooleanField(label=gettext_lazy("Signatory"), required=False)
    user_admin = forms.BooleanField(label=gettext_lazy("User administrator"), required=False)

    def roles(self) -> people.Roles:
        data = self.cleaned_data
        return people.Roles(data["orderer"], data["signatory"], data["user_admin"])


class RolesForm(_RoleChoices):
    person = forms.IntegerField(widget=HiddenInput)
    field_order = ["person", "orderer", "signatory", "user_admin"]


class InvitationForm(_RoleChoices):
    email = forms.EmailField(
        label=gettext_lazy("The colleague's work email address"),
        max_length=254,
        error_messages={"required": gettext_lazy("Enter the colleague's work email address.")},
    )
    field_order = ["email", "orderer", "signatory", "user_admin"]

    def clean(self) -> dict:
        # Said together with any other error on the form, not after it is corrected.
        data = super().clean()
        if not (data.get("orderer") or data.get("signatory") or data.get("user_admin")):
            self.add_error(None, _("Choose at least one role for the invitation."))
        return data


def customer_for_people_page(user, pk: int) -> Customer:
    """The customer if this user may manage its people; 404 otherwise (another customer's is logged)."""
    customer = Customer.objects.select_related("account_manager").filter(pk=pk).first()
    if customer is None:
        raise Http404("No such customer")
    if not people.may_see_people(user, customer):
        raise NotVisible("No such customer", kind="customer", pk=pk)
    return customer


@login_required
@allowed_if(can_manage_people)
def people_index(request: HttpRequest) -> HttpResponse:
    """The customers whose people this user manages, each with how many wait for a role."""
    customers = list(people.customers_managed_by(request.user))
    waiting = people.waiting_counts(customers)
    rows = [(c, waiting.get(c.cvr, 0)) for c in customers]
    return render(request, "ordering/people_index.html", {"rows": rows})


@login_required
def customer_people(request: HttpRequest, pk: int) -> HttpResponse:
    customer = customer_for_people_page(request.user, pk)
    manages_all = people.is_user_admin_of(request.user, customer)
    invite_form = InvitationForm(request.POST if request.POST.get("action") == "invite" else None)
    here = reverse("ordering:customer_people", args=[customer.pk])
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "roles":
                form = RolesForm(request.POST)
                if form.is_valid():
                    person = User.objects.filter(pk=form.cleaned_data["person"]).first()
                    if person is None:
                        raise Http404("No such person")
                    roles = form.roles()
                    if not manages_all:
                        # KMD changes only the administrator role; the others stay as the customer gave them.
                        held = people.roles_at(customer, person)
                        roles = people.Roles(held.orderer, held.signatory, roles.user_admin)

                    def change() -> Outcome:
                        people.membership_set_roles(actor=request.user, customer=customer, person=person, roles=roles)
                        return Outcome(
                            here, _("%(name)s's roles were saved.") % {"name": person.get_full_name() or person}
                        )

                    return submit_once(request, change)
            elif action == "invite" and invite_form.is_valid():

                def invite() -> Outcome:
                    invitation = people.invitation_create(
                        actor=request.user,
                        customer=customer,
                        email=invite_form.cleaned_data["email"],
                        roles=invite_form.roles(),
                    )
                    return Outcome(
                        here,
                        _("The invitation was sent to %(email)s. It works once, for %(days)d days.")
                        % {"email": invitation.email, "days": people.INVITATION_DAYS},
                    )

                return submit_once(request, invite)
            elif action == "revoke":
                invitation = Invitation.objects.filter(customer=customer, pk=request.POST.get("invitation")).first()
                if invitation is None:
                    raise Http404("No such invitation")

                def revoke() -> Outcome:
                    people.invitation_revoke(actor=request.user, invitation=invitation)
                    return Outcome(here, _("The invitation to %(email)s was revoked.") % {"email": invitation.email})

                return submit_once(request, revoke)
        except Refusal as refusal:
            show_refusal(request, refusal, form=invite_form if action == "invite" else None, action=f"people_{action}")
            if action != "invite":
                return redirect(here)
    members = list(people.people_of(customer))
    context = {
        "customer": customer,
        "manages_all": manages_all,
        "members": members,
        "waiting": list(people.people_without_roles(customer)),
        "invitations": list(customer.invitations.select_related("created_by", "used_by")[:50]),
        "invite_form": invite_form,
    }
    return render(request, "ordering/people.html", context, status=400 if invite_form.errors else 200)


def invitation(request: HttpRequest, token: str) -> HttpResponse:
    """The link in an invitation e-mail: remember it, and ask the person to log in with MitID Erhverv."""
    found = people.invitation_from_token(token)
    usable = found is not None and found.is_open()
    if usable:
        request.session[INVITATION_SESSION_KEY] = found.pk
    return render(
        request,
        "ordering/invitation.html",
        {"invitation": found if usable else None, "next": reverse("home")},
        status=200 if usable else 404,
    )
