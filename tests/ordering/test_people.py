# ruff: noqa: F811  (the login tests' provider fixtures are imported, and named in the tests)
"""Customers run their own people: the user administrator grants and removes roles, invites colleagues; KMD
appoints the first administrator; a person with no role is told whom to ask. Isolated per customer, audited."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import LoginIdentity
from audit.models import AuditEvent
from ordering.audit import AuditKind
from ordering.models import CustomerMembership, Invitation
from tests.conftest import make_user
from tests.login.conftest import log_in, logged_in_user, mitid_person, oidc_server, provider  # noqa: F401

pytestmark = pytest.mark.django_db


def mitid_login_identity(user, customer, uuid="3c6d9757-1e70-438a-8dd3-5f84398c2e25"):
    return LoginIdentity.objects.create(
        user=user, scheme="mitid_erhverv", organisation=customer.cvr, person=uuid, issuer="https://broker"
    )


@pytest.fixture
def admin_a(cast):
    """Aarhus's orderer is also its user administrator."""
    CustomerMembership.objects.filter(user=cast.orderer_a, customer=cast.customer_a).update(is_user_admin=True)
    return cast.orderer_a


@pytest.fixture
def newcomer(cast):
    """Someone who logged in with Aarhus's CVR number and holds no role there yet."""
    person = make_user("nyansat")
    person.first_name, person.last_name = "Nanna", "Nyansat"
    person.save()
    mitid_login_identity(person, cast.customer_a)
    return person


def people_page(customer):
    return reverse("ordering:customer_people", args=[customer.pk])


def set_roles(client, customer, person, **roles):
    data = {"action": "roles", "person": person.pk, **{k: "on" for k, v in roles.items() if v}}
    return client.post(people_page(customer), data)


def roles_of(customer, person):
    m = CustomerMembership.objects.filter(customer=customer, user=person).first()
    return (m.is_orderer, m.is_signatory, m.is_user_admin) if m else None


def test_a_person_without_a_role_is_told_whom_to_ask(client, cast, admin_a, newcomer):
    client.force_login(newcomer)
    body = client.get(reverse("home")).content.decode()
    assert "Du har endnu ingen rettigheder" in body
    assert "Aarhus Kommune" in body and admin_a.email in body
    assert client.get(reverse("ordering:order_list")).status_code in (403, 404)


def test_a_person_of_a_customer_without_administrator_is_sent_to_kmds_account_manager(client, cast, newcomer):
    client.force_login(newcomer)
    body = client.get(reverse("home")).content.decode()
    assert "ingen brugeradministrator" in body and cast.am_a.get_full_name() in body


def test_the_administrator_sees_who_waits_and_grants_orderer_so_the_person_can_order(client, cast, admin_a, newcomer):
    client.force_login(admin_a)
    home = client.get(reverse("home")).content.decode()
    assert "1 person hos Aarhus Kommune har logget ind og venter på en rolle" in home
    # In "Venter på dig", and counted in the menu's badge (no order waits for this administrator).
    waiting = home[home.index('id="waiting"') :]
    assert "Kolleger, der venter på en rolle" in waiting
    assert re.search(r'badge-info">1<span class="sr-only"> venter på dig', home)
    page = client.get(people_page(cast.customer_a)).content.decode()
    assert "Nanna Nyansat" in page
    response = set_roles(client, cast.customer_a, newcomer, orderer=True)
    assert response.status_code == 302
    assert roles_of(cast.customer_a, newcomer) == (True, False, False)
    event = AuditEvent.objects.get(kind=AuditKind.ROLES_CHANGED)
    assert event.actor == admin_a and event.actor_role == "user_admin" and event.order is None
    assert "- → orderer" in event.comment
    client.force_login(newcomer)
    assert client.get(reverse("ordering:order_create")).status_code == 200


def test_the_start_page_finds_the_customers_an_administrator_runs_among_their_memberships(
    client, cast, admin_a, newcomer
):
    """The start page has read the administrator's memberships with their customers (whom to contact, whether they
    may order); the customers they administer are those, not read again. Someone waiting at a customer where the
    administrator only orders is not theirs to see."""
    CustomerMembership.objects.create(customer=cast.customer_b, user=admin_a, is_orderer=True)
    mitid_login_identity(make_user("venter.b"), cast.customer_b, uuid="0b7a3c51-7d6e-4a43-9e8e-6f3f2d1c5b4a")
    client.force_login(admin_a)
    with CaptureQueriesContext(connection) as queries:
        home = client.get(reverse("home")).content.decode()
    assert "1 person hos Aarhus Kommune har logget ind og venter på en rolle" in home
    assert f"hos {cast.customer_b.name} har logget ind" not in home
    assert not [q for q in queries if q["sql"].startswith('SELECT "ordering_customer"."id"')]
    memberships = [q for q in queries if q["sql"].startswith('SELECT "ordering_customermembership"."id"')]
    assert len(memberships) == 1


