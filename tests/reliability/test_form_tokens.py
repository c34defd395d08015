"""A form sent twice acts once: the second submission gets the first one's answer and creates nothing."""

import datetime
import threading
import time

import pytest
from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection, connections
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from certificates.models import CertificateBundle, CertificateUpload
from core.form_tokens import FIELD, MAX_AGE, already_done, form_token_issue
from core.models import FormSubmission
from ordering import services
from ordering.models import AccessOrder

needs_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL's concurrent connections"
)


def order_form(cast, **fields) -> dict:
    return {
        "customer": cast.customer_a.pk,
        "external_system": cast.rostering.pk,
        "purchase_model": "single",
        "interfaces": [cast.interfaces["opret-fravaer"].pk],
        "environment": "production",
        "reason": "new",
        **fields,
    }


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def messages_after(client, redirect) -> list[str]:
    """What the page a redirect leads to tells the user."""
    return messages_of(client.get(redirect["Location"]))


# --- Each kind of form, sent twice in a row -----------------------------------------------------


class Form:
    """One form of each kind: how to post it, and what exactly one submission leaves behind."""

    def __init__(self, cast, order_in, individual_order, good_bundle):
        self.cast, self.order_in, self.individual_order, self.good_bundle = (
            cast,
            order_in,
            individual_order,
            good_bundle,
        )

    def create(self):
        def post(client, token):
            return client.post(reverse("ordering:order_create"), {**order_form(self.cast), FIELD: token})

        return self.cast.orderer_a, post, lambda: AccessOrder.objects.count() == 1

    def transition(self):
        order = self.order_in("draft")
        url = reverse("ordering:order_transition", args=[order.pk, "submit"])

        def post(client, token):
            return client.post(url, {"expected_state": "draft", FIELD: token})

        return (
            self.cast.orderer_a,
            post,
            lambda: (
                AuditEvent.objects.filter(order=order, kind="submit").count() == 1
                and AccessOrder.objects.get(pk=order.pk).state == "submitted"
            ),
        )

    def upload(self):
        order = self.individual_order("draft", upload=False)
        url = reverse("certificates:upload", args=[order.pk])

        def post(client, token):
            bundle = SimpleUploadedFile("kaede.zip", self.good_bundle, content_type="application/zip")
            return client.post(url, {"bundle": bundle, FIELD: token})

        return (
            self.cast.orderer_a,
            post,
            lambda: (
                CertificateUpload.objects.filter(order=order).count() == 1
                and CertificateBundle.objects.filter(order=order).count() == 1
            ),
        )


KINDS = ["create", "transition", "upload"]


@pytest.fixture
def forms(cast, order_in, individual_order, good_bundle):
    return Form(cast, order_in, individual_order, good_bundle)


def told_already_done(first_told: list[str]) -> list[str]:
    """What the second submission of a form is told: already done, then what the first one was told."""
    return [already_done(message) for message in first_told]


@pytest.mark.parametrize("kind", KINDS)
def test_a_form_sent_twice_in_a_row_acts_once_and_the_second_is_told_it_was_already_done(forms, client, kind):
    user, post, acted_once = getattr(forms, kind)()
    client.force_login(user)
    token = form_token_issue(user.pk)
    first = post(client, token)
    first_told = messages_after(client, first)
    second = post(client, token)
    second_told = messages_after(client, second)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert acted_once()
    assert first_told and second_told == told_already_done(first_told)
    assert second_told[0].startswith("Allerede udført – formularen var sendt før. ")


@pytest.mark.parametrize("kind", KINDS)
def test_a_write_committed_whose_answer_was_lost_is_recognised_when_the_form_is_sent_again(forms, kind):
    """The commit succeeded, then the connection went (the database restarted, the network dropped): the browser
    never saw the answer. The user sends the same form again, from another connection: nothing happens twice."""
    user, post, acted_once = getattr(forms, kind)()
    token = form_token_issue(user.pk)
    lost, retry = Client(), Client()
    for client in (lost, retry):
        client.force_login(user)
    post(lost, token)  # its answer never arrives: nothing of it is read
    assert acted_once()
    again = post(retry, token)
    told = messages_after(retry, again)
    assert again.status_code == 302
    assert acted_once()
    assert len(told) == 1 and told[0].startswith("Allerede udført – formularen var sendt før. ")


