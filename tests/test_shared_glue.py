"""The glue the pages and the API share, once each (#20 glue): a form's write with its refusal shown, the conditional
read, the customer someone orders for, an addendum's download, DRF's errors as problems, the "changed meanwhile"
refusal of a lifecycle action."""

import pytest
from django import forms
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.signed_cookies import SessionStore
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.http import Http404
from django.test import RequestFactory
from rest_framework import exceptions

from accounts.bearer import TooManyInvalidTokens
from core.errors import ChangedMeanwhile, Invalid, NotAllowedNow
from core.form_tokens import FIELD, Outcome, form_token_issue
from core.http import etag_matches, submit_or_refuse
from core.models import FormSubmission
from core.problems import api_exception_problem
from ordering.models import Addendum, CustomerMembership
from ordering.selectors import addendum_for_user, customer_to_order_for
from ordering.transitions import TRANSITIONS
from ordering.views import addendum_download

# --- submit_or_refuse (core/http.py) ---------------------------------------------------------------


def posted_by(user):
    request = RequestFactory().post("/orders/1/actions/reject/", {FIELD: form_token_issue(user.pk)})
    request.user = user
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    return request


class NameForm(forms.Form):
    name = forms.CharField()


def test_a_write_that_is_taken_goes_where_its_outcome_says_with_its_message(cast):
    request = posted_by(cast.orderer_a)
    response = submit_or_refuse(request, lambda: Outcome("/done/", "Gjort."), refused="/back/")
    assert (response.status_code, response["Location"]) == (302, "/done/")
    assert [str(m) for m in get_messages(request)] == ["Gjort."]
    assert FormSubmission.objects.filter(user=cast.orderer_a, redirect_to="/done/").count() == 1


def test_a_refused_write_goes_back_with_the_refusal_and_keeps_no_claim(cast):
    request = posted_by(cast.orderer_a)

    def refuse() -> Outcome:
        raise NotAllowedNow("Ikke nu.")

    response = submit_or_refuse(request, refuse, refused="/back/", action="reject", order=1)
    assert (response.status_code, response["Location"]) == (302, "/back/")
    assert [str(m) for m in get_messages(request)] == ["Ikke nu."]
    assert not FormSubmission.objects.exists()


def test_a_refused_write_answers_with_the_page_made_only_then_and_the_sentence_on_the_form(cast):
    made = []
    form = NameForm({"name": "x"})
    form.is_valid()

    def page():
        made.append(form)
        return "the page again"

    def refuse() -> Outcome:
        raise Invalid("Ret navnet.", errors={"name": "For kort."})

    assert submit_or_refuse(posted_by(cast.orderer_a), refuse, refused=page, form=form) == "the page again"
    assert made == [form] and form.errors["name"] == ["For kort."]
    assert submit_or_refuse(posted_by(cast.orderer_a), lambda: Outcome("/x/", "Ok."), refused=page).status_code == 302
    assert made == [form]  # not made for a write that was taken


def test_without_a_refused_answer_the_caller_shows_its_form_again(cast):
    form = NameForm({"name": "x"})
    form.is_valid()

    def refuse() -> Outcome:
        raise NotAllowedNow("Ikke nu.")

    assert submit_or_refuse(posted_by(cast.orderer_a), refuse, form=form) is None
    assert form.non_field_errors() == ["Ikke nu."]


# --- etag_matches (core/http.py) -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "matches"),
    [
        ('"abc"', True),
        ('W/"abc"', True),
        ('"x", "abc"', True),
        (' "x" ,W/"abc" ', True),
        ("*", True),
        ('"abcd"', False),
        ("abc", False),
        ("", False),
        ('"x", "y"', False),
    ],
)
def test_if_none_match_is_compared_weakly_and_star_matches_anything(header, matches):
    assert etag_matches(header, '"abc"') is matches


# --- customer_to_order_for (ordering/selectors.py) -------------------------------------------------


def test_the_customer_ordered_for_is_the_chosen_one_or_the_first(cast):
    CustomerMembership.objects.create(user=cast.orderer_a, customer=cast.customer_b, is_orderer=True)
    first, customers = customer_to_order_for(cast.orderer_a)
    assert set(customers) == {cast.customer_a, cast.customer_b}
    assert first == customers.first()
    assert customer_to_order_for(cast.orderer_a, str(cast.customer_b.pk))[0] == cast.customer_b
    assert customer_to_order_for(cast.orderer_a, cast.customer_b.pk)[0] == cast.customer_b
    assert customer_to_order_for(cast.orderer_a, "not a number")[0] == first


def test_a_customer_not_ordered_for_is_a_404_and_someone_ordering_for_none_is_told_whom_to_ask(cast):
    with pytest.raises(Http404):
        customer_to_order_for(cast.orderer_a, cast.customer_b.pk)
    with pytest.raises(Http404):
        customer_to_order_for(cast.orderer_a, -1)
    with pytest.raises(PermissionDenied, match="ask the customer's administrator|bed kundens administrator"):
        customer_to_order_for(cast.signatory_a)


# --- addendum_for_user, addendum_download (ordering) -----------------------------------------------