def test_taking_every_role_away_puts_the_person_back_among_those_waiting(client, cast, admin_a):
    client.force_login(admin_a)
    mitid_login_identity(cast.signatory_a, cast.customer_a)
    set_roles(client, cast.customer_a, cast.signatory_a)
    assert roles_of(cast.customer_a, cast.signatory_a) is None
    page = client.get(people_page(cast.customer_a)).content.decode()
    waiting = page[page.index('id="waiting"') : page.index("Brugere og deres roller")]
    assert cast.signatory_a.get_full_name() in waiting


def test_nobody_can_remove_the_last_administrator(client, cast, admin_a):
    client.force_login(admin_a)
    before = AuditEvent.objects.count()
    response = set_roles(client, cast.customer_a, admin_a, orderer=True)
    assert response.status_code == 302
    assert roles_of(cast.customer_a, admin_a) == (True, False, True)
    assert AuditEvent.objects.count() == before
    page = client.get(people_page(cast.customer_a)).content.decode()
    assert "sidste brugeradministrator" in page


def test_a_deactivated_administrator_does_not_count_as_another_administrator(client, cast, admin_a):
    CustomerMembership.objects.filter(user=cast.signatory_a).update(is_user_admin=True)
    cast.signatory_a.is_active = False
    cast.signatory_a.save()
    client.force_login(admin_a)
    set_roles(client, cast.customer_a, admin_a, orderer=True)
    assert roles_of(cast.customer_a, admin_a) == (True, False, True)


def test_with_a_second_administrator_the_first_may_step_down(client, cast, admin_a):
    client.force_login(admin_a)
    set_roles(client, cast.customer_a, cast.signatory_a, signatory=True, user_admin=True)
    set_roles(client, cast.customer_a, admin_a, orderer=True)
    assert roles_of(cast.customer_a, admin_a) == (True, False, False)


def test_an_administrator_of_a_gets_404_at_b_and_changes_nothing(client, cast, admin_a, security_log):
    client.force_login(admin_a)
    before = (
        AuditEvent.objects.count(),
        list(
            CustomerMembership.objects.values_list("pk", "is_orderer", "is_signatory", "is_user_admin").order_by("pk")
        ),
    )
    assert client.get(people_page(cast.customer_b)).status_code == 404
    assert set_roles(client, cast.customer_b, cast.orderer_b, orderer=True, user_admin=True).status_code == 404
    assert set_roles(client, cast.customer_b, admin_a, orderer=True, user_admin=True).status_code == 404
    after = (
        AuditEvent.objects.count(),
        list(
            CustomerMembership.objects.values_list("pk", "is_orderer", "is_signatory", "is_user_admin").order_by("pk")
        ),
    )
    assert after == before
    assert {line["object"] for line in security_log("other_customers_object")} == {"customer"}


def test_an_administrator_cannot_give_roles_to_another_customers_person(client, cast, admin_a):
    # orderer_b has logged in with MitID Erhverv, but for Odense's CVR number, not Aarhus's.
    mitid_login_identity(cast.orderer_b, cast.customer_b)
    client.force_login(admin_a)
    set_roles(client, cast.customer_a, cast.orderer_b, orderer=True)
    assert roles_of(cast.customer_a, cast.orderer_b) is None
    assert not AuditEvent.objects.filter(kind=AuditKind.ROLES_CHANGED).exists()


@pytest.mark.parametrize("who", ["orderer_a", "signatory_a", "orderer_b", "support", "am_b"])
def test_people_who_are_not_administrators_or_kmd_of_the_customer_get_404(client, cast, who):
    client.force_login(getattr(cast, who))
    assert client.get(people_page(cast.customer_a)).status_code == 404


