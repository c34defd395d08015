"""Who a login is: the customer's employee behind a MitID Erhverv login, or KMD's employee behind Entra ID.

accounts/oidc.py reads the claims; this module decides who the person is in Opus Adgang and refuses what
must not log in. ordering/login.py calls it from django-allauth. A refusal is a `LoginRefused` with a
stable code: the security log's word and the key of the page's sentence (templates/registration/login_refused.html).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import Group
from django.core import signing
from django.db import transaction
from django.db.models import Count, F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import LoginIdentity, User
from accounts.oidc import Assurance, LoginClaims, Proof, StaffClaims
from accounts.roles import CATALOGUE_ADMIN_GROUP, is_catalogue_admin
from audit.trail import audit_record
from core.email import build_email
from core.errors import Invalid, NotAllowedNow, NotPermitted
from core.outbox import outbox_enqueue, outbox_handler
from core.security import SecurityEvent, security_event_by
from core.transactions import retry_on_conflict

from .audit import AuditKind
from .models import Customer, CustomerMembership, Invitation
from .roles import Role


class LoginRefused(Exception):
    """A login that is refused; `code` says why (e.g. unknown_cvr), `customer` where one was recognised."""

    def __init__(self, code: str, **details) -> None:
        super().__init__(code)
        self.code = code
        self.details = details


def minimum_assurance() -> Assurance:
    level = Assurance.parse(settings.MITID_MIN_ASSURANCE)
    if level is None:
        raise ValueError(f"MITID_MIN_ASSURANCE={settings.MITID_MIN_ASSURANCE!r}: say low, substantial or high")
    return level


def _identity(scheme: str, organisation: str, person: str) -> LoginIdentity | None:
    return (
        LoginIdentity.objects.select_for_update()
        .select_related("user")
        .filter(scheme=scheme, organisation=organisation, person=person)
        .first()
    )


def _new_user(username: str, name: str, email: str, **flags) -> User:
    first, _space, last = name.partition(" ")
    user = User(username=username, first_name=first[:150], last_name=last[:150], email=email[:254], **flags)
    user.set_unusable_password()
    user.save()
    return user


def _refresh_person(user: User, name: str, email: str) -> None:
    """The provider is the source of the person's name and e-mail: keep them as it last said."""
    first, _space, last = name.partition(" ")
    changed = []
    for field, value in (("first_name", first[:150]), ("last_name", last[:150]), ("email", email[:254])):
        if value and getattr(user, field) != value:
            setattr(user, field, value)
            changed.append(field)
    if changed:
        user.save(update_fields=changed)


@retry_on_conflict
def customer_person_log_in(claims: LoginClaims) -> tuple[User, Customer, Proof]:
    """The customer employee behind a MitID Erhverv login: recognised by UUID + CVR, made on the first login.

    Refused: a CVR of no customer, an assurance level below MITID_MIN_ASSURANCE (or none stated), a
    deactivated user. NemLog-in's one-time UUID change (same CVR and RID, new UUID) moves the person's identity
    to the new UUID instead of making a second person.
    """
    customer = Customer.objects.filter(cvr=claims.cvr).first()
    if customer is None:
        raise LoginRefused("unknown_cvr", cvr=claims.cvr)
    if claims.assurance is None or claims.assurance < minimum_assurance():
        raise LoginRefused(
            "assurance", cvr=claims.cvr, assurance=claims.assurance.name.lower() if claims.assurance else ""
        )
    scheme = LoginIdentity.Scheme.MITID_ERHVERV
    with transaction.atomic():
        identity = _identity(scheme, claims.cvr, claims.uuid)
        if identity is None and claims.rid:
            identity = (
                LoginIdentity.objects.select_for_update()
                .select_related("user")
                .filter(scheme=scheme, organisation=claims.cvr, rid=claims.rid)
                .first()
            )
            if identity is not None:
                identity.person = claims.uuid  # NemLog-in gave this person a new UUID
        if identity is None:
            user = _new_user(f"mitid-{claims.cvr}-{claims.uuid}", claims.name, claims.email)
            identity = LoginIdentity(user=user, scheme=scheme, organisation=claims.cvr, person=claims.uuid)
        if not identity.user.is_active:
            raise LoginRefused("inactive", cvr=claims.cvr)
        identity.issuer = claims.issuer[:300]
        identity.rid = claims.rid[:64]
        identity.last_login_at = timezone.now()
        identity.save()
        _refresh_person(identity.user, claims.name, claims.email)
    return identity.user, customer, _proof(scheme, claims.issuer, claims.cvr, claims.uuid, claims)


