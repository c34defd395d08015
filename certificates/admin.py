from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from core.admin import ReadOnlyAdmin, ReadOnlyInline, as_code

from .models import Certificate, CertificateBundle, CertificateUpload


@admin.register(CertificateUpload)
class CertificateUploadAdmin(ReadOnlyAdmin):
    list_display = ("order", "filename", "verdict", "environment", "uploaded_by", "uploaded_at")
    list_filter = ("verdict", "environment")
    list_select_related = ("order", "uploaded_by")
    exclude = ("findings",)
    readonly_fields = ("findings_record",)

    @admin.display(description=_("findings"))
    def findings_record(self, upload: CertificateUpload) -> str:
        return as_code(upload.findings)


class CertificateInline(ReadOnlyInline):
    model = Certificate
    fields = ("position", "role", "subject", "cvr", "not_before", "not_after", "sha256")


@admin.register(CertificateBundle)
class CertificateBundleAdmin(ReadOnlyAdmin):
    list_display = ("order", "status", "environment", "created_at", "confirmed_by")
    list_filter = ("status", "environment")
    exclude = ("data",)  # the stored chain is downloaded from the order page, which checks who asks
    inlines = [CertificateInline]
    list_select_related = ("order", "confirmed_by")