def test_kmds_account_manager_appoints_the_first_administrator_and_changes_no_other_role(client, cast):
    client.force_login(cast.am_a)
    assert (
        reverse("ordering:customer_people", args=[cast.customer_a.pk])
        in client.get(reverse("ordering:people_index")).content.decode()
    )
    set_roles(client, cast.customer_a, cast.signatory_a, user_admin=True)  # the other boxes are not sent
    assert roles_of(cast.customer_a, cast.signatory_a) == (False, True, True)
    event = AuditEvent.objects.get(kind=AuditKind.ROLES_CHANGED)
    assert event.actor_role == "account_manager"


def test_an_account_manager_cannot_make_someone_an_orderer_through_the_service(cast):
    from core.errors import NotPermitted
    from ordering import people

    with pytest.raises(NotPermitted):
        people.membership_set_roles(
            actor=cast.am_a, customer=cast.customer_a, person=cast.signatory_a, roles=people.Roles(True, True, False)
        )
    assert roles_of(cast.customer_a, cast.signatory_a) == (False, True, False)


# --- Invitations ------------------------------------------------------------------------------------------------


def invite(client, customer, email="ny.kollega@aarhus.dk", **roles):
    return client.post(people_page(customer), {"action": "invite", "email": email, **dict.fromkeys(roles, "on")})


def link_in(message) -> str:
    return re.search(r"http://\S+/invitations/\S+/", message.body).group(0)


def test_an_invitation_is_e_mailed_with_a_link_and_audited(client, cast, admin_a, django_capture_on_commit_callbacks):
    client.force_login(admin_a)
    with django_capture_on_commit_callbacks(execute=True):
        assert invite(client, cast.customer_a, signatory="on").status_code == 302
    (message,) = mail.outbox
    assert message.to == ["ny.kollega@aarhus.dk"] and "tegningsberettiget" in message.body
    assert "/invitations/" in link_in(message)
    assert AuditEvent.objects.filter(kind=AuditKind.INVITATION_SENT).count() == 1
    assert Invitation.objects.get().created_by == admin_a


def test_an_invitation_without_a_role_is_refused(client, cast, admin_a):
    client.force_login(admin_a)
    response = invite(client, cast.customer_a)
    assert response.status_code == 400 and not Invitation.objects.exists()


def test_every_error_of_the_invitation_form_is_said_at_once_in_a_summary_that_links_to_the_fields(
    client, cast, admin_a
):
    client.force_login(admin_a)
    body = invite(client, cast.customer_a, email="ikke-en-adresse").content.decode()
    summary = body[body.index('id="invite-errors"') : body.index("</ul>", body.index('id="invite-errors"'))]
    assert 'href="#id_email"' in summary and 'href="#r-invite-orderer"' in summary
    assert "Vælg mindst én rolle til invitationen." in summary
    assert 'value="ikke-en-adresse"' in body  # what was typed stays


def accept_invitation(client, provider, link, customer, uuid="74ffcd31-fbaf-4c33-bdac-169f25c1e416", sub="inv"):
    client.logout()
    path = link.split("testserver", 1)[-1] if "testserver" in link else "/" + link.split("/", 3)[3]
    assert client.get(path).status_code == 200
    return log_in(client, mitid_person(provider, sub, cvr=customer.cvr, uuid=uuid))


@pytest.fixture
def sent_link(client, cast, admin_a, django_capture_on_commit_callbacks):
    client.force_login(admin_a)
    with django_capture_on_commit_callbacks(execute=True):
        invite(client, cast.customer_a, signatory="on")
    return link_in(mail.outbox[-1])


def test_the_invitation_binds_to_the_first_mitid_erhverv_login_that_uses_it(client, cast, provider, sent_link):
    response = accept_invitation(client, provider, sent_link, cast.customer_a)
    assert response.status_code == 302
    person = logged_in_user(client)
    assert roles_of(cast.customer_a, person) == (False, True, False)
    invitation = Invitation.objects.get()
    assert invitation.used_by == person and invitation.used_at is not None
    assert AuditEvent.objects.filter(kind=AuditKind.INVITATION_USED, actor=person).count() == 1


def test_an_invitation_is_used_once(client, cast, provider, sent_link):
    accept_invitation(client, provider, sent_link, cast.customer_a)
    client.logout()
    second = client.get("/" + sent_link.split("/", 3)[3])
    assert second.status_code == 404 and "kan ikke bruges" in second.content.decode()


