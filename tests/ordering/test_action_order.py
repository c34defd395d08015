"""The order page offers its actions in the order the situation asks (TransitionSpec.rank): what answers the
customer's request first, as the primary button and pre-filled with what they asked; what ends the order last;
and asking first names the date and what happens then."""

import datetime
from html.parser import HTMLParser

from django.urls import reverse
from django.utils import timezone

from ordering import services
from tests.pages import order_page_text, post_action


class _Actions(HTMLParser):
    """The action forms of an order page, in page order: each one's name and its submit button's classes; and
    the value of each date field by its id."""

    def __init__(self) -> None:
        super().__init__()
        self.actions: list[tuple[str, str]] = []
        self.dates: dict[str, str] = {}
        self._form: str | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attributes = dict(attrs)
        if tag == "form" and (attributes.get("id") or "").startswith("action-"):
            self._form = attributes["id"].removeprefix("action-")
        elif tag == "button" and self._form and attributes.get("type") == "submit":
            self.actions.append((self._form, attributes.get("class", "")))
        elif tag == "input" and attributes.get("type") == "date":
            self.dates[attributes["id"]] = attributes.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None


def actions_on(body: str) -> _Actions:
    parser = _Actions()
    parser.feed(body)
    return parser


def names(actions: _Actions) -> list[str]:
    return [name for name, _classes in actions.actions]


def button(actions: _Actions, name: str) -> str:
    return dict(actions.actions)[name]


def test_a_closure_wished_for_a_later_date_is_answered_first_by_scheduling_it_on_that_date(cast, order_in, client):
    """The customer asked to close on a date after today: "Planlæg lukning" with that date is the first, primary
    action; closing now comes last, secondary."""
    wished = timezone.localdate() + datetime.timedelta(days=56)
    order = services.order_request_closure(order=order_in("active"), actor=cast.orderer_a, wished_on=wished)
    page = actions_on(order_page_text(client, cast.am_a, order))
    assert names(page) == ["schedule_closure", "close"]
    assert "button-primary" in button(page, "schedule_closure")
    assert "button-primary" not in button(page, "close")
    assert page.dates["schedule_closure-on"] == wished.isoformat()
    assert page.dates["close-on"] == timezone.localdate().isoformat()


def test_a_closure_wished_as_soon_as_possible_is_answered_first_by_closing_today(cast, order_in, client):
    order = services.order_request_closure(order=order_in("active"), actor=cast.orderer_a, wished_on=None)
    page = actions_on(order_page_text(client, cast.am_a, order))
    assert names(page) == ["close", "schedule_closure"]
    assert "button-primary" in button(page, "close")
    assert page.dates["close-on"] == timezone.localdate().isoformat()


def test_a_wished_date_of_today_is_answered_by_closing_today(cast, order_in, client):
    order = services.order_request_closure(
        order=order_in("active"), actor=cast.orderer_a, wished_on=timezone.localdate()
    )
    assert names(actions_on(order_page_text(client, cast.am_a, order)))[0] == "close"


def test_once_the_closure_is_scheduled_no_action_is_pressed_on_the_account_manager_and_closing_comes_last(
    cast, order_in, client
):
    wished = timezone.localdate() + datetime.timedelta(days=56)
    order = services.order_request_closure(order=order_in("active"), actor=cast.orderer_a, wished_on=wished)
    order = services.order_schedule_closure(order=order, actor=cast.am_a, on=wished)
    page = actions_on(order_page_text(client, cast.am_a, order))
    assert names(page) == ["schedule_closure", "cancel_scheduled_closure", "close"]
    assert not any("button-primary" in classes for _name, classes in page.actions)


def test_a_running_access_nobody_asked_to_close_offers_closing_last_and_secondary(cast, order_in, client):
    page = actions_on(order_page_text(client, cast.am_a, order_in("active")))
    assert names(page)[-1] == "close"
    assert "button-primary" not in button(page, "close")


def test_on_a_draft_submitting_comes_before_discarding(cast, order_in, client):
    page = actions_on(order_page_text(client, cast.orderer_a, order_in("draft")))
    assert names(page) == ["submit", "discard"]
    assert "button-primary" in button(page, "submit")
    assert "button-primary" not in button(page, "discard")


def test_the_account_manager_is_offered_the_addendum_before_returning_or_rejecting(cast, order_in, client):
    page = actions_on(order_page_text(client, cast.am_a, order_in("submitted")))
    assert names(page) == ["issue_addendum", "return_for_changes", "reject"]


def test_the_closing_confirmation_names_the_date_and_that_billing_stops(cast, order_in, client):
    body = order_page_text(client, cast.am_a, order_in("active"))
    modal = body[body.index('id="confirm-close"') :]
    today = timezone.localdate().strftime("%d.%m.%Y")
    assert f">Adgangen lukkes den {today}; faktureringen stopper samme dag.</p>" in modal
    # The page's script says it again with the date picked in the form before confirming.
    assert 'data-date-of="close-on" data-date-format="d.m.Y"' in modal
    assert 'data-consequence="Adgangen lukkes den %(on)s; faktureringen stopper samme dag."' in modal


def test_without_javascript_the_closing_confirmation_names_the_date_that_was_sent(cast, order_in, client):
    order = order_in("active")
    response = post_action(client, cast.am_a, order, "close", {"expected_state": "active", "on": "15.01.2026"})
    assert response.templates[0].name == "ordering/confirm_action.html"
    text = response.content.decode()
    assert ">Adgangen lukkes den 15.01.2026; faktureringen stopper samme dag.</p>" in text


def test_the_confirmation_closes_with_an_icon_button_named_for_screen_readers(cast, order_in, client):
    body = order_page_text(client, cast.am_a, order_in("active"))
    modal = body[body.index('id="confirm-close"') :]
    close = modal[modal.index('class="modal-close') : modal.index("</button>")]
    assert 'aria-label="Luk dialogen"' in close
    assert "#close" in close and 'aria-hidden="true"' in close
    assert ">Luk<" not in close


def test_the_english_confirmation_names_the_date_the_english_way(cast, order_in, client):
    order = order_in("active")
    client.force_login(cast.am_a)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    body = client.get(order.get_absolute_url()).content.decode()
    today = timezone.localdate().strftime("%d/%m/%Y")
    assert f">The access closes on {today}; billing tied to it stops the same day.</p>" in body
