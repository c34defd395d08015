"""Every page, as every demo role, in Danish and in English: each language all through.

The demo data (seed_demo) gives every role its pages: an order in each state, an invoice, a billing
run, a certificate, every model in the admin. Every URL pattern the resolver knows is either filled
in here (PAGES, or the admin's own views of each registered model) or named in NOT_PAGES with why;
a new pattern that is neither fails the first test below, saying to add it.

Each page is read as a person reads it: its visible text (tags, scripts and styles stripped; the
attributes people see or hear — title, aria-label, placeholder, alt, the text of submit inputs). Text
marked as another language (lang="en" on the "English" switch) and technical text (<code>, <pre>) are
not prose in the page's language and are left out of the language checks, and so is what people typed
(names, notes, reasons: typed_data), which is in whatever language they typed it. Then, in each language:

- no text of the other language from our catalogue or Django's (phrases), and none of the words
  hard-coded text tends to leave behind (DANISH_WORDS, ENGLISH_WORDS);
- no American date (11/28/2026, Nov. 28, 2026, 10:33 p.m.), no ISO date in the prose, and in Danish no
  date with slashes: Danish reads 28.11.2026, English (en-GB, config/formats/en) 28/11/2026;
- no raw code of a choice (awaiting_signature), in the pages and in the admin alike.

The language is chosen as people choose it: the django_language cookie the switch sets (config/locale.py).
"""

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from html.parser import HTMLParser
from io import StringIO
from pathlib import Path
from types import SimpleNamespace

import django
import polib
import pytest
from axes.models import AccessFailureLog
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db.models import CharField, TextField
from django.http import HttpRequest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone, translation
from django.utils.functional import Promise

from accounts.models import ApiToken, User
from accounts.roles import CATALOGUE_ADMIN_GROUP
from accounts.tokens import personal_tokens_of, token_create
from audit.models import AuditEvent
from billing.audit import BillingAuditKind
from billing.selectors import invoices_visible_to
from ordering.audit import AuditKind
from ordering.models import AccessOrder, Addendum, ConsultingRequest, Customer, Interface, Invitation, State
from ordering.people import invitation_link
from ordering.selectors import orders_visible_to, own_systems_visible_to, systems_available_to, worklists_of
from ordering.transitions import TRANSITIONS
from webhooks.models import WebhookEndpoint
from webhooks.selectors import customers_with_webhooks_of, endpoints_visible_to
from webhooks.services import webhooks_enqueue_for_event

# Django's own Danish for the admin, the login and the forms: checked the same way as ours.
DJANGO_PO = [
    Path(django.__file__).parent / part / "locale" / "da" / "LC_MESSAGES" / "django.po"
    for part in ("conf", "contrib/admin", "contrib/auth", "contrib/contenttypes")
]

# --- Which pages there are --------------------------------------------------------------------------

# URL patterns that are not pages a person reads, each with why. Everything else must be in PAGES or be
# one of the admin's views of a registered model.
NOT_PAGES = {
    "logout": "POST only: logging out",
    "openid_connect_login": "POST only: the login page's MitID Erhverv and KMD buttons (tests/login/)",
    "openid_connect_callback": "where the identity provider sends the browser back with a code (tests/login/)",
    "set_language": "POST only: the language switch itself",
    "accounts:session_extend": "POST only: 'Forlæng' in the dialog before the idle logout (tests/security/test_sessions.py)",
    "healthz": "JSON for the load balancer",
    "readyz": "JSON for the load balancer",
    "ordering:order_list_export": "a CSV or XLSX download",
    "ordering:order_transition": "POST only: runs a lifecycle action (its refusals are messages on the order page)",
    "ordering:order_request_emergency_closure": "POST only: the form is on the order page",
    "ordering:addendum_document": "a PDF download (its wording is tested in tests/ordering/test_addendum_wording.py)",
    "ordering:addendum_render": "POST only: generate the document again",
    "ordering:access_clarification": "POST only: the account manager's form is on the order page",
    "ordering:test_access_extend": "POST only: the form is on the order page",
    "ordering:order_from_test_access": "POST only: the button is on the order page",
    "ordering:order_message_post": "POST only: the order's thread's form is on the order page",
    "ordering:order_message_attachment": "a download of a message's attachment (tests/ordering/test_thread.py)",
    "billing:quote_adjust": "POST only: the form is on the order page",
    "billing:consulting": "POST only: the form is on the order page",
    "billing:consulting_for_request": "POST only: the form is on the request for help's page",
    "billing:startup_usage": "POST only: the form is on the order page",
    "billing:licence_end": "POST only: the button is on the order page",
    "billing:run_export": "a CSV download",
    "billing:run_start": "POST only: the form is on the billing page (billing:run_list)",
    "billing:invoice_list_export": "a CSV or XLSX download (tests/billing/test_invoices.py)",
    "billing:invoice_document": "a PDF download (tests/billing/test_invoices.py)",
    "certificates:upload": "POST only: the form is on the order page",
    "certificates:confirm_rollover": "POST only: the button is on the order page",
    "certificates:chain_download": "a PEM download",
    "core:outbox_send_again": "POST only: the button is on the outbox page",
    "webhooks:endpoint_test": "POST only: 'Send a test webhook' is on the endpoint's page",
    "access_register_keys": "JSON: the access register's public signing keys",
    "registers:controller_register_csv": "a CSV download",
    "registers:controller_register_pdf": "a PDF download",
    "admin:logout": "POST only: logging out of the admin",
    "admin:jsi18n": "JavaScript: the admin's catalogue for its scripts",
    "admin:autocomplete": "JSON for the admin's autocomplete fields",
    "admin:view_on_site": "a redirect to the object's own page",
    "admin/(?P<url>.*)$": "the admin's catch-all: a redirect or 404 for unknown admin URLs",
}
# Whole families of patterns that are no pages, by their route.
NOT_PAGE_ROUTES = [
    (re.compile(r"^admin/\w+/\w+/<path:object_id>/$"), "the admin's redirect from an object's old address"),
    (re.compile(r"^api/"), "the REST API for machines: JSON, and its OpenAPI docs drawn by script (Swagger UI)"),
]

