"""Pages of a list counted only so far (core.counting): "Page 1 of 11+" where the count is a bound."""

from django.core.paginator import Paginator


class BoundedPaginator(Paginator):
    """A paginator whose count may be a bound: `more` says the list holds more rows than were counted, so its page
    count is "at least" (templates/_pagination.html shows "Page 1 of 11+"). Next and Previous work as Django's."""

    def __init__(self, object_list, per_page, *, more: bool = False, **kwargs) -> None:
        super().__init__(object_list, per_page, **kwargs)
        self.more = more
