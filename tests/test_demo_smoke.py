"""The demo data on the database the suite runs on: every page, download, PDF and API GET, as every demo role.

tests/test_every_page_in_both_languages.py reads every page for its language. This walk adds what is no
page — the exports, the PDFs, the API and the registers for machines — and asserts for all of them that no
answer is a server error, so that what breaks only with real data on one database cannot hide again (the
registers once answered 500 on SQLite with the demo's accesses while every test of them passed on PostgreSQL).
"""

from collections import defaultdict
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import ApiToken
from accounts.tokens import token_create
from billing.models import BillingRun
from certificates.models import CertificateBundle
from ordering.models import Addendum, OrderMessageAttachment
from ordering.services import addendum_stamp
from tests.test_every_page_in_both_languages import all_pages, demo, role_data, url_patterns  # noqa: F401

# Each download or machine address, filled in from what the role can see (the role's own objects only).
DOWNLOADS = {
    "ordering:order_list_export": lambda d: [reverse("ordering:order_list_export", args=[f]) for f in ("csv", "xlsx")],
    "ordering:addendum_document": lambda d: [
        reverse("ordering:addendum_document", args=[a.order_id, a.version, copy])
        for a in d.addenda
        for copy in ("document", "accepted")
        if copy == "document" or a.final_pdf
    ],
    "billing:run_export": lambda d: [reverse("billing:run_export", args=[run.pk]) for run in BillingRun.objects.all()],
    "certificates:chain_download": lambda d: [
        reverse("certificates:chain_download", args=[b.order_id, b.pk])
        for b in CertificateBundle.objects.filter(order__in=d.orders)
    ],
    "ordering:order_message_attachment": lambda d: [
        reverse("ordering:order_message_attachment", args=[a.message.order_id, a.pk])
        for a in OrderMessageAttachment.objects.filter(message__order__in=d.orders).select_related("message")
    ],
    "access_register_keys": lambda d: [reverse("access_register_keys")],
    "registers:controller_register_csv": lambda d: [
        reverse("registers:controller_register_csv", args=[c.pk]) for c in d.customers
    ],
    "registers:controller_register_pdf": lambda d: [
        reverse("registers:controller_register_pdf", args=[c.pk]) for c in d.customers
    ],
}

# Every address of the API a GET may read, filled in from the role's own objects; the others are POST only.
API_GETS = {
    "api:schema": lambda d: [reverse("api:schema")],
    "api:docs": lambda d: [reverse("api:docs")],
    "api:interfaces": lambda d: [reverse("api:interfaces")],
    "api:external_systems": lambda d: [reverse("api:external_systems")],
    "api:packages": lambda d: [reverse("api:packages")],
    "api:orders": lambda d: [reverse("api:orders"), reverse("api:orders") + "?state=active&ordering=-updated_at"],
    "api:order": lambda d: [reverse("api:order", args=[o.pk]) for o in d.orders],
    "api:addendum_document": lambda d: [
        reverse("api:addendum_document", args=[a.order_id, a.version]) for a in d.addenda
    ],
    "api:addendum_accepted": lambda d: [
        reverse("api:addendum_accepted", args=[a.order_id, a.version]) for a in d.addenda if a.final_pdf
    ],
    "api:order_messages": lambda d: [reverse("api:order_messages", args=[o.pk]) for o in d.orders],
    "api:invoices": lambda d: [reverse("api:invoices")],
    "api:invoice": lambda d: [reverse("api:invoice", args=[i.pk]) for i in d.invoices],
}
API_POST_ONLY = {"api:order_submit", "api:order_withdraw", "api:order_action", "api:certificate_upload"}
REGISTER = "api:access_register"


def test_every_download_and_api_address_is_walked_here_or_named_as_post_only():
    names = {name for name, _route in api_patterns()}
    unknown = names - API_GETS.keys() - API_POST_ONLY - {REGISTER}
    assert not unknown, f"API addresses this walk does not know: add each to API_GETS or API_POST_ONLY: {unknown}"
    assert names >= API_GETS.keys() | API_POST_ONLY | {REGISTER}
    assert set(DOWNLOADS) <= {name for name, _route in url_patterns()}


def api_patterns():
    """The API's named patterns (the page walk leaves /api/ out on purpose)."""
    from django.urls import URLPattern, URLResolver, get_resolver

    def walk(resolver, namespace):
        for pattern in resolver.url_patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern, ":".join(filter(None, [namespace, pattern.namespace])))
            elif isinstance(pattern, URLPattern) and pattern.name and namespace.startswith("api"):
                yield f"{namespace}:{pattern.name}", str(pattern.pattern)

    yield from walk(get_resolver(), "")


@pytest.mark.weasyprint
def test_no_page_download_pdf_or_api_get_of_the_demo_answers_with_a_server_error(demo):  # noqa: F811
    # The accepted copies are stamped after commit, which a test's transaction never reaches: stamp them here.
    for addendum in Addendum.objects.filter(status=Addendum.Status.ACCEPTED, final_sha256=""):
        addendum_stamp(addendum.pk)
    last_day = timezone.localdate() + timedelta(days=30)
    pages = all_pages()
    answered: dict[str, set[int]] = defaultdict(set)
    errors = []
    for role, user in demo.items():
        data = role_data(user)
        # Every server error is collected and listed, not raised at the first.
        browser = Client(raise_request_exception=False)
        machine = Client(raise_request_exception=False)
        if user:
            browser.force_login(user)
            _token, secret = token_create(user=user, name="smoke", scopes=["read"], last_day=last_day, actor=user)
            machine.defaults["HTTP_AUTHORIZATION"] = f"Bearer {secret}"
        walks = [(browser, pages), (browser, DOWNLOADS), (machine, API_GETS)]
        for client, fills in walks:
            for name, fill in fills.items():
                if name.startswith("admin:") and role != "catalogue admin" and name != "admin:login":
                    continue
                for url in fill(data):
                    status = client.get(url).status_code
                    answered[name].add(status)
                    if status >= 500:
                        errors.append(f"{status} {url} [{role}]")

    _gateway, secret = token_create(
        user=None, name="gateway", scopes=[ApiToken.Scope.REGISTER], last_day=last_day, actor=None, kind="gateway"
    )
    gateway = Client(raise_request_exception=False, HTTP_AUTHORIZATION=f"Bearer {secret}")
    for environment in ("production", "test"):
        for query in ({}, {"since": (timezone.now() - timedelta(days=400)).isoformat()}):
            response = gateway.get(reverse(REGISTER), {"environment": environment, **query})
            answered[REGISTER].add(response.status_code)
            if response.status_code >= 500:
                errors.append(f"{response.status_code} access register {environment} {query}")
            else:
                assert response.status_code == 200, (environment, query, response.content[:300])
                assert response["JWS-Signature"]

    assert not errors, "server errors:\n" + "\n".join(errors)
    # Every download and API address was answered with success for someone: the walk reached real data.
    never = sorted(name for name in {**DOWNLOADS, **API_GETS} if 200 not in answered[name])
    assert not never, f"no demo role got a 200 from: {never} (seen: { {n: answered[n] for n in never} })"
    assert sum(len(v) for v in answered.values()) > 100
