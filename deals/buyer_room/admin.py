from django.contrib import admin

from .models import (
    BuyerCheckInAnswer,
    BuyerNeedChange,
    BuyerPulse,
    BuyerRoomEvent,
    BuyerShare,
    MilestoneDateProposal,
)


@admin.register(BuyerShare)
class BuyerShareAdmin(admin.ModelAdmin):
    list_display = ("deal", "contact", "sent_at", "expires_at", "revoked_at", "opens")
    list_select_related = ("deal", "contact")
    raw_id_fields = ("deal", "contact", "check_in", "created_by", "revoked_by")
    readonly_fields = ("token_hash", "opens", "last_opened_at")


@admin.register(BuyerRoomEvent)
class BuyerRoomEventAdmin(admin.ModelAdmin):
    list_display = ("at", "deal", "action", "ip", "detail")
    list_filter = ("action",)
    list_select_related = ("deal",)
    raw_id_fields = ("share", "deal", "user")


@admin.register(BuyerPulse)
class BuyerPulseAdmin(admin.ModelAdmin):
    list_display = ("deal", "contact", "answered_at", "got_what_needed", "felt_pushed")
    raw_id_fields = ("deal", "contact", "meeting")


for model in (BuyerNeedChange, MilestoneDateProposal, BuyerCheckInAnswer):
    admin.site.register(model)