@retry_on_conflict
def staff_log_in(claims: StaffClaims) -> tuple[User, Proof]:
    """The KMD employee behind an Entra ID login: the app roles say what they do here, at every login.

    Support and catalogue admin follow the `roles` claim each time (a role taken away in Entra ID is gone at the
    next login); an account manager's customers are chosen in Opus Adgang. A KMD login without any of the three
    roles is refused, as is one from another tenant.
    """
    if settings.ENTRA_TENANT_ID and claims.tenant != settings.ENTRA_TENANT_ID.lower():
        raise LoginRefused("other_tenant")
    is_account_manager = settings.ENTRA_ROLE_ACCOUNT_MANAGER in claims.roles
    is_support = settings.ENTRA_ROLE_SUPPORT in claims.roles
    is_catalogue_admin = settings.ENTRA_ROLE_CATALOGUE_ADMIN in claims.roles
    if not (is_account_manager or is_support or is_catalogue_admin):
        raise LoginRefused("no_kmd_role")
    scheme = LoginIdentity.Scheme.ENTRA_ID
    with transaction.atomic():
        identity = _identity(scheme, claims.tenant, claims.object_id)
        if identity is None:
            user = _new_user(f"entra-{claims.object_id}", claims.name, claims.email, is_staff=True)
            identity = LoginIdentity(user=user, scheme=scheme, organisation=claims.tenant, person=claims.object_id)
        user = identity.user
        if not user.is_active:
            raise LoginRefused("inactive")
        identity.issuer = claims.issuer[:300]
        identity.last_login_at = timezone.now()
        identity.save()
        _refresh_person(user, claims.name, claims.email)
        group, _made = Group.objects.get_or_create(name=CATALOGUE_ADMIN_GROUP)
        was = (user.is_support, user.groups.filter(pk=group.pk).exists())
        if (user.is_support, user.is_staff) != (is_support, True):
            user.is_support, user.is_staff = is_support, True
            user.save(update_fields=["is_support", "is_staff"])
        if is_catalogue_admin:
            user.groups.add(group)
        else:
            user.groups.remove(group)
        if was != (is_support, is_catalogue_admin):
            # Privileges changed by the identity provider: in the security log, with before and after.
            security_event_by(
                user,
                SecurityEvent.STAFF_ROLES_CHANGED,
                support=[was[0], is_support],
                catalogue_admin=[was[1], is_catalogue_admin],
            )
    return user, _proof(scheme, claims.issuer, claims.tenant, claims.object_id, claims)


def _proof(scheme: str, issuer: str, organisation: str, person: str, claims) -> Proof:
    assurance = getattr(claims, "assurance", None)
    moment = claims.authenticated_at or timezone.now()
    return Proof(
        scheme=scheme,
        issuer=issuer,
        organisation=organisation,
        person=person,
        assurance=assurance.name.lower() if assurance else "",
        authenticated_at=moment.isoformat(),
    )


# --- The customer's own people: roles, user administrators, invitations ------------------------------------------

INVITATION_DAYS = 14  # how long an invitation's link works
INVITATION_SALT = "opus-adgang.invitation"


@dataclass(frozen=True)
class Roles:
    orderer: bool = False
    signatory: bool = False
    user_admin: bool = False

    @classmethod
    def of(cls, holder) -> Roles:
        return cls(holder.is_orderer, holder.is_signatory, holder.is_user_admin)

    def any(self) -> bool:
        return self.orderer or self.signatory or self.user_admin

    def words(self) -> str:
        """The roles as the audit trail's comment names them (codes, read in the reader's language at display)."""
        return (
            ",".join(
                name
                for name, held in (
                    ("orderer", self.orderer),
                    ("signatory", self.signatory),
                    ("user_admin", self.user_admin),
                )
                if held
            )
            or "-"
        )


