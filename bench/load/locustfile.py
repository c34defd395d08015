"""Locust: the demo's people going through their day against a running Opus Adgang (bench/bench_load.py runs it).

Each simulated person logs in with the password form (the demo's logins, README.md "Demo logins"), then keeps
opening the pages their role works in, as a browser does: the start page, the order list with a filter, an
order's page, the catalogue, the new order form and its live quote (htmx), the invoices, the billing runs. The
writes a real day has go through the same forms a browser sends, with the CSRF token and the one-time form token
read from the page: a message in an order's thread (htmx), a new order saved as a draft, that draft saved again.

Roles are weighted as a working day is: customers' orderers are the most, then KMD's account managers, support
and the customers' signatories. The tasks' weights give about one write in ten requests. Every request carries
its name in `X-Bench-Name`, so the server's CPU log (bench/load/gunicorn_cpu.py) names pages as Locust does.

Think time between pages: LOAD_WAIT_MIN/LOAD_WAIT_MAX seconds, default 0.1–0.4 (0.25 on average): the goal of
60 requests a second from 20 users is 3 a second each, which a person pausing 0.5 s on average (the earlier
0.2–0.8) cannot ask for however fast the server answers; 20 users at 0.1–0.4 s load the server as a larger office.
"""

import itertools
import os
import random
import re
from html.parser import HTMLParser
from urllib.parse import urlencode

from locust import between, task
from locust.contrib.fasthttp import FastHttpUser

PASSWORD = "opus-demo-2026"  # noqa: S105 - the published demo password, every demo user's (config/management/commands/seed_demo.py)
WAIT = between(float(os.environ.get("LOAD_WAIT_MIN", "0.1")), float(os.environ.get("LOAD_WAIT_MAX", "0.4")))
FORM_URLENCODED = {"Content-Type": "application/x-www-form-urlencoded"}
HTMX = {"HX-Request": "true"}

ORDER_LINK = re.compile(r'href="/orders/(\d+)/"')
INVOICE_LINK = re.compile(r'href="/invoices/(\d+)/"')
CSRF_COOKIE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class FormReader(HTMLParser):
    """The fields a browser would send for the form with `id` (or the first form whose action contains `action`):
    hidden and text inputs, ticked boxes and radios, each select's chosen option, textareas."""

    def __init__(self, *, form_id: str = "", action: str = "") -> None:
        super().__init__(convert_charrefs=True)
        self.form_id, self.action = form_id, action
        self.inside, self.done = False, False
        self.fields: list[tuple[str, str]] = []
        self.select: str | None = None
        self.select_first: str | None = None
        self.select_chosen = False
        self.textarea: str | None = None
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        if tag == "form" and not self.done:
            self.inside = (self.form_id and a.get("id") == self.form_id) or (
                self.action and self.action in (a.get("action") or "")
            )
        if not self.inside:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = (a.get("type") or "text").lower()
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.fields.append((name, a.get("value") or "on"))
            elif kind not in ("submit", "button", "file", "image", "reset"):
                self.fields.append((name, a.get("value") or ""))
        elif tag == "select" and name:
            self.select, self.select_first, self.select_chosen = name, None, False
        elif tag == "option" and self.select is not None:
            value = a.get("value") or ""
            if self.select_first is None:
                self.select_first = value
            if "selected" in a and not self.select_chosen:
                self.fields.append((self.select, value))
                self.select_chosen = True
        elif tag == "textarea" and name:
            self.textarea, self.text = name, ""

    def handle_data(self, data: str) -> None:
        if self.textarea is not None:
            self.text += data

    def handle_endtag(self, tag: str) -> None:
        if not self.inside:
            return
        if tag == "select" and self.select is not None:
            if not self.select_chosen and self.select_first is not None:
                self.fields.append((self.select, self.select_first))
            self.select = None
        elif tag == "textarea" and self.textarea is not None:
            self.fields.append((self.textarea, self.text))
            self.textarea = None
        elif tag == "form":
            self.inside, self.done = False, True


def form_fields(html: str, *, form_id: str = "", action: str = "") -> list[tuple[str, str]]:
    reader = FormReader(form_id=form_id, action=action)
    reader.feed(html)
    return reader.fields


def replaced(fields: list[tuple[str, str]], **values) -> list[tuple[str, str]]:
    """The fields with each named one set to the given value (a list: several values, like ticked boxes)."""
    kept = [(k, v) for k, v in fields if k not in values]
    for name, value in values.items():
        kept += [(name, str(v)) for v in value] if isinstance(value, list) else [(name, str(value))]
    return kept


