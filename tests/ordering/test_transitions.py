"""The transition registry (ordering/transitions.py): one spec per action, agreeing with the FSM, and the
one action view that serves every spec through its form."""

import datetime
import inspect

import pytest
from django import forms
from django.template.loader import get_template
from django.urls import reverse
from django.utils import translation
from django.utils.module_loading import import_string

from audit.models import AuditEvent
from ordering import notifications, services, views
from ordering.audit import AuditKind
from ordering.models import FINAL_STATES, AccessOrder, Addendum
from ordering.roles import Role
from ordering.transitions import TRANSITIONS
from tests.pages import order_page_text

FSM_TRANSITIONS = list(AccessOrder().get_all_state_transitions())
# One source state for each transition, as the FSM declares them (some have several).
START = {t.name: t.source for t in reversed(FSM_TRANSITIONS)}
WHO = {Role.ORDERER: "orderer_a", Role.SIGNATORY: "signatory_a", Role.ACCOUNT_MANAGER: "am_a", Role.SUPPORT: "support"}
# Actions the page offers only once something else has happened: what that is.
PREPARE = {
    "cancel_scheduled_closure": lambda cast, order: services.order_schedule_closure(
        order=order, actor=cast.am_a, on=datetime.date.today() + datetime.timedelta(days=30)
    ),
}


def test_the_registry_has_a_spec_for_every_transition_of_an_order_and_nothing_else():
    assert set(TRANSITIONS) == {t.name for t in FSM_TRANSITIONS}


def test_every_audit_kind_that_is_a_transition_has_its_spec():
    transition_kinds = {kind for kind in AuditKind if kind.value in {t.name for t in FSM_TRANSITIONS}}
    assert transition_kinds == {spec.kind for spec in TRANSITIONS.values()}


def test_each_spec_names_the_role_the_fsm_permission_requires():
    for transition in FSM_TRANSITIONS:
        assert TRANSITIONS[transition.name].role == transition.permission.role, transition.name


def test_a_spec_is_irreversible_exactly_when_its_transition_ends_the_order():
    for transition in FSM_TRANSITIONS:
        assert TRANSITIONS[transition.name].irreversible == (transition.target in FINAL_STATES), transition.name


def test_every_spec_that_emails_someone_has_its_three_templates():
    for spec in TRANSITIONS.values():
        if spec.recipients:
            for part in ("subject.txt", "body.txt", "body.html"):
                get_template(f"{spec.email_template}_{part}")


def test_notifications_send_to_whom_each_spec_says():
    for spec in TRANSITIONS.values():
        assert notifications.RECIPIENTS.get(spec.name, frozenset()) == spec.recipients, spec.name


def test_every_spec_calls_a_keyword_only_service_taking_the_order_and_the_actor():
    for spec in TRANSITIONS.values():
        parameters = inspect.signature(import_string(spec.service)).parameters
        assert {"order", "actor"} <= set(parameters), spec.service
        assert all(p.kind == p.KEYWORD_ONLY for p in parameters.values()), spec.service


def test_success_messages_are_one_per_action_and_translated():
    with translation.override("en"):
        english = {name: str(spec.success) for name, spec in TRANSITIONS.items()}
    with translation.override("da"):
        danish = {name: str(spec.success) for name, spec in TRANSITIONS.items()}
    assert len(set(english.values())) == len(TRANSITIONS)
    assert len(set(danish.values())) == len(TRANSITIONS)
    assert all(danish[name] != english[name] for name in TRANSITIONS), danish
    # After submitting, the message names the next step and who takes it (issue #22).
    assert english["submit"].startswith("The order has been submitted. Next: KMD's account manager reviews it")
    assert danish["submit"].startswith("Bestillingen er indsendt. Næste skridt: KMD’s salgs- og kundeansvarlige")


def test_the_action_view_names_no_action():
    source = inspect.getsource(views.order_transition) + inspect.getsource(views._action_forms)
    assert [name for name in TRANSITIONS if f'"{name}"' in source or f"'{name}'" in source] == []


