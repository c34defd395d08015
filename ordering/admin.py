from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from audit.models import AuditEvent
from core.admin import ReadOnlyAdmin, as_code

from . import models


@admin.register(models.Interface)
class InterfaceAdmin(admin.ModelAdmin):
    list_display = ("code", "name_da", "kind", "replaced_by")
    list_filter = ("kind",)
    search_fields = ("code", "name_da", "name_en")


@admin.register(models.Vendor)
class VendorAdmin(admin.ModelAdmin):
    list_display = ("name", "cvr", "contact_email", "owner")
    list_select_related = ("owner",)
    search_fields = ("name", "cvr")


@admin.register(models.ExternalSystem)
class ExternalSystemAdmin(admin.ModelAdmin):
    list_display = ("name", "vendor", "category", "is_standard", "owner")
    list_filter = ("category", "is_standard")
    search_fields = ("name", "vendor__name")
    filter_horizontal = ("standard_interfaces",)
    list_select_related = ("vendor", "owner")


@admin.register(models.IntegrationPackage)
class IntegrationPackageAdmin(admin.ModelAdmin):
    list_display = ("code", "name_da", "external_system")
    filter_horizontal = ("interfaces",)
    list_select_related = ("external_system",)


class MembershipInline(admin.TabularInline):
    model = models.CustomerMembership
    extra = 0
    autocomplete_fields = ("user",)


@admin.register(models.Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("name", "cvr", "ean", "account_manager")
    search_fields = ("name", "cvr")
    inlines = [MembershipInline]
    list_select_related = ("account_manager",)


class ContractInterfaceInline(admin.StackedInline):
    model = models.ContractInterface
    extra = 0
    filter_horizontal = ("named_systems",)


@admin.register(models.MainContract)
class MainContractAdmin(admin.ModelAdmin):
    list_display = ("reference", "customer", "terms", "licence_scope", "signed_on")
    inlines = [ContractInterfaceInline]
    list_select_related = ("customer",)


@admin.register(models.AccessOrder)
class AccessOrderAdmin(ReadOnlyAdmin):
    list_display = ("reference", "customer", "external_system", "state", "environment", "created_at")
    list_filter = ("state", "environment", "purchase_model")
    search_fields = ("customer__name", "external_system__name")
    list_select_related = ("customer", "external_system__vendor")


@admin.register(models.Addendum)
class AddendumAdmin(ReadOnlyAdmin):
    list_display = ("order", "version", "status", "issued_by", "issued_at", "decided_by", "decided_at")
    list_select_related = ("order", "issued_by", "decided_by")
    exclude = ("quote",)
    readonly_fields = ("quote_record",)

    @admin.display(description=_("frozen price quote"))
    def quote_record(self, addendum: models.Addendum) -> str:
        return as_code(addendum.quote)


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("seq", "order", "kind", "from_state", "to_state", "actor", "actor_role", "created_at")
    list_filter = ("kind", "actor_role")
    list_select_related = ("order", "actor")
