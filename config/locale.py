from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.cache import patch_vary_headers


def request_language(request: HttpRequest) -> str:
    """The language the switch chose (its cookie), else Danish. Asks nothing else, so it works without a database."""
    language = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
    return language if language in {code for code, _name in settings.LANGUAGES} else settings.LANGUAGE_CODE


class LanguageMiddleware:
    """Danish unless the user chose English with the language switch.

    Unlike Django's LocaleMiddleware this ignores the browser's Accept-Language: municipal PCs are
    often set up in English, and the users still expect the Danish service they know.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        language = request_language(request)
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        patch_vary_headers(response, ("Cookie",))
        return response
