"""E-mails as subject/text/html template triples, for every app that writes to people."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation


def build_email(template_base: str, context: dict, to: str) -> EmailMultiAlternatives:
    """An e-mail from the `<base>_subject.txt`, `<base>_body.txt` and `<base>_body.html` templates.

    E-mails are Danish: they go to Danish public-sector staff and KMD, whatever the sender's language.
    """
    with translation.override("da"):
        subject = " ".join(render_to_string(f"{template_base}_subject.txt", context).split())
        text = render_to_string(f"{template_base}_body.txt", context)
        html = render_to_string(f"{template_base}_body.html", context)
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [to])
    message.attach_alternative(html, "text/html")
    return message
