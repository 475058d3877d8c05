from django.apps import AppConfig


class BuyerRoomConfig(AppConfig):
    name = "deals.buyer_room"
    label = "buyer_room"
    verbose_name = "Buyer room"
    default_auto_field = "django.db.models.BigAutoField"
