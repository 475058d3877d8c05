from django.contrib import admin

from .models import (
    CheckIn,
    ChecklistTemplateItem,
    Handoff,
    HandoffChecklistItem,
    HandoffEvent,
    HandoffMessage,
)
from .services import handoff_reassign_delivery_team


class ChecklistInline(admin.TabularInline):
    model = HandoffChecklistItem
    extra = 0
    fields = ("position", "label", "required", "checked_at", "checked_by")
    readonly_fields = ("checked_at", "checked_by")


class MessageInline(admin.TabularInline):
    model = HandoffMessage
    extra = 0
    fields = ("created_at", "kind", "author", "body")
    readonly_fields = fields
    can_delete = False


class EventInline(admin.TabularInline):
    model = HandoffEvent
    extra = 0
    fields = ("at", "from_status", "to_status", "actor", "note")
    readonly_fields = fields
    can_delete = False


class CheckInInline(admin.TabularInline):
    model = CheckIn
    extra = 0
    fields = (
        "day_offset",
        "due_date",
        "completed_at",
        "customer_value",
        "account_health",
        "referrals",
    )
    readonly_fields = ("completed_at",)


@admin.register(Handoff)
class HandoffAdmin(admin.ModelAdmin):
    list_display = (
        "deal",
        "status",
        "delivery_team",
        "rep",
        "assignee",
        "submitted_at",
        "sla_due_at",
        "accepted_at",
    )
    list_filter = ("status", "delivery_team")
    search_fields = ("deal__title", "deal__prospect__name", "rep__username", "assignee__username")
    list_select_related = ("deal", "delivery_team", "rep", "assignee")
    # The workflow moves status, assignee and the package; admins reassign the team.
    readonly_fields = (
        "deal",
        "status",
        "rep",
        "assignee",
        "package",
        "package_version",
        "snapshot_at",
        "created_at",
        "submitted_at",
        "sla_due_at",
        "claimed_at",
        "accepted_at",
        "updated_at",
    )
    fields = (
        "deal",
        "status",
        "delivery_team",
        "rep",
        "assignee",
        "notes_for_delivery",
        "created_at",
        "submitted_at",
        "sla_due_at",
        "claimed_at",
        "accepted_at",
        "snapshot_at",
        "package_version",
        "package",
        "updated_at",
    )
    inlines = [ChecklistInline, MessageInline, EventInline, CheckInInline]

    def has_add_permission(self, request):
        return False  # closing a deal as won creates its handoff

    def save_model(self, request, obj, form, change):
        if change and "delivery_team" in form.changed_data:
            new_team = obj.delivery_team
            obj.delivery_team_id = form.initial.get("delivery_team")
            super().save_model(request, obj, form, change)
            handoff_reassign_delivery_team(handoff=obj, user=request.user, delivery_team=new_team)
            obj.refresh_from_db()
            return
        super().save_model(request, obj, form, change)


@admin.register(ChecklistTemplateItem)
class ChecklistTemplateItemAdmin(admin.ModelAdmin):
    list_display = ("label", "key", "required", "position", "active")
    list_editable = ("required", "position", "active")
    prepopulated_fields = {"key": ("label",)}


@admin.register(HandoffEvent)
class HandoffEventAdmin(admin.ModelAdmin):
    list_display = ("handoff", "from_status", "to_status", "actor", "at")
    list_filter = ("to_status",)
    list_select_related = ("handoff__deal", "actor")
    readonly_fields = ("handoff", "from_status", "to_status", "actor", "note", "at")


@admin.register(HandoffMessage)
class HandoffMessageAdmin(admin.ModelAdmin):
    list_display = ("handoff", "kind", "author", "created_at")
    list_filter = ("kind",)
    list_select_related = ("handoff__deal", "author")


@admin.register(CheckIn)
class CheckInAdmin(admin.ModelAdmin):
    list_display = (
        "handoff",
        "day_offset",
        "due_date",
        "completed_at",
        "customer_value",
        "account_health",
        "referrals",
    )
    list_filter = ("day_offset", "account_health")
    list_select_related = ("handoff__deal",)
    readonly_fields = ("completed_at", "recorded_by")
