from django import template

from core import counting

register = template.Library()


@register.filter
def at_most(count) -> str:
    """`{{ n|at_most }}`: the number, or "99+" when it is more than core.counting.COUNT_SHOWN_UP_TO."""
    return counting.at_most(count)  # the menu's count is lazy (config/context_processors.py): compared, not int()