# The demo's people, one per role; "catalogue admin" is the superuser who keeps the catalogue in the admin.
ROLES = {
    "orderer": "bestiller",
    "signatory": "tegner",
    "account manager": "kundeansvarlig",
    "support": "support",
    "catalogue admin": "admin",
    "anonymous": None,
}


def one_order_per_situation(orders) -> list:
    """An order in each state, and one of each kind a page shows differently (scheduled closure, emergency
    request, test access, a customer's own system, a replacement): the page of each, not of every order."""
    chosen = {}
    for order in orders:
        situation = (
            order.state,
            order.closure_scheduled_on is not None,
            order.emergency_requested_at is not None,
            hasattr(order, "test_access"),
            order.external_system.owner_id is not None,
            order.replaces_order_id is not None,
        )
        chosen.setdefault(situation, order)
    return list(chosen.values())


def role_data(user) -> SimpleNamespace:
    orders = list(orders_visible_to(user).select_related("external_system").order_by("pk")) if user else []
    shown = one_order_per_situation(orders)
    return SimpleNamespace(
        user=user,
        orders=shown,
        drafts=[o for o in orders if o.state == State.DRAFT],
        addenda=list(Addendum.objects.filter(order__in=shown).order_by("order", "version")),
        systems=list(own_systems_visible_to(user)) if user else [],
        invoices=list(invoices_visible_to(user).order_by("pk")[:1]) if user else [],
        worklists=[wl.key for wl in worklists_of(user)] if user else [],
        tokens=list(personal_tokens_of(user).filter(revoked_at=None)) if user else [],
        customers=list(Customer.objects.order_by("pk")) if user else [],
    )


def _preview(data) -> list[str]:
    """The order form's live preview (htmx) for a package and for single interfaces."""
    if not data.orders:
        return []
    customer = data.orders[0].customer
    system = next((s for s in systems_available_to(customer) if s.packages.exists()), None)
    if system is None:
        return []
    base = reverse("ordering:order_form_preview")
    package = system.packages.first()
    interface = system.standard_interfaces.first()
    return [
        f"{base}?external_system={system.pk}&purchase_model=package&package={package.pk}&environment=production",
        f"{base}?external_system={system.pk}&purchase_model=single&interfaces={interface.pk}&environment=test",
    ]


def _incident_closure(data) -> list[str]:
    """Support's incident closure: the choice, and the running accesses of an active order's system and vendor."""
    base = reverse("ordering:incident_closure")
    running = next((o for o in data.orders if o.state == State.ACTIVE), None)
    if running is None:
        return [base]
    return [base, f"{base}?system={running.external_system_id}", f"{base}?vendor={running.external_system.vendor_id}"]


