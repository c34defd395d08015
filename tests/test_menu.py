"""Each role's menu links exactly the pages it can open, and every link on its start page opens.

The menu and the views ask the same predicates (accounts/roles.py); this walks them as a user does.
"""

import datetime
import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from accounts.roles import CATALOGUE_ADMIN_GROUP
from billing import services as billing
from ordering.models import CustomerMembership
from tests.conftest import make_user

# Every page any menu can link, by a short name.
MENU_PAGES = {
    "start": reverse("home"),
    "orders": reverse("ordering:order_list"),
    "catalogue": reverse("ordering:catalogue"),
    "invoices": reverse("billing:invoice_list"),
    "licences": reverse("billing:licence_list"),
    "billing runs": reverse("billing:run_list"),
    "expiring certificates": reverse("certificates:expiring"),
    "undelivered messages": reverse("core:outbox_dead_letters"),
    "administration": reverse("admin:index"),
    "users": reverse("ordering:people_index"),
    "help from KMD": reverse("ordering:consulting_list"),
}
EVERYONE = {"start", "catalogue"}
CUSTOMER = EVERYONE | {"orders", "invoices", "licences", "help from KMD"}
BACK_OFFICE = EVERYONE | {"orders", "invoices", "licences", "billing runs", "expiring certificates"}
# Appoints a customer's first user administrator, and answers the customers' requests for help.
ACCOUNT_MANAGER = BACK_OFFICE | {"users", "help from KMD"}

MENUS = {
    "orderer_a": CUSTOMER,
    "signatory_a": CUSTOMER,
    "am_a": ACCOUNT_MANAGER,
    "support": BACK_OFFICE | {"undelivered messages"},
    "catalogue_admin": EVERYONE | {"administration", "users"},
    "orderer_and_account_manager": ACCOUNT_MANAGER,
    "support_and_catalogue_admin": BACK_OFFICE | {"undelivered messages", "administration", "users"},
    "outsider": EVERYONE,
}


