"""What the browser tests share: Debian's chromium (never a downloaded browser), axe-core, and the checks
every page must pass — no WCAG 2.0/2.1 A or AA violation of any impact, no sideways scrolling."""

import contextlib
import os
import shutil
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
AXE = Path(__file__).resolve().parent.parent / "node_modules" / "axe-core" / "axe.min.js"

BROWSER_MARKS = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM) and not os.environ.get("BROWSER_TESTS"),
        reason="Debian's chromium is not installed (apt-get install chromium); CI installs it",
    ),
]


def launch_chromium(playwright):
    return playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=[
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    )


@contextmanager
def chromium_page(monkeypatch, **context_options):
    """A page of a fresh chromium in Danish (`context_options`: Playwright's, as viewport), closed afterwards."""
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are still synchronous.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as p:
        browser = launch_chromium(p)
        # axe-core is injected as a script; the app's CSP (rightly) forbids that, so only the test bypasses it.
        context = browser.new_context(bypass_csp=True, locale="da-DK", **context_options)
        page = context.new_page()
        yield page
        _let_htmx_finish(page)
        context.close()
        browser.close()


def _let_htmx_finish(page) -> None:
    """Wait until no htmx request is in flight (htmx marks its element `htmx-request`): one still running when
    the test ends reaches the live server while the test's database is being flushed, and fails the teardown
    ("database table is locked"). Asked twice, a moment apart: an answer may start the next request (the order
    form's preview after the form is filled in again) or a trigger may wait for its delay."""
    from playwright.sync_api import Error

    idle = "() => !document.querySelector('.htmx-request')"
    # A page that has gone, or a request that never ends: nothing more to wait for.
    with contextlib.suppress(Error):
        page.wait_for_function(idle, timeout=5000)
        page.wait_for_timeout(SETTLE_MS)
        page.wait_for_function(idle, timeout=5000)


SETTLE_MS = 400  # longer than the longest hx-trigger delay in the templates (300 ms)


def assert_no_axe_violations(page) -> None:
    """No WCAG 2.0/2.1 A or AA violation of any impact, not only the serious and critical ones."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async () => await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})"
    )
    violations = [
        (v["id"], v["impact"], v["help"], [n["target"] for n in v["nodes"]][:3]) for v in result["violations"]
    ]
    assert violations == [], (page.url, violations)


def assert_no_wider_than_viewport(page) -> None:
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], (page.url, widths)


PASSWORD_FORM_BUTTON = "button[type=submit].button-primary"


def password_login(page, base: str, username: str, password: str, *, button: str = PASSWORD_FORM_BUTTON, check=None):
    """Log in with the login page's password form and land on the start page; `check(page)` on both pages if given.

    `button`: the form's submit button, where the login page shows other buttons too (MitID Erhverv, KMD).
    """
    page.goto(f"{base}/login/")
    if check:
        check(page)
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click(button)
    page.wait_for_url(f"{base}/")
    if check:
        check(page)


SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"


def keep_screenshot(page, name: str, *, full_page: bool = True) -> Path | None:
    """With WRITE_SCREENSHOTS=1, docs/screenshots/<name>-<width>.png (256 flat colours: crisp text, small file);
    otherwise nothing. What the journey checks is checked either way; this only keeps the picture."""
    if os.environ.get("WRITE_SCREENSHOTS") != "1":
        return None
    import io

    from PIL import Image

    path = SCREENSHOTS / f"{name}-{page.viewport_size['width']}.png"
    image = Image.open(io.BytesIO(page.screenshot(full_page=full_page))).convert("RGB")
    image.quantize(256, dither=Image.Dither.NONE).save(path, optimize=True)
    return path