def test_eight_double_clicks_on_save_draft_make_eight_drafts(cast, client):
    client.force_login(cast.orderer_a)
    for _ in range(8):
        token = form_token_issue(cast.orderer_a.pk)
        for _click in range(2):
            client.post(reverse("ordering:order_create"), {**order_form(cast), FIELD: token})
    assert AccessOrder.objects.count() == 8


# --- ... and at the same moment, from two connections ------------------------------------------


def slowed(service, seconds: float = 0.4):
    """The service, holding its transaction a little longer: the second submission surely arrives meanwhile."""

    def slow(**kwargs):
        result = service(**kwargs)
        time.sleep(seconds)
        return result

    return slow


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@needs_postgres
@pytest.mark.parametrize("kind", KINDS)
def test_a_form_sent_twice_at_the_same_moment_acts_once(forms, monkeypatch, kind):
    import certificates.views
    import ordering.views

    monkeypatch.setattr(ordering.views, "order_create", slowed(ordering.views.order_create))
    monkeypatch.setattr(services, "order_submit", slowed(services.order_submit))  # the submit spec's service
    monkeypatch.setattr(certificates.views, "certificate_upload", slowed(certificates.views.certificate_upload))
    user, post, acted_once = getattr(forms, kind)()
    token = form_token_issue(user.pk)
    together = threading.Barrier(2)
    responses: list = [None, None]
    clients = [Client(), Client()]
    for client in clients:
        client.force_login(user)

    def click(i):
        try:
            together.wait(timeout=10)
            responses[i] = post(clients[i], token)
        except Exception as error:  # noqa: BLE001 - the outcome is what the test inspects
            responses[i] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=click, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    assert all(getattr(r, "status_code", None) == 302 for r in responses), responses
    assert responses[0]["Location"] == responses[1]["Location"]
    assert acted_once()
    assert FormSubmission.objects.count() == 1
    told = [messages_after(client, r) for client, r in zip(clients, responses, strict=True)]
    first, second = sorted(told, key=lambda messages: messages[0].startswith("Allerede udført"))
    assert first and second == told_already_done(first)


# --- Tokens that are not good -------------------------------------------------------------------


def submit_draft_with(client, order, token: str):
    """The logged-in client submits the draft `order` with the form token `token`, following to the page shown."""
    return client.post(
        reverse("ordering:order_transition", args=[order.pk, "submit"]),
        {"expected_state": "draft", FIELD: token},
        follow=True,
    )


def test_a_token_issued_to_someone_else_is_refused_and_nothing_is_done(cast, order_in, client):
    order = order_in("draft")
    client.force_login(cast.orderer_a)
    someone_elses = form_token_issue(cast.signatory_a.pk)
    response = submit_draft_with(client, order, someone_elses)
    assert AccessOrder.objects.get(pk=order.pk).state == "draft"
    assert any("Reload the page" in m or "Genindlæs siden" in m for m in messages_of(response))
    assert not FormSubmission.objects.exists()


@pytest.mark.parametrize("token", ["", "forged", "form_token_issue(orderer).tampered"])
def test_a_missing_or_forged_token_is_refused_on_the_form_which_keeps_what_was_typed(cast, client, token):
    client.force_login(cast.orderer_a)
    if token.startswith("form_token_issue"):
        token = form_token_issue(cast.orderer_a.pk)[:-2] + "xx"
    response = client.post(reverse("ordering:order_create"), {**order_form(cast, note="Husk mig"), FIELD: token})
    assert response.status_code == 400
    body = response.content.decode()
    assert "Reload the page" in body or "Genindlæs siden" in body
    assert "Husk mig" in body and f'name="{FIELD}"' in body  # a fresh token: sending again works
    assert not AccessOrder.objects.exists()


def test_a_token_past_its_age_is_refused(cast, order_in, client, monkeypatch):
    order = order_in("draft")
    client.force_login(cast.orderer_a)
    token = form_token_issue(cast.orderer_a.pk)
    later = time.time() + MAX_AGE.total_seconds() + 60
    monkeypatch.setattr(signing.time, "time", lambda: later)
    response = submit_draft_with(client, order, token)
    assert AccessOrder.objects.get(pk=order.pk).state == "draft"
    assert any("open for too long" in m or "åben for længe" in m for m in messages_of(response))