def as_posted(form: forms.Form) -> dict:
    """What the browser sends for the form as the page shows it, with every required answer filled in."""
    data = {}
    for field in form:
        value = field.value()
        if isinstance(value, datetime.date):
            value = value.isoformat()
        elif isinstance(value, list | tuple):
            value = [str(v) for v in value]
        elif value in (None, ""):
            if not field.field.required:
                continue
            value = "on" if isinstance(field.field, forms.BooleanField) else "Sådan er det"
        data[field.html_name] = value
    return data


@pytest.mark.parametrize("name", list(TRANSITIONS))
def test_every_action_is_done_through_the_one_view_with_its_form(cast, order_in, client, name):
    spec = TRANSITIONS[name]
    order = order_in(START[name])
    if name in PREPARE:
        order = PREPARE[name](cast, order)
    for addendum in order.addenda.filter(status=Addendum.Status.ISSUED):
        services.addendum_render(addendum.pk)  # as the worker does: the signatory reads it before accepting
    user = getattr(cast, WHO[spec.role])
    form = spec.bind(order=order, user=user)
    assert form.is_offered()
    before = AuditEvent.objects.count()

    client.force_login(user)
    url = reverse("ordering:order_transition", args=[order.pk, name])
    if spec.needs_confirming:
        # Without JavaScript an irreversible action first asks on a page of its own, doing nothing yet.
        asked = client.post(url, as_posted(form))
        assert asked.status_code == 200
        assert asked.templates[0].name == "ordering/confirm_action.html"
        assert AuditEvent.objects.count() == before
        response = client.post(url, dict(asked.context["posted"]) | {"confirmed": "1"})
    else:
        response = client.post(url, as_posted(form))

    assert response.status_code == 302, response.content.decode()[-3000:]
    assert response["Location"] == order.get_absolute_url()
    event = AuditEvent.objects.order_by("-seq").first()
    assert AuditEvent.objects.count() == before + 1
    assert (event.kind, event.actor, event.actor_role, event.from_state) == (name, user, spec.role, START[name])
    told = [str(m) for m in client.get(response["Location"]).context["messages"]]
    with translation.override("da"):
        assert told == [str(spec.success)]


def test_the_order_page_offers_each_action_with_its_own_form(cast, order_in, client):
    body = order_page_text(client, cast.am_a, order_in("active"))
    assert 'id="action-close"' in body
    assert f'type="date" id="close-on" name="on" value="{datetime.date.today().isoformat()}"' in body
    with translation.override("da"):
        assert str(TRANSITIONS["close"].label) in body


def test_the_closing_date_may_be_typed_the_danish_way(cast, order_in, client):
    order = order_in("active")
    client.force_login(cast.am_a)
    today = datetime.date.today()
    client.post(
        reverse("ordering:order_transition", args=[order.pk, "close"]),
        {"expected_state": "active", "confirmed": "1", "on": today.strftime("%d.%m.%Y")},
    )
    order.refresh_from_db()
    assert (order.state, order.closed_on) == ("closed", today)


def test_closing_ends_only_the_licences_the_account_manager_left_ticked(cast, order_in, client):
    from billing.models import RecurringFee

    order = order_in("active", codes=("opret-fravaer", "moedetidsplaner"))
    offered = TRANSITIONS["close"].bind(order=order, user=cast.am_a).fields["end_licence"].choices
    assert len(offered) == 1  # opret-fravaer is in the customer's contract: no licence of its own
    kept = RecurringFee.objects.get(pk=offered[0][0])
    client.force_login(cast.am_a)
    client.post(
        reverse("ordering:order_transition", args=[order.pk, "close"]),
        {
            "expected_state": "active",
            "confirmed": "1",
            "on": datetime.date.today().isoformat(),
            "licence_choice": "True",
        },
    )
    kept.refresh_from_db()
    assert AccessOrder.objects.get(pk=order.pk).state == "closed"
    assert kept.ends_on is None


def test_a_signatory_is_not_offered_an_addendum_that_cannot_be_read_yet(cast, order_in):
    order = order_in("awaiting_signature")  # its document is still being generated
    assert not TRANSITIONS["accept"].bind(order=order, user=cast.signatory_a).is_offered()
    assert TRANSITIONS["decline"].bind(order=order, user=cast.signatory_a).is_offered()