class Person(FastHttpUser):
    """A logged-in person of one role; the subclasses are the roles, their tasks the pages they work in."""

    abstract = True
    wait_time = WAIT
    logins: tuple[str, ...] = ()
    role = ""
    _next_login: dict[str, itertools.cycle] = {}

    def on_start(self) -> None:
        cycle = Person._next_login.setdefault(type(self).__name__, itertools.cycle(self.logins))
        self.username = next(cycle)
        self.orders: list[int] = []
        self.invoices: list[int] = []
        self.my_drafts: list[int] = []
        page = self.get("/login/", "login page")
        token = CSRF_COOKIE.search(page.text).group(1)
        with self.client.post(
            "/login/",
            data=urlencode({"csrfmiddlewaretoken": token, "username": self.username, "password": PASSWORD}),
            headers={**FORM_URLENCODED, "X-Bench-Name": "login (POST)"},
            name="login (POST)",
            allow_redirects=False,
            catch_response=True,
        ) as answer:
            if answer.status_code != 302:
                answer.failure(f"{self.username} was not logged in: {answer.status_code}")
                return
        self.home()
        self.learn(self.get("/orders/", "order list"))

    # Browsing -------------------------------------------------------------------------------------------------

    def get(self, url: str, name: str, headers: dict | None = None):
        return self.client.get(url, name=name, headers={**(headers or {}), "X-Bench-Name": name})

    def post(self, url: str, fields: list[tuple[str, str]], name: str, headers: dict | None = None):
        """A form sent as a browser sends it; the redirect that follows is opened as its own page."""
        with self.client.post(
            url,
            data=urlencode(fields),
            name=name,
            headers={**FORM_URLENCODED, **(headers or {}), "X-Bench-Name": name},
            allow_redirects=False,
            catch_response=True,
        ) as answer:
            if answer.status_code >= 400:
                answer.failure(f"{name}: {answer.status_code}")
            return answer

    def learn(self, page) -> None:
        """The orders and invoices a page links to, for the next pages to open."""
        if page.text:
            self.orders = sorted(set(self.orders) | {int(pk) for pk in ORDER_LINK.findall(page.text)})
            self.invoices = sorted(set(self.invoices) | {int(pk) for pk in INVOICE_LINK.findall(page.text)})

    def home(self) -> None:
        page = self.get("/", f"home ({self.role})")
        self.learn(page)
        # The menu links the people page only for a user administrator (tegner, not tegner.odense).
        self.user_admin = 'href="/people/"' in (page.text or "")

    def order_list_filtered(self) -> None:
        query = random.choice(["state=active", "state=submitted", "environment=production", "sort=-updated_at"])
        self.learn(self.get(f"/orders/?{query}", "order list: filtered"))

    def order_page(self):
        if not self.orders:
            return None
        return self.get(f"/orders/{random.choice(self.orders)}/", "order detail")

    def write_in_thread(self) -> None:
        """Open an order and write in its thread, as the htmx form does (the thread comes back as a fragment)."""
        page = self.order_page()
        if page is None or 'id="message-form"' not in (page.text or ""):
            return
        fields = form_fields(page.text, form_id="message-form")
        action = re.search(r'id="message-form"[^>]*hx-post="([^"]+)"', page.text) or re.search(
            r'action="(/orders/\d+/messages/)"', page.text
        )
        csrf = dict(fields).get("csrfmiddlewaretoken", "")
        fields = replaced(fields, text=f"Load test message from {self.username}: is the access working as agreed?")
        self.post(action.group(1), fields, "order thread: write (htmx POST)", headers={**HTMX, "X-CSRFToken": csrf})

    def invoices_page(self) -> None:
        self.learn(self.get("/invoices/", "invoice list"))
        if self.invoices and random.random() < 0.5:
            self.get(f"/invoices/{random.choice(self.invoices)}/", "invoice detail")