def is_user_admin_of(user, customer: Customer) -> bool:
    return (
        user.is_authenticated
        and user.is_active
        and CustomerMembership.objects.filter(user=user, customer=customer, is_user_admin=True).exists()
    )


def may_appoint_user_admins(user, customer: Customer) -> bool:
    """KMD appoints a customer's first user administrator: its account manager, or a catalogue admin; after
    that the customer's own administrators appoint more."""
    return is_user_admin_of(user, customer) or (
        user.is_authenticated and (customer.account_manager_id == user.pk or is_catalogue_admin(user))
    )


def may_see_people(user, customer: Customer) -> bool:
    return is_user_admin_of(user, customer) or may_appoint_user_admins(user, customer)


def _actor_role(actor, customer: Customer) -> str:
    if is_user_admin_of(actor, customer):
        return Role.USER_ADMIN
    if customer.account_manager_id == actor.pk:
        return Role.ACCOUNT_MANAGER
    return Role.CATALOGUE_ADMIN


@retry_on_conflict
def membership_set_roles(*, actor, customer: Customer, person: User, roles: Roles) -> CustomerMembership | None:
    """Give `person` exactly `roles` at `customer` (no role: they are no longer one of its people). Audited.

    A user administrator changes every role; KMD (the account manager, a catalogue admin) only the user
    administrator role. The last user administrator cannot be removed: the customer would have nobody left to
    manage its people.
    """
    with transaction.atomic():
        locked = Customer.objects.select_for_update().get(pk=customer.pk)
        if not may_appoint_user_admins(actor, locked):
            raise NotPermitted(_("Only the customer's user administrators can change its people's roles."))
        current = CustomerMembership.objects.filter(customer=locked, user=person).first()
        before = Roles.of(current) if current else Roles()
        if not is_user_admin_of(actor, locked) and (before.orderer, before.signatory) != (
            roles.orderer,
            roles.signatory,
        ):
            raise NotPermitted(
                _("KMD appoints user administrators; the customer's administrators give the other roles.")
            )
        if current is None and not _belongs_to(person, locked):
            raise NotPermitted(_("Only people who have logged in with the customer's CVR number can be given roles."))
        if before.user_admin and not roles.user_admin:
            others = CustomerMembership.objects.filter(
                customer=locked, is_user_admin=True, user__is_active=True
            ).exclude(user=person)
            if not others.exists():
                raise NotAllowedNow(
                    _("%(name)s is the customer's last user administrator. Appoint another one first.")
                    % {"name": person.get_full_name() or person.get_username()}
                )
        if before == roles:
            return current
        if roles.any():
            membership, _made = CustomerMembership.objects.update_or_create(
                customer=locked,
                user=person,
                defaults={
                    "is_orderer": roles.orderer,
                    "is_signatory": roles.signatory,
                    "is_user_admin": roles.user_admin,
                },
            )
        else:
            membership = None
            CustomerMembership.objects.filter(customer=locked, user=person).delete()
        audit_record(
            kind=AuditKind.ROLES_CHANGED,
            actor=actor,
            role=_actor_role(actor, locked),
            subject=locked,
            comment=f"{person.get_full_name() or person.get_username()} ({person.pk}): {before.words()} → {roles.words()}",
        )
    return membership


def _belongs_to(person: User, customer: Customer) -> bool:
    """The person has logged in with MitID Erhverv for this customer's CVR number."""
    return LoginIdentity.objects.filter(
        user=person, scheme=LoginIdentity.Scheme.MITID_ERHVERV, organisation=customer.cvr
    ).exists()


def people_without_roles(customer: Customer):
    """People who logged in with the customer's CVR number and hold no role there: they wait for an administrator."""
    return (
        User.objects.filter(
            is_active=True,
            login_identities__scheme=LoginIdentity.Scheme.MITID_ERHVERV,
            login_identities__organisation=customer.cvr,
        )
        .exclude(memberships__customer=customer)
        .distinct()
        .order_by("first_name", "last_name", "pk")
    )


