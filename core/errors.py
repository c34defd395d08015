"""The error model every app shares (STYLE.md practice 12).

A service that will not do what was asked raises a `Refusal`: nothing was written, and `message`
says in a sentence, in the user's language, what is wrong and what to do. Each app refines it
(ordering's OrderError, billing's BillingError); a view catches `Refusal` and shows the message.
"""


class Refusal(Exception):
    def __init__(self, message: str, *, errors: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or {}  # field name -> sentence, for forms that show errors on their fields
