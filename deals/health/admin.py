"""Admin for health: policies managers tune, flags with their evidence, daily snapshots.

deals/admin.py imports this module so Django's admin autodiscovery registers it.
"""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from deals.models import Flag, HealthPolicy, HealthSnapshot
from winwin_crm.accounts.roles import authenticated_user


@admin.register(HealthPolicy)
class HealthPolicyAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "team",
        "discount_max_pct",
        "margin_floor_pct",
        "stale_days",
        "win_win_threshold",
        "updated_at",
        "updated_by",
    ]
    list_select_related = ["team", "updated_by"]
    autocomplete_fields = ["team"]
    readonly_fields = ["updated_at", "updated_by"]
    fieldsets = [
        (None, {"fields": ["team"]}),
        ("Seller", {"fields": ["discount_max_pct", "margin_floor_pct"]}),
        (
            "Buyer and relationship",
            {
                "fields": [
                    "chasing_count",
                    "chasing_window_days",
                    "escalation_window",
                    "escalation_min_senior",
                    "stale_days",
                    "handoff_sla_hours",
                    "unmet_need_min_importance",
                    "pressure_phrases",
                ]
            },
        ),
        (
            "Scoring",
            {"fields": ["weight_info", "weight_warning", "weight_critical", "win_win_threshold"]},
        ),
        ("Buyer room", {"fields": ["buyer_room_link_days"]}),
        ("Audit", {"fields": ["updated_at", "updated_by"]}),
    ]

    def save_model(self, request: HttpRequest, obj: HealthPolicy, form: Any, change: bool) -> None:
        obj.updated_by = authenticated_user(request)
        super().save_model(request, obj, form, change)


@admin.register(Flag)
class FlagAdmin(admin.ModelAdmin):
    list_display = ["code", "deal", "side", "severity", "status", "first_seen_at", "last_seen_at"]
    list_filter = ["status", "severity", "side", "code", "deal__team"]
    search_fields = ["code", "message", "deal__title"]
    list_select_related = ["deal"]
    raw_id_fields = ["deal", "acknowledged_by"]
    date_hierarchy = "first_seen_at"
    # Flags are the engine's output; people only acknowledge them (with a note).
    readonly_fields = [
        "deal",
        "code",
        "side",
        "severity",
        "message",
        "evidence",
        "evidence_digest",
        "first_seen_at",
        "last_seen_at",
        "resolved_at",
    ]


@admin.register(HealthSnapshot)
class HealthSnapshotAdmin(admin.ModelAdmin):
    list_display = ["deal", "day", "buyer_score", "seller_score", "balance", "open_flag_count"]
    list_filter = ["balance", "day", "team"]
    search_fields = ["deal__title"]
    list_select_related = ["deal"]
    raw_id_fields = ["deal", "team", "owner"]
    date_hierarchy = "day"
