from django.contrib import admin

from core.admin import ReadOnlyAdmin, ReadOnlyInline

from .models import BillingRun, Charge, InterfacePrice, Invoice, InvoiceLine, PackagePrice, PriceList, RecurringFee
from .services import price_list_record_change


class UsedPriceListReadOnly:
    """A used price list is history: it can be read, never edited; a new one is made instead."""

    def has_change_permission(self, request, obj=None):
        price_list = obj if isinstance(obj, PriceList) else getattr(obj, "price_list", None)
        if price_list is not None and price_list.is_used:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self.has_change_permission(request, obj)


class InterfacePriceInline(UsedPriceListReadOnly, admin.TabularInline):
    model = InterfacePrice
    extra = 0

    def has_add_permission(self, request, obj=None):
        return obj is None or not obj.is_used


class PackagePriceInline(UsedPriceListReadOnly, admin.TabularInline):
    model = PackagePrice
    extra = 0

    def has_add_permission(self, request, obj=None):
        return obj is None or not obj.is_used


@admin.register(PriceList)
class PriceListAdmin(UsedPriceListReadOnly, admin.ModelAdmin):
    list_display = ("name", "effective_from", "is_example", "setup_fee", "consulting_hourly_rate")
    inlines = [InterfacePriceInline, PackagePriceInline]
    readonly_fields = ("created_at",)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # The admin saves the list and its prices in one transaction; the audit event joins it.
        changed = list(form.changed_data)
        for formset in formsets:
            changed += [f"{formset.model._meta.verbose_name}: {obj}" for obj in formset.new_objects]
            changed += [f"{formset.model._meta.verbose_name}: {obj}" for obj, _fields in formset.changed_objects]
            changed += [f"{formset.model._meta.verbose_name}: {obj} (-)" for obj in formset.deleted_objects]
        price_list_record_change(price_list=form.instance, actor=request.user, created=not change, changes=changed)


@admin.register(RecurringFee)
class RecurringFeeAdmin(ReadOnlyAdmin):
    list_display = ("customer", "kind", "description_da", "monthly_fee", "starts_on", "ends_on")
    list_filter = ("kind",)
    list_select_related = ("customer",)


@admin.register(Charge)
class ChargeAdmin(ReadOnlyAdmin):
    list_display = ("customer", "kind", "description_da", "amount", "booked_on")
    list_select_related = ("customer",)


class InvoiceLineInline(ReadOnlyInline):
    model = InvoiceLine
    fields = ("source_key", "kind", "description_da", "amount")


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdmin):
    list_display = ("number", "customer_name", "period", "total_excl_vat", "total_incl_vat")
    inlines = [InvoiceLineInline]


@admin.register(BillingRun)
class BillingRunAdmin(ReadOnlyAdmin):
    list_display = ("period", "first_run_at", "last_run_at", "runs")