def roles_at(customer: Customer, person: User) -> Roles:
    membership = CustomerMembership.objects.filter(customer=customer, user=person).first()
    return Roles.of(membership) if membership else Roles()


def customers_managed_by(user):
    """The customers whose people `user` may manage: where they are user administrator; KMD's account manager
    their customers (to appoint administrators); a catalogue admin every customer."""
    if is_catalogue_admin(user):
        return Customer.objects.order_by("name")
    admin_of = CustomerMembership.objects.filter(user=user, is_user_admin=True).values("customer_id")
    return Customer.objects.filter(Q(pk__in=admin_of) | Q(account_manager=user)).order_by("name")


def waiting_counts(customers) -> dict[str, int]:
    """CVR -> how many people logged in with it and hold no role at that customer, in one query."""
    cvrs = [c.cvr for c in customers]
    rows = (
        LoginIdentity.objects.filter(
            scheme=LoginIdentity.Scheme.MITID_ERHVERV, organisation__in=cvrs, user__is_active=True
        )
        .exclude(user__memberships__customer__cvr=F("organisation"))
        .values("organisation")
        .annotate(n=Count("user", distinct=True))
    )
    return {row["organisation"]: row["n"] for row in rows}


def people_waiting(user, memberships: list[CustomerMembership] | None = None) -> list[tuple[Customer, int]]:
    """Each customer where `user` is user administrator and someone waits for a role there, with how many.

    `memberships`: the user's memberships with their customers, by customer name, as the caller has just read them
    (the start page: ordering.selectors.memberships_of); without them the customers are read here."""
    if memberships is None:
        administered = list(Customer.objects.filter(memberships__user=user, memberships__is_user_admin=True))
    else:
        administered = [m.customer for m in memberships if m.is_user_admin]
    waiting = waiting_counts(administered)
    return [(customer, waiting[customer.cvr]) for customer in administered if waiting.get(customer.cvr)]


def people_waiting_count(user) -> int:
    """How many people wait for a role at the customers where `user` is user administrator (the menu's count)."""
    return sum(n for _customer, n in people_waiting(user))


def customers_waiting_for(user) -> list[tuple[Customer, list[User]]]:
    """The customers `user` logged in for without holding a role there, each with its user administrators."""
    cvrs = user.login_identities.filter(scheme=LoginIdentity.Scheme.MITID_ERHVERV).values("organisation")
    customers = Customer.objects.filter(cvr__in=cvrs).exclude(memberships__user=user).order_by("name")
    admins = CustomerMembership.objects.filter(customer__in=customers, is_user_admin=True, user__is_active=True)
    by_customer: dict[int, list[User]] = {}
    for m in admins.select_related("user").order_by("user__first_name"):
        by_customer.setdefault(m.customer_id, []).append(m.user)
    return [(c, by_customer.get(c.pk, [])) for c in customers]


def people_of(customer: Customer):
    """The customer's people and their roles, with when each last logged in."""
    return (
        CustomerMembership.objects.filter(customer=customer)
        .select_related("user")
        .order_by("user__first_name", "user__last_name", "user__pk")
    )


def invitation_link(invitation: Invitation) -> str:
    token = signing.dumps({"i": invitation.pk}, salt=INVITATION_SALT)
    return settings.SITE_URL + reverse("ordering:invitation", args=[token])


def invitation_from_token(token: str) -> Invitation | None:
    try:
        pk = signing.loads(token, salt=INVITATION_SALT)["i"]
    except (signing.BadSignature, KeyError, TypeError):
        return None
    return Invitation.objects.select_related("customer").filter(pk=pk).first()