# Each pattern's pages, filled in from what the role can see (a role that sees none gets none).
PAGES = {
    "home": lambda d: [reverse("home")],
    "login": lambda d: [reverse("login")] if d.user is None else [],
    "ordering:order_list": lambda d: (
        [reverse("ordering:order_list")] + [f"{reverse('ordering:order_list')}?waiting={key}" for key in d.worklists]
    ),
    "ordering:order_create": lambda d: [reverse("ordering:order_create")],
    "ordering:order_form_preview": _preview,
    "ordering:order_detail": lambda d: [reverse("ordering:order_detail", args=[o.pk]) for o in d.orders],
    "ordering:order_edit": lambda d: [reverse("ordering:order_edit", args=[o.pk]) for o in d.drafts[:1]],
    "ordering:addendum_status": lambda d: [
        reverse("ordering:addendum_status", args=[a.order_id, a.version]) for a in d.addenda
    ],
    "ordering:catalogue": lambda d: [reverse("ordering:catalogue")],
    "ordering:people_index": lambda d: [reverse("ordering:people_index")] if d.user else [],
    "ordering:customer_people": lambda d: [reverse("ordering:customer_people", args=[c.pk]) for c in d.customers],
    "ordering:invitation": lambda d: [
        invitation_link(i).removeprefix(settings.SITE_URL) for i in Invitation.objects.order_by("pk")[:1]
    ],
    "ordering:consulting_list": lambda d: [reverse("ordering:consulting_list")],
    "ordering:consulting_create": lambda d: (
        [reverse("ordering:consulting_create")]
        + [f"{reverse('ordering:consulting_create')}?order={o.pk}" for o in d.orders[:1]]
    ),
    "ordering:consulting_detail": lambda d: [
        reverse("ordering:consulting_detail", args=[r.pk]) for r in ConsultingRequest.objects.order_by("pk")
    ],
    "ordering:incident_closure": lambda d: _incident_closure(d),
    "ordering:system_list": lambda d: [reverse("ordering:system_list")],
    "ordering:system_create": lambda d: [reverse("ordering:system_create")],
    "ordering:system_detail": lambda d: [reverse("ordering:system_detail", args=[s.pk]) for s in d.systems],
    "billing:invoice_list": lambda d: [reverse("billing:invoice_list")],
    "billing:invoice_detail": lambda d: [reverse("billing:invoice_detail", args=[i.pk]) for i in d.invoices],
    "billing:licence_list": lambda d: [reverse("billing:licence_list")],
    "billing:run_list": lambda d: [
        reverse("billing:run_list"),
        reverse("billing:run_list") + f"?period={timezone.localdate():%Y-%m}",
    ],
    "billing:run_preview": lambda d: [reverse("billing:run_preview")],
    "certificates:expiring": lambda d: [reverse("certificates:expiring")],
    "core:outbox_dead_letters": lambda d: [reverse("core:outbox_dead_letters")],
    "accounts:profile": lambda d: [reverse("accounts:profile")] if d.user else [],
    "accounts:token_revoke": lambda d: [reverse("accounts:token_revoke", args=[t.pk]) for t in d.tokens],
    "registers:controller_register_index": lambda d: [reverse("registers:controller_register_index")],
    "registers:controller_register": lambda d: [
        reverse("registers:controller_register", args=[c.pk]) for c in d.customers
    ],
    "webhooks:endpoint_list": lambda d: [reverse("webhooks:endpoint_list")] if d.user else [],
    "webhooks:endpoint_add": lambda d: (
        [reverse("webhooks:endpoint_add", args=[c.pk]) for c in customers_with_webhooks_of(d.user)] if d.user else []
    ),
    **{
        name: lambda d, name=name: [reverse(name, args=[e.pk]) for e in endpoints_visible_to(d.user)] if d.user else []
        for name in ("webhooks:endpoint_detail", "webhooks:endpoint_rotate", "webhooks:endpoint_remove")
    },
    "admin:index": lambda d: [reverse("admin:index")],
    "admin:login": lambda d: [reverse("admin:login")] if d.user is None else [],
    "admin:password_change": lambda d: [reverse("admin:password_change")],
    "admin:password_change_done": lambda d: [reverse("admin:password_change_done")],
    "admin:app_list": lambda d: [
        reverse("admin:app_list", args=[label]) for label in sorted({m._meta.app_label for m in admin.site._registry})
    ],
}


def admin_pages() -> dict[str, callable]:
    """The admin's own views of every registered model: list, add, change, history, delete, password."""
    pages = {}
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        prefix = f"admin:{opts.app_label}_{opts.model_name}"

        def first(model=model):
            return model._default_manager.order_by("pk").first()

        pages[f"{prefix}_changelist"] = lambda d, p=prefix: [reverse(f"{p}_changelist")]
        pages[f"{prefix}_add"] = lambda d, p=prefix: [reverse(f"{p}_add")]
        for view in ("change", "history", "delete"):
            pages[f"{prefix}_{view}"] = lambda d, p=prefix, v=view, first=first: (
                [reverse(f"{p}_{v}", args=[first().pk])] if first() else []
            )
        if hasattr(model_admin, "user_change_password"):
            # Django's UserAdmin names its password page after auth's user, whatever the user model is.
            pages["admin:auth_user_password_change"] = lambda d, first=first: [
                reverse("admin:auth_user_password_change", args=[first().pk])
            ]
    return pages


def url_patterns(resolver=None, prefix: str = "", namespace: str = ""):
    """(name, route) of every pattern, namespaced like reverse() takes it; an unnamed one by its route."""
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = ":".join(filter(None, [namespace, pattern.namespace]))
            yield from url_patterns(pattern, route, inner)
        elif isinstance(pattern, URLPattern):
            name = ":".join(filter(None, [namespace, pattern.name])) if pattern.name else route
            if not any(regex.search(route) for regex, _why in NOT_PAGE_ROUTES):
                yield name, route