def test_an_invitation_used_meanwhile_refuses_the_second_login(client, cast, provider, sent_link, security_log):
    client.logout()
    client.get("/" + sent_link.split("/", 3)[3])  # remembered in this browser
    Invitation.objects.update(used_at=timezone.now())  # someone else used it meanwhile
    response = log_in(
        client, mitid_person(provider, "late", cvr=cast.customer_a.cvr, uuid="74ffcd31-fbaf-4c33-bdac-169f25c1e416")
    )
    assert response.status_code == 403 and logged_in_user(client) is None
    assert [line["reason"] for line in security_log("login_refused")] == ["invitation_used"]


def test_an_invitation_for_another_cvr_is_refused(client, cast, provider, sent_link, security_log):
    memberships_before = sorted(CustomerMembership.objects.values_list("user_id", "customer_id"))
    response = accept_invitation(client, provider, sent_link, cast.customer_b)
    assert response.status_code == 403 and logged_in_user(client) is None
    assert sorted(CustomerMembership.objects.values_list("user_id", "customer_id")) == memberships_before
    assert Invitation.objects.get().used_at is None
    assert [line["reason"] for line in security_log("login_refused")] == ["invitation_other_cvr"]


def test_the_invitation_service_refuses_at_exactly_its_expiry_and_accepts_a_moment_before(cast, admin_a):
    from ordering import people

    invitation = people.invitation_create(
        actor=admin_a, customer=cast.customer_a, email="x@aarhus.dk", roles=people.Roles(orderer=True)
    )
    person = make_user("sidst")
    with time_machine.travel(invitation.expires_at, tick=False), pytest.raises(people.LoginRefused) as refused:
        people.invitation_use(invitation_id=invitation.pk, person=person, cvr=cast.customer_a.cvr)
    assert refused.value.code == "invitation_expired"
    with time_machine.travel(invitation.expires_at - timedelta(microseconds=1), tick=False):
        people.invitation_use(invitation_id=invitation.pk, person=person, cvr=cast.customer_a.cvr)
    assert roles_of(cast.customer_a, person) == (True, False, False)


def test_an_invitation_revoked_after_the_link_was_opened_refuses_the_login(
    client, cast, provider, admin_a, sent_link, security_log
):
    client.logout()
    client.get("/" + sent_link.split("/", 3)[3])  # opened in this browser
    from ordering import people

    people.invitation_revoke(actor=admin_a, invitation=Invitation.objects.get())
    response = log_in(
        client, mitid_person(provider, "late", cvr=cast.customer_a.cvr, uuid="74ffcd31-fbaf-4c33-bdac-169f25c1e416")
    )
    assert response.status_code == 403 and logged_in_user(client) is None
    assert [line["reason"] for line in security_log("login_refused")] == ["invitation_expired"]


def test_an_administrator_of_a_cannot_revoke_bs_invitation(client, cast, admin_a):
    from ordering import people

    CustomerMembership.objects.filter(user=cast.orderer_b).update(is_user_admin=True)
    invitation = people.invitation_create(
        actor=cast.orderer_b, customer=cast.customer_b, email="b@odense.dk", roles=people.Roles(orderer=True)
    )
    client.force_login(admin_a)
    for page in (people_page(cast.customer_a), people_page(cast.customer_b)):
        response = client.post(page, {"action": "revoke", "invitation": invitation.pk})
        assert response.status_code == 404
    assert Invitation.objects.get(pk=invitation.pk).revoked_at is None


def test_an_invitation_works_until_its_last_instant_and_not_after(client, cast, provider, sent_link):
    invitation = Invitation.objects.get()
    path = "/" + sent_link.split("/", 3)[3]
    with time_machine.travel(invitation.expires_at - timedelta(microseconds=1), tick=False):
        client.logout()
        assert client.get(path).status_code == 200
    with time_machine.travel(invitation.expires_at, tick=False):
        client.logout()
        assert client.get(path).status_code == 404


def test_a_tampered_link_is_no_invitation(client, cast, sent_link):
    path = "/" + sent_link.split("/", 3)[3]
    assert client.get(path[:-3] + "x/").status_code == 404


def test_a_revoked_invitation_cannot_be_used(client, cast, admin_a, sent_link):
    client.force_login(admin_a)
    client.post(people_page(cast.customer_a), {"action": "revoke", "invitation": Invitation.objects.get().pk})
    assert Invitation.objects.get().revoked_at is not None
    assert AuditEvent.objects.filter(kind=AuditKind.INVITATION_REVOKED).count() == 1
    client.logout()
    assert client.get("/" + sent_link.split("/", 3)[3]).status_code == 404