class Orderer(Person):
    """A customer's orderer: follows their orders, orders new access (the live quote), writes to KMD."""

    weight = 7
    logins = ("bestiller", "bestiller.odense", "bestiller.region")
    role = "orderer"

    @task(4)
    def start_page(self) -> None:
        self.home()

    @task(3)
    def orders(self) -> None:
        self.order_list_filtered()

    @task(4)
    def order(self) -> None:
        self.order_page()

    @task(1)
    def catalogue(self) -> None:
        self.get("/catalogue/", "catalogue")

    @task(3)
    def new_order(self) -> None:
        """The order form, a system and interfaces chosen (each change asks for the live preview), and now and then
        saved as a draft."""
        page = self.get("/orders/new/", "new order form")
        if not page.text:
            return
        fields = form_fields(page.text, form_id="order-form")
        systems = re.findall(
            r'<option value="(\d+)"', page.text.split('name="external_system"', 1)[-1].split("</select>")[0]
        )
        if not systems:
            return
        fields = replaced(fields, external_system=random.choice(systems))
        preview = self.get("/orders/new/preview/?" + urlencode(fields), "new order: preview (htmx)", HTMX)
        interfaces = re.findall(r'name="interfaces" value="(\d+)"', page.text)
        fields = replaced(
            fields,
            purchase_model="single",
            interfaces=random.sample(interfaces, min(2, len(interfaces))),
            environment="test",
            vendor_agreement_confirmed="on",
        )
        preview = self.get("/orders/new/preview/?" + urlencode(fields), "new order: preview (htmx)", HTMX)
        if preview.status_code == 200 and random.random() < 0.3:
            answer = self.post("/orders/new/", fields, "new order: save draft (POST)")
            location = answer.headers.get("Location", "") if answer.status_code == 302 else ""
            if location:
                self.my_drafts.append(int(re.search(r"/orders/(\d+)/", location).group(1)))
                self.get(location, "order detail (after a write)")

    @task(1)
    def save_draft_again(self) -> None:
        if not self.my_drafts:
            return
        pk = random.choice(self.my_drafts)
        page = self.get(f"/orders/{pk}/edit/", "draft: edit form")
        if page.status_code != 200:
            self.my_drafts.remove(pk)
            return
        fields = replaced(form_fields(page.text, form_id="order-form"), note=f"Changed by {self.username}")
        answer = self.post(f"/orders/{pk}/edit/", fields, "draft: save (POST)")
        if answer.status_code == 302:
            self.get(answer.headers["Location"], "order detail (after a write)")

    @task(1)
    def message(self) -> None:
        self.write_in_thread()

    @task(1)
    def invoices(self) -> None:
        self.invoices_page()


class Signatory(Person):
    """A customer's signatory (at Aarhus also its user administrator): reads orders and invoices, answers KMD."""

    weight = 3
    logins = ("tegner", "tegner.odense")
    role = "signatory"

    @task(4)
    def start_page(self) -> None:
        self.home()

    @task(3)
    def order(self) -> None:
        self.order_page()

    @task(2)
    def orders(self) -> None:
        self.order_list_filtered()

    @task(2)
    def invoices(self) -> None:
        self.invoices_page()

    @task(1)
    def people(self) -> None:
        if self.user_admin:
            self.get("/people/", "people (user administrator)")

    @task(1)
    def message(self) -> None:
        self.write_in_thread()


class AccountManager(Person):
    """KMD's account manager: the queue on the start page, the lists waiting for them, orders, billing."""

    weight = 6
    logins = ("kundeansvarlig", "kundeansvarlig2")
    role = "account manager"

    @task(4)
    def start_page(self) -> None:
        self.home()

    @task(2)
    def orders(self) -> None:
        self.order_list_filtered()

    @task(1)
    def waiting(self) -> None:
        self.learn(self.get("/orders/?waiting=review", "order list: waiting for you"))

    @task(4)
    def order(self) -> None:
        self.order_page()

    @task(2)
    def invoices(self) -> None:
        self.invoices_page()

    @task(1)
    def billing_runs(self) -> None:
        self.get("/billing/runs/", "billing runs")

    @task(1)
    def licences(self) -> None:
        self.get("/licences/", "licence list")

    @task(1)
    def catalogue(self) -> None:
        self.get("/catalogue/", "catalogue")

    @task(1)
    def message(self) -> None:
        self.write_in_thread()


class Support(Person):
    """KMD's support: the start page's search (htmx, as typed), orders, expiring certificates."""

    weight = 4
    logins = ("support",)
    role = "support"

    @task(4)
    def start_page(self) -> None:
        self.home()

    @task(3)
    def search(self) -> None:
        term = random.choice(["Aarhus", "Odense", "Region", "Børneplan", "OA-0000", "Vagt"])
        self.get("/?" + urlencode({"target": "support", "q": term}), "home (support): search (htmx)", HTMX)

    @task(3)
    def order(self) -> None:
        self.order_page()

    @task(2)
    def orders(self) -> None:
        self.order_list_filtered()

    @task(1)
    def certificates(self) -> None:
        self.get("/certificates/expiring/", "expiring certificates")

    @task(1)
    def message(self) -> None:
        self.write_in_thread()
