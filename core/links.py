"""Links to one object's page, for lists that draw one a row.

Django's `reverse` tries the view's URL patterns one by one and checks the result against the pattern: 20–40
microseconds a link, a few milliseconds for a start page that links a hundred orders. For a view whose one
argument is a number (`<int:pk>`) the URL is the same text around the number: `url_with_number` works that text
out once (through `reverse` itself, so it always agrees with the URLconf) and then only puts the number in.
"""

from functools import lru_cache

from django.urls import get_script_prefix, get_urlconf, reverse

_PLACEHOLDER = 918273645  # any number: what reverse puts where it stands is the number's place in the URL


@lru_cache(maxsize=64)
def _around(viewname: str, prefix: str, urlconf) -> tuple[str, str]:
    # The prefix and URLconf are the active ones: named so that a change of either asks reverse again.
    url = reverse(viewname, args=[_PLACEHOLDER], urlconf=urlconf)
    before, found, after = url.rpartition(str(_PLACEHOLDER))
    if not found:
        raise ValueError(f"{viewname}: its URL does not show its one argument as a number")
    return before, after


def url_with_number(viewname: str, number: int) -> str:
    """`reverse(viewname, args=[number])` for a view taking one `<int:…>` argument."""
    before, after = _around(viewname, get_script_prefix(), get_urlconf())
    return f"{before}{int(number)}{after}"