def all_pages() -> dict:
    return {**PAGES, **admin_pages()}


def test_every_url_pattern_is_a_page_checked_here_or_named_as_no_page():
    pages = all_pages()
    names = {name for name, _route in url_patterns()}
    unknown = sorted(names - pages.keys() - NOT_PAGES.keys())
    assert not unknown, (
        "URL patterns this test does not know: add each to PAGES in tests/test_every_page_in_both_languages.py "
        "(with how to fill its parameters from the demo data) or, if it is no page, to NOT_PAGES with why:\n"
        + "\n".join(unknown)
    )
    stale = sorted((pages.keys() | NOT_PAGES.keys()) - names)
    assert not stale, "entries for URL patterns that no longer exist:\n" + "\n".join(stale)


# --- What each page is checked for ------------------------------------------------------------------

# <textarea> holds what someone typed (a form's current value), like an input's value attribute.
HIDDEN = {"script", "style", "template", "textarea"}
TECHNICAL = {"code", "pre", "kbd", "samp"}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
SPOKEN_ATTRIBUTES = ("title", "aria-label", "placeholder", "alt")


@dataclass
class Text:
    prose: list[str] = field(default_factory=list)  # in the page's language
    technical: list[str] = field(default_factory=list)  # <code>, <pre>: identifiers, raw certificate names
    nodes: list[str] = field(default_factory=list)  # each text node on its own (a bare state code in a cell)

    @property
    def words(self) -> str:
        return " ".join(" ".join(self.prose).split())

    @property
    def everything(self) -> str:
        return " ".join(" ".join(self.prose + self.technical).split())


