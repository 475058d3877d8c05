"""Admin for every model of the deals app.

The health and import areas may keep their own admin modules (deals/health/admin.py,
deals/imports/admin.py); they are imported here so Django's autodiscovery finds them, and
any of their models still unregistered get a minimal read-mostly admin.
"""

import importlib

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from deals.models import (
    Activity,
    BuyerMilestone,
    Commitment,
    Concession,
    Contact,
    Deal,
    Disclosure,
    DiscoveryCall,
    Flag,
    HealthPolicy,
    HealthSnapshot,
    ImportJob,
    LineItem,
    Need,
    Prospect,
)


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 0
    fields = ["name", "title", "email", "phone", "buying_role"]


@admin.register(Prospect)
class ProspectAdmin(admin.ModelAdmin):
    list_display = ["name", "team", "industry", "size", "created_at"]
    list_filter = ["team", "size", "industry"]
    search_fields = ["name", "industry", "external_id"]
    autocomplete_fields = ["team", "created_by"]
    readonly_fields = ["created_at", "updated_at"]
    inlines = [ContactInline]


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["name", "prospect", "title", "email", "buying_role"]
    list_filter = ["buying_role", "prospect__team"]
    search_fields = ["name", "email", "title", "prospect__name"]
    autocomplete_fields = ["prospect"]
    list_select_related = ["prospect"]


class LineItemInline(admin.TabularInline):
    model = LineItem
    extra = 0
    fields = ["name", "quantity", "unit_list_price", "unit_price", "unit_cost"]


class MilestoneInline(admin.TabularInline):
    model = BuyerMilestone
    extra = 0
    fields = ["title", "side", "required_for_decision", "due_date", "completed_at"]


@admin.register(Deal)
class DealAdmin(SimpleHistoryAdmin):
    list_display = [
        "title", "prospect", "owner", "team", "stage", "net_total", "balance",
        "buyer_score", "seller_score", "expected_close_date", "updated_at",
    ]  # fmt: skip
    list_filter = ["stage", "balance", "team", "currency"]
    search_fields = ["title", "prospect__name", "owner__username", "external_id"]
    autocomplete_fields = ["prospect", "owner", "team", "created_by"]
    list_select_related = ["prospect", "owner", "team"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "version", "list_total", "net_total", "cost_total", "buyer_score", "seller_score",
        "balance", "open_flag_count", "health_computed_at", "last_buyer_contact_at",
        "created_at", "updated_at",
    ]  # fmt: skip
    inlines = [LineItemInline, MilestoneInline]
    history_list_display = ["stage", "version"]


@admin.register(DiscoveryCall)
class DiscoveryCallAdmin(admin.ModelAdmin):
    list_display = ["deal", "held_at", "next_step"]
    list_filter = ["held_at", "deal__team"]
    search_fields = ["deal__title", "summary", "next_step"]
    autocomplete_fields = ["deal", "attendees", "created_by"]
    list_select_related = ["deal"]


@admin.register(Need)
class NeedAdmin(admin.ModelAdmin):
    list_display = ["statement", "prospect", "deal", "kind", "importance", "confirmed_by_buyer"]
    list_filter = ["kind", "importance", "confirmed_by_buyer"]
    search_fields = ["statement", "prospect__name", "deal__title"]
    autocomplete_fields = ["prospect", "deal", "discovery_call"]
    list_select_related = ["prospect", "deal"]


@admin.register(LineItem)
class LineItemAdmin(SimpleHistoryAdmin):
    list_display = ["name", "deal", "quantity", "unit_list_price", "unit_price", "unit_cost"]
    list_filter = ["deal__team", "deal__stage"]
    search_fields = ["name", "deal__title"]
    autocomplete_fields = ["deal", "needs"]
    list_select_related = ["deal"]


@admin.register(BuyerMilestone)
class BuyerMilestoneAdmin(admin.ModelAdmin):
    list_display = ["title", "deal", "side", "required_for_decision", "due_date", "completed_at"]
    list_filter = ["side", "required_for_decision", "due_date"]
    search_fields = ["title", "deal__title"]
    autocomplete_fields = ["deal", "discovery_call"]
    list_select_related = ["deal"]


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    list_display = ["deal", "kind", "initiated_by", "occurred_at", "close_attempt"]
    list_filter = [
        "kind", "source", "initiated_by", "close_attempt", "senior_present", "occurred_at",
    ]  # fmt: skip
    search_fields = ["notes", "deal__title"]
    autocomplete_fields = ["deal", "created_by"]
    list_select_related = ["deal"]
    date_hierarchy = "occurred_at"


@admin.register(Concession)
class ConcessionAdmin(SimpleHistoryAdmin):
    list_display = ["description", "deal", "kind", "amount", "cost_to_seller", "in_exchange_for"]
    list_filter = ["kind"]
    search_fields = ["description", "in_exchange_for", "deal__title"]
    autocomplete_fields = ["deal", "created_by"]
    list_select_related = ["deal"]


@admin.register(Commitment)
class CommitmentAdmin(SimpleHistoryAdmin):
    list_display = ["description", "deal", "status", "due_date", "owner"]
    list_filter = ["status", "due_date"]
    search_fields = ["description", "deal__title"]
    autocomplete_fields = ["deal", "owner"]
    list_select_related = ["deal", "owner"]


@admin.register(Disclosure)
class DisclosureAdmin(admin.ModelAdmin):
    list_display = ["deal", "kind", "description", "disclosed_at"]
    list_filter = ["kind"]
    search_fields = ["description", "deal__title"]
    autocomplete_fields = ["deal", "created_by"]
    list_select_related = ["deal"]


def _import_area_admin(module: str) -> None:
    try:
        importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name != module:  # the module exists but something it imports is missing
            raise


_import_area_admin("deals.health.admin")
_import_area_admin("deals.imports.admin")
_import_area_admin("deals.mail.admin")


class MinimalFlagAdmin(admin.ModelAdmin):
    list_display = ["code", "deal", "side", "severity", "status", "last_seen_at"]
    list_filter = ["status", "severity", "side", "code"]
    search_fields = ["code", "message", "deal__title"]
    autocomplete_fields = ["deal"]
    list_select_related = ["deal"]


class MinimalHealthPolicyAdmin(admin.ModelAdmin):
    list_display = ["__str__", "team", "discount_max_pct", "margin_floor_pct", "updated_at"]
    autocomplete_fields = ["team"]


class MinimalHealthSnapshotAdmin(admin.ModelAdmin):
    list_display = ["deal", "day", "buyer_score", "seller_score", "balance"]
    list_filter = ["balance", "day"]
    search_fields = ["deal__title"]
    list_select_related = ["deal"]


class MinimalImportJobAdmin(admin.ModelAdmin):
    list_display = ["file_name", "kind", "status", "team", "created_at", "processed_rows"]
    list_filter = ["kind", "status"]
    search_fields = ["file_name"]


for model, model_admin in [
    (Flag, MinimalFlagAdmin),
    (HealthPolicy, MinimalHealthPolicyAdmin),
    (HealthSnapshot, MinimalHealthSnapshotAdmin),
    (ImportJob, MinimalImportJobAdmin),
]:
    if not admin.site.is_registered(model):
        admin.site.register(model, model_admin)
