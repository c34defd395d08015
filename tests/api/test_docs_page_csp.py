"""The API's documentation page keeps to the site's CSP: no inline style (nor script) for the browser to block."""

from django.test import Client


def test_the_docs_page_has_no_inline_style_and_loads_its_own_stylesheet(db, settings):
    settings.WHITENOISE_USE_FINDERS = True  # served as in production, by WhiteNoise, without collectstatic
    settings.WHITENOISE_AUTOREFRESH = True
    html = Client().get("/api/docs/").content.decode()

    assert "<style" not in html and " style=" not in html
    assert '<link rel="stylesheet" href="/static/css/swagger_ui.css">' in html
    assert Client().get("/static/css/swagger_ui.css").status_code == 200
