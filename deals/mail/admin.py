from django.contrib import admin

from deals.models import CapturedMail


@admin.register(CapturedMail)
class CapturedMailAdmin(admin.ModelAdmin):
    """Read-only: captured mail changes only through its services (assign, discard)."""

    list_display = ["subject", "from_address", "user", "status", "kind", "sent_at", "channel"]
    list_filter = ["status", "kind", "channel", "auto_reply"]
    search_fields = ["subject", "from_address", "message_id"]
    list_select_related = ["user"]
    raw_id_fields = ["activity", "user"]
    readonly_fields = [f.name for f in CapturedMail._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False