def test_an_addendum_is_found_only_through_its_order_and_downloaded_as_the_copy_asked_for(cast, order_in):
    order = order_in("awaiting_signature")
    with pytest.raises(Http404):
        addendum_for_user(cast.orderer_b, order.pk, 1)  # another customer's order
    with pytest.raises(Http404):
        addendum_for_user(cast.orderer_a, order.pk, 2)  # no such version
    addendum = addendum_for_user(cast.orderer_a, order.pk, 1)
    with pytest.raises(Http404):
        addendum_download(addendum, accepted=False)  # not generated yet
    Addendum.objects.filter(pk=addendum.pk).update(render_status="ready")
    addendum.pdf.save("x.pdf", ContentFile(b"%PDF-issued"))
    addendum.final_pdf.save("y.pdf", ContentFile(b"%PDF-accepted"))
    issued = addendum_download(addendum, accepted=False)
    accepted = addendum_download(addendum, accepted=True)
    assert b"".join(issued.streaming_content) == b"%PDF-issued"
    assert b"".join(accepted.streaming_content) == b"%PDF-accepted"
    assert issued["Content-Disposition"] == f'attachment; filename="tillaeg-{addendum.number}.pdf"'
    assert accepted["Content-Disposition"] == f'attachment; filename="tillaeg-{addendum.number}-accepteret.pdf"'


# --- api_exception_problem (core/problems.py) ------------------------------------------------------


def test_drf_errors_become_problems_with_their_headers():
    refused = exceptions.AuthenticationFailed("Ukendt nøgle.")
    refused.auth_header = 'Bearer realm="api"'
    body, headers = api_exception_problem(refused)
    assert (body["status"], body["code"], body["detail"]) == (401, "not_authenticated", "Ukendt nøgle.")
    assert headers == {"WWW-Authenticate": 'Bearer realm="api"'}

    body, headers = api_exception_problem(exceptions.PermissionDenied("Ikke dig."))
    assert (body["status"], body["code"], body["detail"], headers) == (403, "not_permitted", "Ikke dig.", {})

    body, headers = api_exception_problem(exceptions.Throttled(wait=2.2))  # DRF rounds the wait up
    assert (body["status"], body["code"], headers) == (429, "too_many_requests", {"Retry-After": "3"})
    too_many = TooManyInvalidTokens(wait=0)
    body, headers = api_exception_problem(too_many)
    assert (body["detail"], headers) == (too_many.sentence(), {"Retry-After": "1"})

    body, headers = api_exception_problem(exceptions.NotFound({"x": ["Ingen."], "y": ["Ingen her."]}))
    assert (body["status"], body["code"], body["detail"], headers) == (404, "not_found", "Ingen. Ingen her.", {})


# --- ActionForm.changed_meanwhile (ordering/transitions.py) ----------------------------------------


def test_an_action_sent_for_the_state_the_order_was_in_is_refused_as_changed_meanwhile(cast, order_in):
    order = order_in("submitted")
    seen = TRANSITIONS["reject"].bind({"expected_state": "submitted", "comment": "Nej"}, order=order, user=cast.am_a)
    stale = TRANSITIONS["reject"].bind({"expected_state": "draft", "comment": "Nej"}, order=order, user=cast.am_a)
    assert seen.is_valid() and stale.is_valid()
    assert seen.changed_meanwhile() is None
    refusal = stale.changed_meanwhile()
    assert isinstance(refusal, ChangedMeanwhile)
    assert order.get_state_display() in refusal.message


# --- allowed_if and visible_or_404 (core/http.py, core/security.py) --------------------------------


def test_a_view_allowed_only_to_some_answers_403_to_the_others_and_runs_for_them():
    from core.http import allowed_if

    @allowed_if(lambda user: user.username == "kmd")
    def view(request):
        return "ran"

    request = RequestFactory().get("/")
    request.user = type("Person", (), {"username": "kmd"})()
    assert view(request) == "ran"
    request.user = type("Person", (), {"username": "someone"})()
    with pytest.raises(PermissionDenied):
        view(request)


def test_an_object_not_visible_is_a_404_either_way_and_only_an_existing_one_is_logged_as_a_probe(cast, order_in):
    from core.security import NotVisible, visible_or_404
    from ordering.models import AccessOrder

    order = order_in("draft")
    visible = AccessOrder.objects.filter(customer=cast.customer_a)
    assert visible_or_404(visible, order.pk, kind="order") == order
    with pytest.raises(NotVisible) as theirs:
        visible_or_404(AccessOrder.objects.filter(customer=cast.customer_b), order.pk, kind="order")
    assert (theirs.value.kind, theirs.value.pk) == ("order", order.pk)
    with pytest.raises(Http404) as missing:
        visible_or_404(visible, order.pk + 1000, kind="order")
    assert not isinstance(missing.value, NotVisible)
    # `existing` narrows what counts as there at all: the catalogue's systems are no one's to probe.
    with pytest.raises(Http404) as narrowed:
        visible_or_404(AccessOrder.objects.none(), order.pk, kind="order", existing=AccessOrder.objects.none())
    assert not isinstance(narrowed.value, NotVisible)