class VisibleText(HTMLParser):
    def __init__(self, language: str) -> None:
        super().__init__(convert_charrefs=True)
        self.language = language
        self.stack: list[tuple[str, bool, bool, bool]] = []  # tag, hidden, technical, other language
        self.text = Text()

    def _state(self) -> tuple[bool, bool, bool]:
        return self.stack[-1][1:] if self.stack else (False, False, False)

    def _add(self, text: str, technical: bool, foreign: bool) -> None:
        text = " ".join(text.split())
        if not text:
            return
        if technical:
            self.text.technical.append(text)
        elif not foreign:
            self.text.prose.append(text)
            self.text.nodes.append(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        hidden, technical, foreign = self._state()
        hidden = hidden or tag in HIDDEN
        technical = technical or tag in TECHNICAL
        if attrs.get("lang"):
            foreign = attrs["lang"].split("-")[0] != self.language
        if not hidden:
            for name in SPOKEN_ATTRIBUTES:
                if attrs.get(name):
                    self._add(attrs[name], technical, foreign)
            if tag == "input" and attrs.get("type") in ("submit", "button", "reset") and attrs.get("value"):
                self._add(attrs["value"], technical, foreign)
        if tag not in VOID:
            self.stack.append((tag, hidden, technical, foreign))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.stack.pop()

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                return

    def handle_data(self, data):
        hidden, technical, foreign = self._state()
        if not hidden:
            self._add(data, technical, foreign)


def visible_text(html: str, language: str) -> Text:
    parser = VisibleText(language)
    parser.feed(html)
    parser.close()
    return parser.text


PLACEHOLDER = re.compile(r"%\(\w+\)[sdfi]|%[sdi]|\{\w*\}|<[^>]*>")
WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Phrase:
    """A text of one language, found as a whole phrase; a placeholder or markup in it matches anything short."""

    text: str
    words: frozenset
    pattern: re.Pattern

    @classmethod
    def of(cls, text: str) -> "Phrase | None":
        pieces = [" ".join(p.split()) for p in PLACEHOLDER.split(text)]
        pieces = [p for p in pieces if WORD.search(p)]
        if not pieces:
            return None
        regex = r".{0,120}?".join(r"\s+".join(map(re.escape, p.split())) for p in pieces)
        return cls(text, frozenset(WORD.findall(" ".join(pieces))), re.compile(rf"(?<!\w){regex}(?!\w)"))

    def in_(self, text: str, words: set) -> bool:
        return self.words <= words and self.pattern.search(text) is not None


# Texts that read the same in both languages, or that one language uses as a word of its own, and so
# prove nothing when found. So do texts of fewer than four letters ("to", "by", "VAT", "PDF": parts of
# names, codes and abbreviations) and one-word texts that are words of the other language's texts too
# ("Type", "status", "august"): see phrases().
SAME_IN_BOTH = {
    "Line",  # an English source text, and a Danish first name
    "XLSX",  # the name of the file format; Danish says "XLSX (Excel)"
}


def catalogue_entries() -> list:
    # The project's catalogue is the first of LOCALE_PATHS (locale/da/LC_MESSAGES/django.po).
    entries = list(polib.pofile(str(Path(settings.LOCALE_PATHS[0]) / "da" / "LC_MESSAGES" / "django.po")))
    for path in DJANGO_PO:
        entries += list(polib.pofile(str(path)))
    return entries


def translated_pairs(entries) -> list[tuple[str, str]]:
    """(English, Danish) of every translated text whose Danish differs from its English."""
    found = []
    for entry in entries:
        if entry.obsolete or not entry.translated():
            continue
        if entry.msgid_plural:
            found += [
                (entry.msgid, entry.msgstr_plural.get(0, "")),
                (entry.msgid_plural, entry.msgstr_plural.get(1, "")),
            ]
        else:
            found.append((entry.msgid, entry.msgstr))
    return [(en, da) for en, da in found if da and en.strip() != da.strip()]


def phrases(entries, *, english: bool) -> list[Phrase]:
    """The catalogue's texts of one language: what must not appear on the other language's pages."""
    translated = translated_pairs(entries)
    other_words = {
        word.lower() for en, da in translated for word in WORD.findall(PLACEHOLDER.sub(" ", da if english else en))
    }
    found = {}
    for en, da in translated:
        text = en if english else da
        bare = PLACEHOLDER.sub(" ", text)
        words = WORD.findall(bare)
        if len(re.sub(r"\W", "", bare)) < 4 or text.strip() in SAME_IN_BOTH:
            continue
        if len(words) == 1 and words[0].lower() in other_words:
            continue
        phrase = Phrase.of(text)
        if phrase:
            found[text] = phrase
    return list(found.values())


def typed_data(app_texts: list[Phrase]) -> tuple[re.Pattern, re.Pattern]:
    """What people (and seed_demo) typed — names, e-mail addresses, notes, comments — in whichever language
    they typed it: one pattern for the pages, one for the admin.

    Every line of every text field without choices of the project's models and of the users, except what the
    app itself writes into audit comments: the comments of events where no one types one (a certificate
    accepted, a system registered), and in the others a line that is a text of the catalogue. What the app
    states about an event (a date decided) is a parameter, read in the reader's language (audit/vocabulary.py). Texts kept in
    both languages (description_da / description_en) count as typed only in the admin, which shows each
    under its language's label; a page must pick the reader's.
    """
    typed, paired = set(), set()
    models = [User] + [model for app in project_apps() for model in app.get_models()]
    for model in models:
        for f in model._meta.concrete_fields:
            if not isinstance(f, (CharField, TextField)) or f.choices:
                continue
            rows = model._default_manager.exclude(**{f.attname: ""})
            audit_comment = model is AuditEvent and f.name == "comment"
            if audit_comment:
                rows = rows.filter(kind__in=TYPED_AUDIT_COMMENTS)
            for value in rows.values_list(f.attname, flat=True).distinct():
                for line in str(value).splitlines():
                    line = " ".join(line.split())
                    if len(line) < 4 or (audit_comment and the_apps_own(line, app_texts)):
                        continue
                    (paired if f.name.endswith(("_da", "_en")) else typed).add(line)

    def pattern(texts):
        alternatives = "|".join(re.escape(t) for t in sorted(texts, key=len, reverse=True))
        return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")

    return pattern(typed), pattern(typed | paired)


# The audit events whose comment a person types (a reason, a message to the other side).
TYPED_AUDIT_COMMENTS = [
    *TRANSITIONS,
    AuditKind.EMERGENCY_CLOSURE_REQUESTED,
    BillingAuditKind.QUOTE_ADJUSTED,
    BillingAuditKind.CONSULTING_RECORDED,
    AuditKind.TEST_ACCESS_EXTENDED,
]


def the_apps_own(line: str, app_texts: list[Phrase]) -> bool:
    words = set(WORD.findall(line))
    return any(text.words <= words and text.pattern.fullmatch(line) for text in app_texts)


def project_apps():
    base = Path(settings.BASE_DIR)
    return [
        app
        for app in apps.get_app_configs()
        if Path(app.path).is_relative_to(base) and ".venv" not in Path(app.path).relative_to(base).parts
    ]


# Records written once for every reader, which the language checks leave alone:
# - django-axes names its records in English with an ISO timestamp (its models' __str__, an f-string it does
#   not translate); the admin shows the name in titles, breadcrumbs and each row's checkbox. All else in its
#   admin pages is translated (accounts/axes_texts.py).
# - The audit record of a certificate chain accepted (certificates/services.py): subject, SHA-256 fingerprint
#   and expiry date, as the certificate states them; the order page's certificate section shows the same
#   dates in the reader's format.
TECHNICAL_RECORDS = re.compile(
    r"(Attempted Access: |Access Log for \S+ @ |Failed access: user \S+(?: locked out)? on )"
    r"\d{4}-\d{2}-\d{2} [\d:.+]+(?: from \S+)?"
    r"|SHA-256 [0-9a-f]{64} · \d{4}-\d{2}-\d{2}"
)

# Danish words that hard-coded text tends to leave in an English page.
DANISH_WORDS = re.compile(
    r"(?<!\w)(Mere|Kladde|Indsendt|Godkendt|Luk|Gem|Annuller|Tilbage|Næste|Forrige|Søg|Bestilling|Bestillinger|"
    r"Faktura|Fakturaer|Kunde|Ændr|Slet|Tilføj|Historik|Gem og fortsæt)(?!\w)"
)

# English words that a missing verbose_name or a hard-coded label leaves in a Danish page ("Created at" is
# what Django makes of a field created_at without one).
ENGLISH_WORDS = re.compile(
    r"(?<!\w)(Created at|Updated at|Created by|Save|Cancel|Close|Back|Next|Previous|More|Draft|Submitted|Approved|"
    r"Delete|Edit|Search|Filter|History|Home|Actions?)(?!\w)"
)

MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)"
US_DATES = [
    (re.compile(r"(?<![\w.])\d{1,2}:\d{2}\s?[ap]\.?\s?m\.?(?!\w)|(?<!\w)[ap]\.m\.", re.IGNORECASE), "a.m./p.m."),
    (re.compile(rf"(?<!\w){MONTH}[a-z]*\.? \d{{1,2}}(?:st|nd|rd|th)?,? \d{{4}}(?!\w)"), "month first"),
]
SLASH_DATE = re.compile(r"(?<![\w/])(\d{1,2})/(\d{1,2})/(\d{2,4})(?![\w/])")
ISO_DATE = re.compile(r"(?<![\w-])\d{4}-\d{2}-\d{2}(?![\w-])")