@retry_on_conflict
def invitation_create(*, actor, customer: Customer, email: str, roles: Roles) -> Invitation:
    """Invite a colleague by e-mail; the link binds to the first MitID Erhverv login for the customer that uses it."""
    if not roles.any():
        raise Invalid(
            _("Choose at least one role for the invitation."), errors={"roles": _("Choose at least one role.")}
        )
    with transaction.atomic():
        locked = Customer.objects.select_for_update().get(pk=customer.pk)
        if not may_appoint_user_admins(actor, locked):
            raise NotPermitted(_("Only the customer's user administrators can invite colleagues."))
        if not is_user_admin_of(actor, locked) and (roles.orderer or roles.signatory):
            raise NotPermitted(
                _("KMD appoints user administrators; the customer's administrators give the other roles.")
            )
        invitation = Invitation.objects.create(
            customer=locked,
            email=email.strip(),
            is_orderer=roles.orderer,
            is_signatory=roles.signatory,
            is_user_admin=roles.user_admin,
            created_by=actor,
            expires_at=timezone.now() + timedelta(days=INVITATION_DAYS),
        )
        audit_record(
            kind=AuditKind.INVITATION_SENT,
            actor=actor,
            role=_actor_role(actor, locked),
            subject=invitation,
            comment=f"{invitation.email}: {roles.words()}",
        )
        outbox_enqueue(SEND_INVITATION, payload={"invitation_id": invitation.pk}, subject=f"invitation:{invitation.pk}")
    return invitation


@retry_on_conflict
def invitation_revoke(*, actor, invitation: Invitation) -> Invitation:
    with transaction.atomic():
        locked = Invitation.objects.select_for_update().select_related("customer").get(pk=invitation.pk)
        if not may_appoint_user_admins(actor, locked.customer):
            raise NotPermitted(_("Only the customer's user administrators can revoke its invitations."))
        if not locked.is_open():
            return locked
        locked.revoked_at = timezone.now()
        locked.save(update_fields=["revoked_at"])
        audit_record(
            kind=AuditKind.INVITATION_REVOKED,
            actor=actor,
            role=_actor_role(actor, locked.customer),
            subject=locked,
            comment=locked.email,
        )
    return locked


@retry_on_conflict
def invitation_use(*, invitation_id: int, person: User, cvr: str) -> Invitation:
    """The invited person's MitID Erhverv login uses the invitation: once, in time, for the customer's CVR."""
    with transaction.atomic():
        # The customer first, as every service that changes its people locks it: no role change interleaves.
        customer_id = Invitation.objects.filter(pk=invitation_id).values_list("customer_id", flat=True).first()
        Customer.objects.select_for_update().filter(pk=customer_id).first()
        invitation = Invitation.objects.select_for_update().select_related("customer").get(pk=invitation_id)
        if invitation.used_at is not None:
            raise LoginRefused("invitation_used")
        if not invitation.is_open():
            raise LoginRefused("invitation_expired")
        if invitation.customer.cvr != cvr:
            raise LoginRefused("invitation_other_cvr", cvr=cvr)
        membership = CustomerMembership.objects.filter(customer=invitation.customer, user=person).first()
        held = Roles.of(membership) if membership else Roles()
        granted = Roles(
            held.orderer or invitation.is_orderer,
            held.signatory or invitation.is_signatory,
            held.user_admin or invitation.is_user_admin,
        )
        CustomerMembership.objects.update_or_create(
            customer=invitation.customer,
            user=person,
            defaults={
                "is_orderer": granted.orderer,
                "is_signatory": granted.signatory,
                "is_user_admin": granted.user_admin,
            },
        )
        invitation.used_at, invitation.used_by = timezone.now(), person
        invitation.save(update_fields=["used_at", "used_by"])
        audit_record(
            kind=AuditKind.INVITATION_USED,
            actor=person,
            role="",
            subject=invitation,
            comment=f"{invitation.email}: {held.words()} → {granted.words()}",
        )
    return invitation


SEND_INVITATION = "ordering.send_invitation"


@outbox_handler(SEND_INVITATION, label=gettext_lazy("E-mail with an invitation"))
def invitation_send(invitation_id: int) -> None:
    invitation = Invitation.objects.select_related("customer", "created_by").get(pk=invitation_id)
    if not invitation.is_open():
        return
    context = {"invitation": invitation, "link": invitation_link(invitation), "days": INVITATION_DAYS}
    build_email("ordering/email/invitation", context, invitation.email).send()
