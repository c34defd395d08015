"""The contract addendum as a PDF/A document, rendered by WeasyPrint from a Django template."""

from __future__ import annotations

import datetime
import functools
import mimetypes
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.utils import dateformat, timezone, translation

from . import lifecycle
from .models import AccessClarification, Addendum, Interface

STATIC_SCHEME = "opus-static:///"
TEMPLATE = "ordering/addendum/document.html"


# WeasyPrint takes about 0.9 s to import and every management command, system check and web worker
# imports this module (through ordering.services), so it is imported only where a PDF is made.
@functools.cache
def _static_files_only() -> type:
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class StaticFilesOnly(URLFetcher):
        """WeasyPrint may load the project's own static files and nothing else: no network, no other paths.

        Any other URL, or a missing file, stops the rendering (fail_on_errors), so a document can never
        silently fall back to system fonts or fetch something a user's text pointed at.
        """

        def __init__(self) -> None:
            super().__init__(fail_on_errors=True, allowed_protocols=("opus-static",))

        def fetch(self, url: str, headers=None) -> URLFetcherResponse:
            if not url.startswith(STATIC_SCHEME):
                raise ValueError(f"only the project's static files may be loaded, not {url}")
            relative = url[len(STATIC_SCHEME) :]
            if ".." in Path(relative).parts:
                raise ValueError(f"no parent paths: {url}")
            found = finders.find(relative)
            if not found:
                raise FileNotFoundError(relative)
            content_type = mimetypes.guess_type(found)[0] or "application/octet-stream"
            return URLFetcherResponse(url, body=Path(found).read_bytes(), headers={"Content-Type": content_type})

    return StaticFilesOnly


def __getattr__(name: str):
    # `documents.StaticFilesOnly` is built (and WeasyPrint imported) on first use.
    if name == "StaticFilesOnly":
        return _static_files_only()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


ENVIRONMENT_DEFINITE = {"production": "produktionsmiljøet", "test": "testmiljøet"}


def _numbered(*names: str) -> dict[str, int]:
    return {name: number for number, name in enumerate(names, start=1)}


def _unique(items) -> list[str]:
    return list(dict.fromkeys(items))


def danish_moment(moment: datetime.datetime) -> str:
    """An instant as a contract prints it: in Danish time with its offset from UTC, so that it names one instant
    wherever it is read: "6. december 2026 kl. 14.03.27 (dansk tid, UTC+01:00)"."""
    local = _danish_time(moment)
    with translation.override("da"):  # the month's Danish name, whoever caused the rendering
        day = dateformat.format(local, "j. F Y")
    return f"{day} kl. {local:%H.%M.%S} (dansk tid, {_utc_offset(local)})"


def _danish_time(moment: datetime.datetime) -> datetime.datetime:
    # settings.TIME_ZONE (Europe/Copenhagen), whichever time zone the request that caused the rendering had.
    return timezone.localtime(moment, timezone.get_default_timezone())


def _utc_offset(local: datetime.datetime) -> str:
    minutes = int((local.utcoffset() or datetime.timedelta(0)).total_seconds()) // 60
    return f"UTC{'+' if minutes >= 0 else '-'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


# Support's contact as settings hold it until the operator sets it (config/settings.py): an all-zero number and
# an address in the reserved .invalid domain (RFC 2606). A binding document never prints them.
def _placeholder_phone(phone: str) -> bool:
    digits = "".join(c for c in phone if c.isdigit())
    return set(digits.removeprefix("45")) <= {"0"}  # empty, or zeros after the country code


def _placeholder_email(email: str) -> bool:
    domain = email.rpartition("@")[2].lower().rstrip(".")
    return "@" not in email or not domain or domain == "invalid" or domain.endswith(".invalid")


def support_contact_for_documents() -> dict[str, str]:
    """Support's phone and e-mail as an addendum may print them: a placeholder is left out, never printed."""
    phone = (getattr(settings, "SUPPORT_PHONE", "") or "").strip()
    email = (getattr(settings, "SUPPORT_EMAIL", "") or "").strip()
    return {"phone": "" if _placeholder_phone(phone) else phone, "email": "" if _placeholder_email(email) else email}


def support_contact_unset() -> bool:
    """Whether support's phone or e-mail is unset or still a placeholder (ordering/services/transitions.py refuses to issue
    an addendum then, outside DEBUG)."""
    contact = support_contact_for_documents()
    return not (contact["phone"] and contact["email"])


