"""The order page's step indicator (issue #22, item 5): Kladde → Indsendt → Godkendt → Tillæg accepteret →
Etableret, the current step marked, and one sentence on what happens next and who acts, for every state."""

import html
import re

import pytest
from django.urls import reverse

from ordering import services
from ordering.models import State
from ordering.steps import order_steps

from ..conftest import make_order

DANISH_STEPS = ["Kladde", "Indsendt", "Godkendt", "Tillæg accepteret", "Etableret"]


def detail(client, user, order, language="da") -> str:
    client.force_login(user)
    client.cookies["django_language"] = language
    response = client.get(reverse("ordering:order_detail", args=[order.pk]))
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def indicator(body: str) -> list[tuple[str, str]]:
    """(status, title) for each step, as the page shows them: done (ticked), current, todo, or error (where the
    order left the way)."""
    block = body[body.index('<ol class="step-indicator"') : body.index("</ol>", body.index('class="step-indicator"'))]
    steps = []
    for css, content in re.findall(r'<li class="([^"]*)">(.*?)</li>', block, re.S):
        title = re.search(r'<span class="step-title">([^<]*)</span>', content).group(1)
        if "error" in css:
            status = "error"
        elif "current" in css:
            status = "current"
        else:
            status = "done" if "#check" in content else "todo"
        steps.append((status, title))
    return steps


def next_step(body: str) -> str:
    start = body.index('id="order-next-step"')
    return body[start : body.index("</p>", start)]


# state, which step is current (1-based), the classes of the five steps, who acts next (Danish, in the sentence)
CASES = [
    ("draft", 1, ["current", "todo", "todo", "todo", "todo"], "En bestiller hos kunden"),
    ("submitted", 2, ["done", "current", "todo", "todo", "todo"], "salgs- og kundeansvarlige"),
    ("awaiting_signature", 3, ["done", "done", "current", "todo", "todo"], "En tegningsberettiget"),
    ("provisioning", 4, ["done", "done", "done", "current", "todo"], "KMD etablerer adgangen"),
    ("active", 5, ["done"] * 5, "Bestilleren giver leverandøren besked"),
    ("closure_requested", 5, ["done"] * 5, "lukker den på den aftalte dato"),
    ("closed", 5, ["done"] * 5, "Adgangen er lukket"),
    ("emergency_closed", 5, ["done"] * 5, "Adgangen er lukket"),
    ("withdrawn", 2, ["done", "error", "todo", "todo", "todo"], "Bestilleren har trukket"),
    ("rejected", 2, ["done", "error", "todo", "todo", "todo"], "KMD har afvist"),
]


@pytest.mark.parametrize(("state", "current", "classes", "who"), CASES)
def test_each_state_shows_its_step_and_what_happens_next(cast, client, state, current, classes, who):
    order = make_order(cast, state)
    body = detail(client, cast.orderer_a, order)
    steps = indicator(body)
    assert [status for status, _ in steps] == classes
    titles = [title for _, title in steps]
    if state == "withdrawn":
        assert titles == ["Kladde", "Trukket tilbage", "Godkendt", "Tillæg accepteret", "Etableret"]
    elif state == "rejected":
        assert titles == ["Kladde", "Afvist", "Godkendt", "Tillæg accepteret", "Etableret"]
    else:
        assert titles == DANISH_STEPS
    assert f"Trin {current} af 5" in body
    assert "DKFDS" not in body  # the template's comments stay out of the page
    assert who in next_step(body)
    # The current step is announced as such; a done step says so to a screen reader, not only by its tick.
    assert body.count('aria-current="step"') == sum(1 for status in classes if status in ("current", "error"))
    assert body.count("gennemført") == classes.count("done")


def test_a_returned_draft_says_kmd_returned_it_and_who_acts(cast, client):
    order = make_order(cast, "submitted")
    order = services.order_return_for_changes(order=order, actor=cast.am_a, comment="Ret miljøet")
    assert order.state == State.DRAFT
    assert "KMD har sendt bestillingen retur til rettelse" in next_step(detail(client, cast.orderer_a, order))


def test_a_declined_addendum_says_the_account_manager_acts_next(cast, client):
    order = make_order(cast, "awaiting_signature")
    order = services.order_decline(order=order, actor=cast.signatory_a, comment="Forkert system")
    assert order.state == State.SUBMITTED
    body = detail(client, cast.am_a, order, language="en")
    assert "The signatory declined the addendum. Next: KMD's account manager" in next_step(body)


def test_an_access_emergency_closed_before_it_was_established_ends_at_the_last_step(cast):
    order = make_order(cast, "provisioning")
    order = services.order_emergency_close(order=order, actor=cast.support, reason="Sikkerhedsbrud hos leverandøren")
    steps = order_steps(order, "emergency_close")
    assert [s.status for s in steps.steps] == ["done", "done", "done", "done", "error"]
    assert "before it was established" in str(steps.next)


def test_the_step_indicator_shows_each_customer_only_its_own_orders_steps(cast, client):
    other = make_order(cast, "submitted", customer=cast.customer_b)
    client.force_login(cast.orderer_a)
    assert client.get(reverse("ordering:order_detail", args=[other.pk])).status_code == 404


def test_the_submit_message_names_the_next_step(cast, client):
    order = make_order(cast, "draft")
    client.force_login(cast.orderer_a)
    client.cookies["django_language"] = "da"
    page = client.get(reverse("ordering:order_detail", args=[order.pk])).content.decode()
    token = page.split('name="form_token" value="')[1].split('"')[0]
    response = client.post(
        reverse("ordering:order_transition", args=[order.pk, "submit"]),
        {"expected_state": "draft", "form_token": token},
        follow=True,
    )
    body = html.unescape(response.content.decode())
    assert "Bestillingen er indsendt. Næste skridt: KMD’s salgs- og kundeansvarlige gennemgår den" in body
    assert "Trin 2 af 5" in body
