"""Field factories for the two references every app's models repeat: who did something, and an optional link.

Each returns a plain Django field with the very arguments the models used to spell out, so the migrations
see no change; a factory only names the convention once, where it can be read and kept the same everywhere.
"""

from django.conf import settings
from django.db import models


def person(verbose_name, *, optional: bool = False, on_delete=models.PROTECT) -> models.ForeignKey:
    """The user who did something to the row, kept for the record: "created by", "confirmed by".

    PROTECT by default: a person who acted is deactivated, never deleted from under what they did. No reverse
    accessor (related_name="+"): nothing asks a user for everything they confirmed. `optional` for a step that
    may not have happened yet; its time is then a nullable DateTimeField beside it.
    """
    nullable = {"null": True, "blank": True} if optional else {}
    return models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=verbose_name, on_delete=on_delete, related_name="+", **nullable
    )


def optional(
    to, verbose_name, *, related_name=None, on_delete=models.PROTECT, one_to_one: bool = False, **options
) -> models.ForeignKey:
    """A reference the row may lack: null, and blank in forms and the admin.

    PROTECT by default, like the required references: what a row points to is not deleted from under it.
    `one_to_one` for a link that at most one row may hold (a OneToOneField: a charge is invoiced on one line).
    `options` go to the field as they are (help_text, limit_choices_to).
    """
    field = models.OneToOneField if one_to_one else models.ForeignKey
    return field(
        to,
        verbose_name=verbose_name,
        null=True,
        blank=True,
        on_delete=on_delete,
        related_name=related_name,
        **options,
    )
