"""The contract addendum as a PDF/A document, rendered by WeasyPrint from a Django template."""

from __future__ import annotations

import functools
import mimetypes
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.utils import translation

from . import lifecycle
from .models import Addendum

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


def addendum_context(addendum: Addendum, *, stamp: bool = False) -> dict:
    order = addendum.order
    quote = lifecycle.billing().addendum_quote(addendum)
    bundle = (
        lifecycle.certificates().current_bundle(order)
        if order.integration_type == order.IntegrationType.INDIVIDUAL
        else None
    )
    return {
        "addendum": addendum,
        "order": order,
        "customer": order.customer,
        "contract": getattr(order.customer, "contract", None),
        "system": order.external_system,
        "interfaces": order.requested_interfaces(),
        "quote": quote,
        "all_covered": quote is not None and all(line.amount == 0 for line in quote.lines),
        "certificate": bundle.leaf if bundle else None,
        "supplier_name": settings.SUPPLIER_NAME,
        "supplier_cvr": settings.SUPPLIER_CVR,
        "stamp": stamp,
        "static": STATIC_SCHEME,
    }


def addendum_html(addendum: Addendum, *, stamp: bool = False) -> str:
    # The addendum is a Danish legal document whatever language the user who triggered it reads.
    with translation.override("da"):
        return render_to_string(TEMPLATE, addendum_context(addendum, stamp=stamp))


def html_to_pdf(html: str) -> bytes:
    """PDF/A-3b with the fonts shipped in the dkfds package embedded (subset)."""
    from weasyprint import HTML
    from weasyprint.text.fonts import FontConfiguration

    fonts = FontConfiguration()
    return HTML(string=html, url_fetcher=_static_files_only()()).write_pdf(
        pdf_variant="pdf/a-3b", font_config=fonts, uncompressed_pdf=False
    )