def choice_codes() -> set[str]:
    """Every value of every field with choices in the project's models: what a label must stand in for."""
    return {
        value
        for app in project_apps()
        for model in app.get_models()
        for f in model._meta.get_fields()
        for value, _label in getattr(f, "flatchoices", None) or []
        if isinstance(value, str) and value
    }


# Codes that are words of the page's language too.
CODES_THAT_ARE_WORDS = {"da": {"test", "standard", "support", "accept", "person", "system"}, "en": set()}


class Findings:
    def __init__(self) -> None:
        self.by_kind: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))

    def add(self, kind: str, what: str, where: str) -> None:
        self.by_kind[kind][what].add(where)

    def report(self) -> str:
        lines = []
        for kind, found in sorted(self.by_kind.items()):
            lines.append(f"\n{kind}:")
            for what, where in sorted(found.items()):
                pages = sorted(where)
                lines.append(f"  {what!r} on {', '.join(pages[:4])}{' …' if len(pages) > 4 else ''}")
        return "\n".join(lines)


@dataclass
class Checks:
    english: list[Phrase]
    danish: list[Phrase]
    typed: tuple[re.Pattern, re.Pattern]
    codes: set[str]

    def page(self, findings: Findings, where: str, language: str, html: str, *, admin_page: bool) -> Text:
        text = visible_text(html, language)
        typed = self.typed[1] if admin_page else self.typed[0]
        prose = typed.sub(" … ", TECHNICAL_RECORDS.sub(" … ", text.words))
        nodes = {node for node in text.nodes if not typed.fullmatch(node)}
        words = set(WORD.findall(prose))
        for phrase in self.english if language == "da" else self.danish:
            if phrase.in_(prose, words):
                other = "English" if language == "da" else "Danish"
                findings.add(f"{other} text on a {language} page", phrase.text, where)
        if language == "en":
            for match in DANISH_WORDS.finditer(prose):
                findings.add("Danish word on an en page", match.group(0), where)
        else:
            for match in ENGLISH_WORDS.finditer(prose):
                findings.add("English word on a da page", match.group(0), where)
        for pattern, why in US_DATES:
            for match in pattern.finditer(text.everything):
                findings.add(f"American date ({why})", match.group(0), where)
        for match in SLASH_DATE.finditer(text.everything):
            day, month = int(match.group(1)), int(match.group(2))
            if language == "da" or month > 12 or day > 31:
                findings.add(
                    f"date with slashes on a {language} page (da: 28.11.2026, en: 28/11/2026)", match[0], where
                )
        for match in ISO_DATE.finditer(prose):
            findings.add(f"ISO date in the prose of a {language} page", match.group(0), where)
        for code in self.codes - CODES_THAT_ARE_WORDS[language]:
            # In English a one-word code is an English word ("submitted" in a sentence); alone in a cell it is raw.
            if "_" in code or language == "da":
                if re.search(rf"(?<![\w-]){re.escape(code)}(?![\w-])", prose):
                    findings.add(f"raw code on a {language} page", code, where)
            elif code in nodes:
                findings.add(f"raw code on a {language} page", code, where)
        for table in STACKED_TABLE.finditer(html):
            # On a phone each cell shows under its column's name (templates/_table.html): a cell without one
            # would be a value nobody can place. A summary row (a cell spanning columns) names itself.
            for row in TABLE_ROW.findall(table.group(0)):
                for cell in [] if "colspan=" in row else UNLABELLED_CELL.findall(row):
                    findings.add("cell of a stacked table without data-label", cell[:60], where)
        text.prose = [prose]
        return text