class Links(HTMLParser):
    """The hrefs inside the main menu and inside the page's main content."""

    def __init__(self):
        super().__init__()
        self.menu, self.main, self._inside = [], [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "nav" and "navigation-menu" in (attrs.get("class") or ""):
            self._inside.append("menu")
        elif tag == "main":
            self._inside.append("main")
        elif tag in ("nav", "main"):
            self._inside.append(None)
        elif tag == "a" and self._inside and self._inside[-1] and attrs.get("href"):
            getattr(self, self._inside[-1]).append(attrs["href"])

    def handle_endtag(self, tag):
        if tag in ("nav", "main") and self._inside:
            self._inside.pop()


def links(response) -> Links:
    parser = Links()
    parser.feed(response.content.decode())
    return parser


@pytest.fixture
def people(cast, order_in):
    """The cast, a catalogue admin and two people with several roles, and something on every page."""
    order_in("active", purchase_model="package", package=cast.package, codes=())
    order_in("submitted", system=cast.canteen, codes=("engangsydelser",))
    order_in("active", customer=cast.customer_b, system=cast.canteen, codes=("engangsydelser",))
    billing.billing_run(period=datetime.date.today().replace(day=1), force=True)

    admins = Group.objects.create(name=CATALOGUE_ADMIN_GROUP)
    catalogue_admin = make_user("catalogue_admin", is_staff=True)
    catalogue_admin.groups.add(admins)
    # A customer's orderer who is also the account manager of another customer (a KMD person's own
    # organisation may order too), and a support person who also keeps the catalogue.
    orderer_and_account_manager = make_user("orderer_and_account_manager", is_staff=True)
    CustomerMembership.objects.create(user=orderer_and_account_manager, customer=cast.customer_a, is_orderer=True)
    cast.customer_b.account_manager = orderer_and_account_manager
    cast.customer_b.save(update_fields=["account_manager"])
    support_and_catalogue_admin = make_user("support_and_catalogue_admin", is_staff=True, is_support=True)
    support_and_catalogue_admin.groups.add(admins)
    return {
        "catalogue_admin": catalogue_admin,
        "orderer_and_account_manager": orderer_and_account_manager,
        "support_and_catalogue_admin": support_and_catalogue_admin,
        **{name: getattr(cast, name) for name in ("orderer_a", "signatory_a", "am_a", "support", "outsider")},
    }


def opens(client, url: str) -> bool:
    return client.get(url).status_code == 200


@pytest.mark.parametrize("who", MENUS)
def test_the_menu_links_exactly_the_pages_the_user_can_open(people, client, who):
    client.force_login(people[who])
    menu = links(client.get(reverse("home"))).menu
    linked = {name for name, url in MENU_PAGES.items() if url in menu}
    assert linked == MENUS[who]
    assert set(menu) <= set(MENU_PAGES.values()), "a menu link this test does not know"
    for name, url in MENU_PAGES.items():
        assert opens(client, url) is (name in linked), f"{who}: {name} ({url})"


@pytest.mark.parametrize("who", MENUS)
def test_every_link_on_the_start_page_opens(people, client, who):
    client.force_login(people[who])
    home = reverse("home")
    response = client.get(home)
    assert response.status_code == 200
    page = links(response)
    urls = {urljoin(home, href) for href in page.main + page.menu}
    # The site's own pages only: not other sites, nor support's mailto: and tel: links.
    urls = {url for url in urls if not urlsplit(url).netloc and not urlsplit(url).scheme}
    assert urls
    for url in sorted(urls):
        assert opens(client, url), f"{who}: {url}"


def test_the_start_page_shows_each_role_its_sections(people, client):
    def sections(who):
        client.force_login(people[who])
        return client.get(reverse("home")).content.decode()

    assert "Venter på dig" in sections("orderer_a") and "Bestil adgang til et system" in sections("orderer_a")
    assert "Venter på dig" not in sections("outsider")
    assert "Venter på dig" in sections("orderer_and_account_manager")
    assert "administrationen" in sections("catalogue_admin")
    assert "ingen rolle" not in sections("catalogue_admin")
    assert "ingen rolle" in sections("outsider")


def orm_standing(user) -> tuple[bool, bool, bool, bool]:
    """The standing as the ORM asks it: what accounts.roles' own SQL must answer."""
    return (
        user.memberships.exists(),
        user.managed_customers.exists(),
        user.groups.filter(name=CATALOGUE_ADMIN_GROUP).exists(),
        user.memberships.filter(is_user_admin=True).exists(),
    )


def test_each_users_standing_is_what_the_orm_says_in_one_query(people, cast, django_assert_num_queries):
    """Issue 23: the menu's one query of the user's standing is SQL of its own (the ORM spent a millisecond per
    page building it): for every kind of user it answers what the ORM does."""
    from accounts import roles

    user_admin = make_user("user_admin")
    CustomerMembership.objects.create(user=user_admin, customer=cast.customer_b, is_user_admin=True)
    in_another_group = make_user("in_another_group", is_staff=True)
    in_another_group.groups.add(Group.objects.create(name=CATALOGUE_ADMIN_GROUP + " (old)"))
    users = [*people.values(), user_admin, in_another_group]
    answers = set()
    for user in users:
        with django_assert_num_queries(1):
            standing = roles._standing(user)
        with django_assert_num_queries(0):  # kept on the user for the rest of the request
            assert roles._standing(user) is standing
        assert standing == orm_standing(user), user.username
        assert all(type(answer) is bool for answer in standing)
        answers.add(standing)
    # Every question is answered both ways by some user here, so none of them could be always true or false.
    assert [{s[i] for s in answers} for i in range(4)] == [{True, False}] * 4


def test_the_menu_is_drawn_once_and_shown_in_the_header_and_the_mobile_drawer_alike(people, client):
    """Issue 23: every page drew the main menu twice (half a millisecond each time); now once per way it can look,
    kept for the next page that looks the same, and the mobile drawer shows the same menu as the header, the current
    page marked in both."""
    from core.templatetags.main_menu import _drawn

    _drawn.cache_clear()
    client.force_login(people["am_a"])
    for url in (reverse("home"), reverse("ordering:order_list")):
        response = client.get(url)
        drawn = [t.name for t in response.templates]
        assert drawn.count("_mainmenu.html") == 1 and drawn.count("_language_switch.html") == 1
        body = response.content.decode()
        menus = re.findall(r'<ul class="mainmenu">.*?</ul>', body, flags=re.S)
        assert len(menus) == 2 and menus[0] == menus[1]
        assert menus[0].count('aria-current="page"') == 1 and f'href="{url}" aria-current="page"' in menus[0]
        assert len(re.findall(r'<form class="language-form" action="/i18n/setlang/"', body)) == 2
        again = client.get(url)  # the same menu again: shown as drawn, not drawn again
        assert [t.name for t in again.templates].count("_mainmenu.html") == 0
        assert re.findall(r'<ul class="mainmenu">.*?</ul>', again.content.decode(), flags=re.S) == menus
    client.force_login(people["support"])  # another user's page: drawn for them, nothing kept from the last page
    response = client.get(reverse("home"))
    assert [t.name for t in response.templates].count("_mainmenu.html") == 1
    menu = re.findall(r'<ul class="mainmenu">.*?</ul>', response.content.decode(), flags=re.S)
    assert reverse("core:outbox_dead_letters") in menu[0] and reverse("ordering:people_index") not in menu[0]


def test_the_kept_menu_follows_the_language_the_count_and_the_users_rights(people, cast, order_in, client):
    """Each thing the menu shows is part of what it is kept by: a new language, a new count or a right gained
    draws it anew, and the other user's menu is never shown."""

    def menu():
        body = client.get(reverse("ordering:catalogue")).content.decode()
        return re.findall(r'<ul class="mainmenu">.*?</ul>', body, flags=re.S)[0]

    client.force_login(people["orderer_a"])
    danish = menu()
    assert "Bestillinger" in danish and "venter på dig" not in danish
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    english = menu()
    assert "Orders" in english and "Bestillinger" not in english
    client.post(reverse("set_language"), {"language": "da", "next": "/"})
    assert menu() == danish
    order_in("draft")  # a draft for the orderer to submit: the count the menu shows (counted afresh on the start page)
    client.get(reverse("home"))
    waiting = menu()
    assert re.search(r'badge-info">1<span class="sr-only"> venter på dig', waiting)
    assert reverse("ordering:people_index") not in waiting
    CustomerMembership.objects.filter(user=people["orderer_a"]).update(is_user_admin=True)  # a right gained
    assert reverse("ordering:people_index") in menu()