def addendum_context(addendum: Addendum, *, stamp: bool = False) -> dict:
    order = addendum.order
    billing = lifecycle.billing()
    quote = billing.addendum_quote(addendum)
    individual = order.integration_type == order.IntegrationType.INDIVIDUAL
    bundle = lifecycle.certificates().current_bundle(order) if individual else None
    interfaces = order.requested_interfaces()
    system = order.external_system
    package_name = order.package.name_da if order.package_id else ""
    lines = []
    if quote is not None:
        names = {i.code: i.name_da for i in interfaces}
        missing = {line.interface for line in quote.lines if line.interface and line.interface not in names}
        if missing:
            names.update(Interface.objects.filter(code__in=missing).values_list("code", "name_da"))
        lines = [
            {
                "kind": line.kind,
                "amount": line.amount,
                # What each price rule says in a contract is billing's (billing/addendum_wording.py).
                "text": billing.addendum_line_sentence(
                    line, system=system.name, package=package_name, interface_names=names
                ),
            }
            for line in quote.lines
        ]
    price_list = addendum.price_list
    contract = getattr(order.customer, "contract", None)
    issuer = addendum.issued_by
    support = support_contact_for_documents()
    return {
        "addendum": addendum,
        "order": order,
        "customer": order.customer,
        "contract": contract,
        "system": system,
        "interfaces": interfaces,
        # Issuing refuses an interface without a purpose, categories or data subjects (services.
        # _check_addendum_issuable): the document states them and never makes one up from the others.
        "purposes": [(i.name_da, i.processing_purpose.strip()) for i in interfaces if i.processing_purpose.strip()],
        "data_subjects": _unique(s for i in interfaces for s in i.data_subject_list),
        "special_categories": [(i.name_da, i.special_category_list) for i in interfaces if i.special_category_list],
        "cpr_interfaces": [i.name_da for i in interfaces if i.cpr_numbers],
        "environment_definite": ENVIRONMENT_DEFINITE.get(order.environment, order.environment),
        "test_data_real": contract is None or contract.test_environment_data == contract.TestEnvironmentData.REAL,
        "clarification": _clarification(order) if individual else None,
        "quote": quote,
        "one_time_lines": [x for x in lines if x["kind"] == "one_time"],
        "monthly_lines": [x for x in lines if x["kind"] == "monthly"],
        "all_free": quote is not None and all(line.amount == 0 for line in quote.lines),
        "price_list_name": price_list.name if price_list else (quote.price_list if quote else ""),
        "price_list_from": price_list.effective_from if price_list else None,
        "certificate": bundle.leaf if bundle else None,
        "n": _numbered(
            "parties",
            "system",
            "purpose",
            "interfaces",
            "subjects",
            *(["certificate", "clarification"] if individual else []),
            "security",
            "prices",
            "instruction",
            "vendor",
            "term",
            "acceptance",
        ),
        "supplier_name": settings.SUPPLIER_NAME,
        "supplier_cvr": settings.SUPPLIER_CVR,
        "support_phone": support["phone"],
        "support_email": support["email"],
        "issuer_name": issuer.get_full_name() or issuer.username,
        "issuer_title": getattr(issuer, "title", "") or "salgs- og kundeansvarlig",
        "issued_moment": danish_moment(addendum.issued_at),
        "decided_moment": danish_moment(addendum.decided_at) if addendum.decided_at else "",
        "stamp": stamp,
        "login_text": acceptance_login_text(addendum.signer_login) if stamp else "",
        "static": STATIC_SCHEME,
    }


def _clarification(order):
    """The account manager's clarification of the access rights, with its interfaces in catalogue order."""
    clarification = (
        AccessClarification.objects.filter(order=order).select_related("recorded_by").prefetch_related("interfaces")
    ).first()
    if clarification is None:
        return None
    recorder = clarification.recorded_by
    return {
        "interfaces": sorted(clarification.interfaces.all(), key=lambda i: (i.kind, i.name_da)),
        "data_scope": clarification.data_scope,
        "certificate_subject": clarification.certificate_subject,
        "certificate_sha256": clarification.certificate_sha256,
        "recorded_by": recorder.get_full_name() or recorder.username,
        "recorded_moment": danish_moment(clarification.recorded_at),
    }


ASSURANCE_DA = {"low": "lav", "substantial": "betydelig", "high": "høj"}
SCHEME_DA = {"mitid_erhverv": "MitID Erhverv", "entra_id": "Entra ID"}


def acceptance_login_text(login: dict) -> str:
    """How the signatory had logged in, as the accepted copy prints it: "logget ind med MitID Erhverv,
    sikringsniveau betydelig, 6.12.2026 kl. 14.03 (dansk tid)". A password login (the demo only) says so."""
    if not login:
        return "logget ind med brugernavn og adgangskode (kun i demoen; uden MitID Erhverv)"
    parts = [f"logget ind med {SCHEME_DA.get(login.get('scheme', ''), login.get('scheme', ''))}"]
    if login.get("assurance"):
        parts.append(f"sikringsniveau {ASSURANCE_DA.get(login['assurance'], login['assurance'])}")
    if login.get("authenticated_at"):
        moment = _danish_time(datetime.datetime.fromisoformat(login["authenticated_at"]))
        parts.append(f"{moment.day}.{moment.month}.{moment.year} kl. {moment:%H.%M} (dansk tid, {_utc_offset(moment)})")
    text = ", ".join(parts)
    if login.get("organisation"):
        text += f"; CVR-nummer {login['organisation']}, MitID Erhverv-UUID {login.get('person', '')}"
    return text


def addendum_html(addendum: Addendum, *, stamp: bool = False) -> str:
    # The addendum is a Danish legal document whatever language the user who triggered it reads.
    with translation.override("da"):
        return render_to_string(TEMPLATE, addendum_context(addendum, stamp=stamp))


# PDF/A-3a: archival like the PDF/A-3b it replaces (same part, so attachments stay allowed), plus
# level "a": a tagged structure tree (headings, paragraphs, tables) that screen readers and text
# extraction follow, as a document a public authority keeps and publishes must be accessible.
PDF_VARIANT = "pdf/a-3a"


def html_to_pdf(html: str) -> bytes:
    """Tagged PDF/A-3a with the fonts shipped in the dkfds package embedded (subset)."""
    from weasyprint import HTML
    from weasyprint.text.fonts import FontConfiguration

    fonts = FontConfiguration()
    return HTML(string=html, url_fetcher=_static_files_only()()).write_pdf(
        pdf_variant=PDF_VARIANT, font_config=fonts, uncompressed_pdf=False
    )