STACKED_TABLE = re.compile(r'<table class="[^"]*\btable--stacked\b[^"]*">.*?</table>', re.S)
TABLE_ROW = re.compile(r"<tr\b.*?</tr>", re.S)
UNLABELLED_CELL = re.compile(r"<td(?![^>]*\bdata-label=)[^>]*>")


# --- The walk ---------------------------------------------------------------------------------------


@pytest.fixture
def demo(db, settings):
    """The demo data, with the demo CA trusted so the customer's own system has its certificate."""
    demo_trust = Path(settings.STORAGES["default"]["OPTIONS"]["location"]) / "demo-trust"
    settings.CERTIFICATE_TRUST_DIRS = {**settings.CERTIFICATE_TRUST_DIRS, "test": [demo_trust]}
    call_command("seed_demo", "--force", verbosity=0, stdout=StringIO())

    what_the_demo_lacks()
    return {role: User.objects.get(username=name) if name else None for role, name in ROLES.items()}


def what_the_demo_lacks() -> None:
    """An object for each admin page the demo data leaves empty: the catalogue admins' group, django-axes's
    records of a failed and a successful login, an API token, a webhook endpoint with a delivery."""
    Group.objects.get_or_create(name=CATALOGUE_ADMIN_GROUP)
    client = Client()
    client.login(request=HttpRequest(), username="bestiller", password="wrong")
    client.login(request=HttpRequest(), username="bestiller", password="opus-demo-2026")
    AccessFailureLog.objects.create(
        username="bestiller", ip_address="127.0.0.1", user_agent="Mozilla/5.0 (demo)", locked_out=False
    )
    orderer = User.objects.get(username="bestiller")
    token_create(
        user=orderer,
        name="Vagtplan-integration",
        scopes=[ApiToken.Scope.READ],
        last_day=timezone.localdate() + timedelta(days=90),
        actor=orderer,
    )
    customer = orderer.memberships.first().customer
    Invitation.objects.create(
        customer=customer,
        email="ny.kollega@aarhus.example",
        is_orderer=True,
        created_by=User.objects.get(username="tegner"),
        expires_at=timezone.now() + timedelta(days=14),
    )
    WebhookEndpoint.objects.create(url="https://itsm.aarhus.example/webhooks", description="ITSM", customer=customer)
    webhooks_enqueue_for_event(AuditEvent.objects.filter(order__customer=customer).last())


def test_every_page_reads_in_one_language_with_european_dates_and_no_raw_codes(demo):
    pages = all_pages()
    entries = catalogue_entries()
    english, danish = phrases(entries, english=True), phrases(entries, english=False)
    checks = Checks(
        english=english,
        danish=danish,
        typed=typed_data(english + danish),
        codes=choice_codes(),
    )
    findings = Findings()
    opened: dict[str, set[int]] = defaultdict(set)
    texts: dict[tuple[str, str], Text] = {}
    loaded = 0
    for role, user in demo.items():
        data = role_data(user)
        urls = [
            (name, url)
            for name, fill in pages.items()
            # The admin is the catalogue admin's (its login page everyone's); the others are sent to its login.
            if name == "admin:login" or name.startswith("admin:") == (role == "catalogue admin")
            for url in fill(data)
        ]
        for language in ("da", "en"):
            client = Client()
            if user:
                client.force_login(user)
            client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
            for name, url in urls:
                response = client.get(url)
                loaded += 1
                opened[name].add(response.status_code)
                if "text/html" not in response.get("Content-Type", ""):
                    continue
                html = response.content.decode()
                where = f"{url} [{role}, {language}]"
                texts[(url, language)] = checks.page(findings, where, language, html, admin_page="/admin/" in url)

    never = sorted(
        name
        for name in pages
        # An admin that only reads (core.admin.ReadOnlyAdmin) refuses its add and delete pages to everyone.
        if 200 not in opened[name] and not (name.endswith(("_add", "_delete")) and opened[name] == {403})
    )
    problems = []
    if never:
        problems.append(
            "patterns no demo role could open (status codes seen in brackets): fill them from the demo data in "
            "PAGES, or give the demo what they need (what_the_demo_lacks, seed_demo):\n"
            + "\n".join(f"  {n} {sorted(opened[n])}" for n in never)
        )
    if findings.by_kind:
        problems.append(f"{loaded} pages loaded; found:{findings.report()}")
    assert not problems, "\n\n".join(problems)
    assert loaded > 500

    # Django's own Danish is in force in the admin: its buttons read Danish in Danish, English in English.
    interface = reverse("admin:ordering_interface_change", args=[Interface.objects.order_by("pk").first().pk])
    assert "Gem og fortsæt med at redigere" in texts[(interface, "da")].words
    assert "Save and continue editing" in texts[(interface, "en")].words
    assert "Fakturering" in texts[(reverse("admin:index"), "da")].words

    # A date whose day cannot be a month (the closure scheduled for 31 December) reads day first in both languages.
    scheduled = AccessOrder.objects.exclude(closure_scheduled_on=None).first()
    url = reverse("ordering:order_detail", args=[scheduled.pk])
    day = scheduled.closure_scheduled_on
    assert day.day > 12
    assert f"{day:%d.%m.%Y}" in texts[(url, "da")].words
    assert f"{day:%d/%m/%Y}" in texts[(url, "en")].words or f"{day.day} {day:%b %Y}" in texts[(url, "en")].words


