"""Accepting an addendum is bound to the signatory's MitID Erhverv login: the order's customer's CVR number, the
configured assurance level, and the login printed on the accepted copy (issue 18)."""

import io
import re
from datetime import UTC, datetime

import pytest
from django.core.management import call_command
from django.urls import reverse

from accounts.models import LoginIdentity
from core.errors import NotPermitted
from ordering import documents, services
from ordering.models import Addendum
from tests.conftest import acceptance
from tests.security.snapshots import snapshot

pytestmark = pytest.mark.django_db

UUID = "3c6d9757-1e70-438a-8dd3-5f84398c2e25"


def proof(cast, **changes) -> dict:
    return {
        "scheme": "mitid_erhverv",
        "issuer": "https://broker.example",
        "organisation": cast.customer_a.cvr,
        "person": UUID,
        "assurance": "substantial",
        "authenticated_at": datetime(2026, 12, 6, 13, 3, tzinfo=UTC).isoformat(),
        **changes,
    }


@pytest.fixture
def awaiting(cast, order_in, settings):
    settings.PASSWORD_LOGIN = "break-glass"  # production: nobody but KMD's emergency accounts uses a password
    # The signatory's own MitID Erhverv identity, as their logins made it (ordering/people.py).
    LoginIdentity.objects.create(
        user=cast.signatory_a, scheme="mitid_erhverv", organisation=cast.customer_a.cvr, person=UUID, issuer="x"
    )
    order = order_in("awaiting_signature")
    services.addendum_render(order.addenda.get().pk)
    return order


def accept(order, actor, login):
    return services.order_accept(order=order, actor=actor, login=login, **acceptance(order))


def test_a_signatory_logged_in_with_mitid_erhverv_for_the_customer_accepts_and_the_login_is_recorded(cast, awaiting):
    accept(awaiting, cast.signatory_a, proof(cast))
    addendum = awaiting.addenda.get()
    assert addendum.status == Addendum.Status.ACCEPTED
    assert addendum.signer_login == proof(cast)


@pytest.mark.parametrize(
    ("login", "says"),
    [
        pytest.param(None, "En accept binder jeres organisation", id="no login proof (a password)"),
        pytest.param({"organisation": "99999999"}, "Du er logget ind for CVR-nummer 99999999", id="another CVR"),
        pytest.param({"assurance": "low"}, "sikringsniveau betydelig eller højere", id="assurance below the minimum"),
        pytest.param({"assurance": ""}, "sikringsniveau betydelig eller højere", id="no assurance stated"),
        pytest.param({"scheme": "entra_id"}, "Kun kundens tegningsberettigede", id="a KMD login"),
        pytest.param(
            {"person": "74ffcd31-fbaf-4c33-bdac-169f25c1e416"},
            "En accept binder jeres organisation",
            id="another person's login (a stale or borrowed session's proof)",
        ),
    ],
)
def test_acceptance_is_refused_without_a_strong_login_for_the_customer_and_nothing_changes(cast, awaiting, login, says):
    before = snapshot(awaiting)
    with pytest.raises(NotPermitted) as refused:
        accept(awaiting, cast.signatory_a, None if login is None else proof(cast, **login))
    assert says in refused.value.message
    assert snapshot(awaiting) == before


def test_another_customers_identity_of_the_same_person_does_not_count(cast, awaiting):
    LoginIdentity.objects.create(
        user=cast.signatory_a,
        scheme="mitid_erhverv",
        organisation=cast.customer_b.cvr,
        person="74ffcd31-fbaf-4c33-bdac-169f25c1e416",
        issuer="x",
    )
    with pytest.raises(NotPermitted):
        accept(
            awaiting,
            cast.signatory_a,
            proof(cast, organisation=cast.customer_b.cvr, person="74ffcd31-fbaf-4c33-bdac-169f25c1e416"),
        )


@pytest.mark.parametrize(("minimum", "level", "accepted"), [("high", "substantial", False), ("high", "high", True)])
def test_the_configured_minimum_applies_to_acceptance(cast, awaiting, settings, minimum, level, accepted):
    settings.MITID_MIN_ASSURANCE = minimum
    if accepted:
        accept(awaiting, cast.signatory_a, proof(cast, assurance=level))
        assert awaiting.addenda.get().status == Addendum.Status.ACCEPTED
    else:
        with pytest.raises(NotPermitted):
            accept(awaiting, cast.signatory_a, proof(cast, assurance=level))


def test_the_page_passes_the_sessions_login_to_the_acceptance(cast, awaiting, client):
    client.force_login(cast.signatory_a, backend="accounts.backends.IdentityProviderBackend")
    session = client.session
    session["login_proof"] = proof(cast)
    session.save()
    response = client.post(
        reverse("ordering:order_transition", args=[awaiting.pk, "accept"]),
        {"expected_state": "awaiting_signature", **acceptance(awaiting), "confirm": "on"},
    )
    assert response.status_code == 302
    assert awaiting.addenda.get().signer_login["organisation"] == cast.customer_a.cvr


def test_the_page_refuses_a_signatory_without_a_mitid_login_with_the_reason(cast, awaiting, client):
    # A session whose login proved nothing (no MitID Erhverv proof in it).
    client.force_login(cast.signatory_a, backend="accounts.backends.IdentityProviderBackend")
    response = client.post(
        reverse("ordering:order_transition", args=[awaiting.pk, "accept"]),
        {"expected_state": "awaiting_signature", **acceptance(awaiting), "confirm": "on"},
        follow=True,
    )
    assert "Log ind med MitID Erhverv for at acceptere" in response.content.decode()
    assert awaiting.addenda.get().status == Addendum.Status.ISSUED


def test_the_login_reads_in_words_with_danish_time():
    text = documents.acceptance_login_text(
        {
            "scheme": "mitid_erhverv",
            "organisation": "55133018",
            "person": UUID,
            "assurance": "substantial",
            "authenticated_at": "2026-12-06T13:03:00+00:00",
        }
    )
    assert text.startswith(
        "logget ind med MitID Erhverv, sikringsniveau betydelig, 6.12.2026 kl. 14.03 (dansk tid, UTC+01:00)"
    )
    assert "CVR-nummer 55133018" in text and UUID in text
    summer = documents.acceptance_login_text(
        {"scheme": "mitid_erhverv", "authenticated_at": "2027-07-01T12:00:00+00:00"}
    )
    assert "1.7.2027 kl. 14.00 (dansk tid, UTC+02:00)" in summer
    assert "adgangskode" in documents.acceptance_login_text({})


@pytest.mark.weasyprint
def test_the_stamped_copy_prints_the_login(cast, awaiting, settings):
    from pypdf import PdfReader

    accept(awaiting, cast.signatory_a, proof(cast))
    addendum = awaiting.addenda.get()
    pdf = documents.html_to_pdf(documents.addendum_html(addendum, stamp=True))
    text = " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).split())
    assert "logget ind med MitID Erhverv, sikringsniveau betydelig, 6.12.2026 kl. 14.03 (dansk tid, UTC+01:00)" in text
    assert re.search(r"CVR-nummer\s*" + cast.customer_a.cvr, text)


def test_verify_addenda_reports_an_acceptance_whose_login_is_for_another_cvr(cast, awaiting, capsys):
    accept(awaiting, cast.signatory_a, proof(cast))
    Addendum.objects.filter(pk=awaiting.addenda.get().pk).update(signer_login=proof(cast, organisation="99999999"))
    with pytest.raises(SystemExit):
        call_command("verify_addenda")
    assert "logged in for CVR 99999999" in capsys.readouterr().err
