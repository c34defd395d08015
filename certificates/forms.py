"""The certificate forms on the order page, rendered field by field with {% form_field %} (core/templatetags/form_field.py)."""

from django import forms
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.widgets import HiddenInput

from .validation import MAX_UPLOAD_BYTES


class CertificateUploadForm(forms.Form):
    """The orderer's chain, as a .zip or a .pem.

    The size cap is kept while reading, never by refusing here: the upload handler
    (certificates/uploads.py) holds at most MAX_UPLOAD_BYTES + 1 bytes in memory and this form reads no
    more, so the validator refuses a larger file with its real size and the attempt is recorded like
    every other refused upload.
    """

    bundle = forms.FileField(
        label=_("Upload the certificate chain"),
        # An empty file is the validator's to refuse, with a finding the orderer can read.
        allow_empty_file=True,
        widget=forms.FileInput(attrs={"accept": ".zip,.pem,.crt,.cer"}),
        error_messages={
            "required": _("Choose the file with the certificate chain (.zip or .pem) before uploading."),
            "invalid": _("Choose the file with the certificate chain (.zip or .pem) before uploading."),
        },
    )

    def __init__(self, *args, rollover: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["bundle"]
        if rollover:
            field.label = _("Upload a new certificate chain (rollover)")
        field.help_text = gettext(
            "A .zip with .pem/.crt/.cer files, or a single .pem file, at most %(size)s. The chain is checked at once."
        ) % {"size": filesizeformat(MAX_UPLOAD_BYTES)}

    def clean(self) -> dict:
        cleaned = super().clean()
        uploaded = cleaned.get("bundle")
        if uploaded is not None:
            cleaned.update(data=uploaded.read(MAX_UPLOAD_BYTES + 1), filename=uploaded.name, size=uploaded.size)
        return cleaned


class RolloverConfirmForm(forms.Form):
    """The account manager confirms the waiting chain they were shown, not one uploaded after."""

    bundle = forms.IntegerField(
        widget=HiddenInput,
        min_value=1,
        error_messages={
            key: _("Reload the page and confirm the new certificate chain shown there.")
            for key in ("required", "invalid", "min_value")
        },
    )
