"""Lists come in pages: `?limit=` (default API_PAGE_SIZE, at most API_MAX_PAGE_SIZE) and `?offset=`."""

from django.conf import settings
from rest_framework.pagination import LimitOffsetPagination


class Pagination(LimitOffsetPagination):
    @property
    def default_limit(self) -> int:
        return settings.API_PAGE_SIZE

    @property
    def max_limit(self) -> int:
        return settings.API_MAX_PAGE_SIZE