def test_every_field_label_help_text_and_choice_of_the_projects_models_is_translated():
    """What the admin shows of a model — its fields' names, help texts and choices — comes from the catalogue."""
    translated = {entry.msgid for entry in catalogue_entries() if entry.translated()}
    missing = []
    for app in project_apps():
        for model in app.get_models():
            for f in model._meta.get_fields():
                if f.auto_created:
                    continue  # the primary key Django adds, the other side of a relation: named by Django, by its model
                texts = [("verbose_name", f.verbose_name), ("help_text", getattr(f, "help_text", ""))]
                texts += [(f"choice {value!r}", label) for value, label in getattr(f, "flatchoices", None) or []]
                for what, text in texts:
                    if not text:
                        continue
                    with translation.override("en"):
                        english = str(text)
                    if not isinstance(text, Promise) or english not in translated:
                        missing.append(f"{model.__name__}.{f.name} {what}: {english!r}")
    assert not missing, "untranslated (wrap in gettext_lazy and translate in django.po):\n" + "\n".join(missing)


def test_the_checks_see_each_kind_of_slip_and_leave_code_and_marked_languages_alone():
    entries = [
        polib.POEntry(msgid="Save and continue editing", msgstr="Gem og fortsæt med at redigere"),
        polib.POEntry(msgid="Awaiting signature", msgstr="Afventer underskrift"),
    ]
    nothing_typed = re.compile(r"(?!)")
    checks = Checks(
        english=phrases(entries, english=True),
        danish=phrases(entries, english=False),
        typed=(nothing_typed, nothing_typed),
        codes={"awaiting_signature", "draft"},
    )
    findings = Findings()
    danish = (
        '<html lang="da"><input type="submit" value="Save and continue editing"><td>awaiting_signature</td>'
        '<p>28/11/2026, 2026-11-28</p><code>2026-11-28</code><button lang="en">English</button></html>'
    )
    english = (
        '<html lang="en"><p title="Afventer underskrift">Nov. 28, 2026 10:33 p.m. 11/28/2026</p>'
        "<p>28/11/2026</p><td>draft</td><span>Gem</span><textarea>Afventer underskrift</textarea></html>"
    )
    checks.page(findings, "da", "da", danish, admin_page=False)
    checks.page(findings, "en", "en", english, admin_page=False)
    found = {(kind.split(" (")[0], what) for kind, whats in findings.by_kind.items() for what in whats}
    assert found == {
        ("English text on a da page", "Save and continue editing"),
        ("English word on a da page", "Save"),
        ("raw code on a da page", "awaiting_signature"),
        ("date with slashes on a da page", "28/11/2026"),
        ("ISO date in the prose of a da page", "2026-11-28"),
        ("Danish text on a en page", "Afventer underskrift"),
        ("Danish word on an en page", "Gem"),
        ("American date", "Nov. 28, 2026"),
        ("American date", "10:33 p.m."),
        ("date with slashes on a en page", "11/28/2026"),
        ("raw code on a en page", "draft"),
    }


def test_what_the_app_states_in_an_audit_event_reads_in_the_readers_language_and_what_was_typed_stays():
    event = AuditEvent(
        kind=AuditKind.SCHEDULE_CLOSURE, params={"ends_on": "2026-12-31"}, comment="Lukkes ved årsskiftet."
    )
    with translation.override("en"):
        assert event.comment_for_reader == "Access ends on 31/12/2026.\nLukkes ved årsskiftet."
    with translation.override("da"):
        assert event.comment_for_reader == "Adgangen lukker den 31.12.2026.\nLukkes ved årsskiftet."
    assert AuditEvent(kind=AuditKind.REJECT, comment="Ret CVR-nummeret.").comment_for_reader == "Ret CVR-nummeret."