def test_a_token_used_on_one_form_is_refused_on_another(cast, order_in, client):
    order = order_in("draft")
    client.force_login(cast.orderer_a)
    token = form_token_issue(cast.orderer_a.pk)
    client.post(
        reverse("ordering:order_transition", args=[order.pk, "submit"]), {"expected_state": "draft", FIELD: token}
    )
    response = client.post(reverse("ordering:order_create"), {**order_form(cast), FIELD: token})
    assert response.status_code == 400
    assert AccessOrder.objects.count() == 1


def test_a_refused_write_keeps_nothing_so_the_corrected_form_goes_through_with_the_same_token(cast, client):
    client.force_login(cast.orderer_a)
    token = form_token_issue(cast.orderer_a.pk)
    refused = client.post(reverse("ordering:order_create"), {**order_form(cast, interfaces=[]), FIELD: token})
    assert refused.status_code == 400 and not AccessOrder.objects.exists()
    assert not FormSubmission.objects.exists()
    done = client.post(reverse("ordering:order_create"), {**order_form(cast), FIELD: token})
    assert done.status_code == 302 and AccessOrder.objects.count() == 1


def test_a_sequential_second_click_is_answered_before_the_order_is_checked_again(cast, order_in, client):
    # Without the token the second "Indsend" would be told the order changed meanwhile.
    order = order_in("draft")
    client.force_login(cast.orderer_a)
    token = form_token_issue(cast.orderer_a.pk)
    url = reverse("ordering:order_transition", args=[order.pk, "submit"])
    client.post(url, {"expected_state": "draft", FIELD: token})
    again = client.post(url, {"expected_state": "draft", FIELD: token}, follow=True)
    assert [m for m in messages_of(again) if "changed" in m or "ændret" in m] == []
    assert AuditEvent.objects.filter(order=order, kind="submit").count() == 1


# --- Every writing form carries a token ----------------------------------------------------------


def test_every_form_that_writes_carries_a_token(cast, order_in, individual_order, client):
    client.force_login(cast.orderer_a)
    assert f'name="{FIELD}"' in client.get(reverse("ordering:order_create")).content.decode()
    order = individual_order("draft", upload=False)
    page = client.get(reverse("ordering:order_detail", args=[order.pk])).content.decode()
    assert page.count("<form") - page.count('action="/i18n/') - page.count('action="/logout/') == page.count(
        f'name="{FIELD}"'
    )
    assert f'name="{FIELD}"' in client.get(reverse("ordering:order_edit", args=[order.pk])).content.decode()
    client.force_login(cast.am_a)
    submitted = order_in("submitted", system=cast.canteen, codes=("engangsydelser",))
    page = client.get(reverse("ordering:order_detail", args=[submitted.pk])).content.decode()
    assert reverse("billing:quote_adjust", args=[submitted.pk]) in page
    assert page.count("<form") - page.count('action="/i18n/') - page.count('action="/logout/') == page.count(
        f'name="{FIELD}"'
    )


def test_two_renders_give_two_different_tokens(cast, client):
    client.force_login(cast.orderer_a)
    pages = [client.get(reverse("ordering:order_create")).content.decode() for _ in range(2)]
    tokens = [p.split(f'name="{FIELD}" value="')[1].split('"')[0] for p in pages]
    assert tokens[0] != tokens[1]


# --- Old claims are forgotten --------------------------------------------------------------------


def test_claims_older_than_a_token_lives_are_purged(cast, client):
    client.force_login(cast.orderer_a)
    for _ in range(2):
        client.post(reverse("ordering:order_create"), {**order_form(cast), FIELD: form_token_issue(cast.orderer_a.pk)})
    old = FormSubmission.objects.order_by("pk").first()
    FormSubmission.objects.filter(pk=old.pk).update(created_at=timezone.now() - MAX_AGE - datetime.timedelta(hours=1))
    call_command("purge_form_tokens")
    assert FormSubmission.objects.count() == 1 and not FormSubmission.objects.filter(pk=old.pk).exists()
