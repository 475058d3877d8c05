"""Reads of notifications, always scoped to the user who owns them."""

from __future__ import annotations

from django.db.models import QuerySet

from winwin_crm.accounts.models import User

from .models import Delivery, Kind, Notification, NotificationPreference, default_delivery

INBOX_PAGE_SIZE = 50


def unread_count(*, user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def notification_list(*, user: User, unread_only: bool = False) -> QuerySet[Notification]:
    qs = Notification.objects.filter(recipient=user).select_related("actor")
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return qs


def notification_get(*, user: User, notification_id: int) -> Notification:
    return Notification.objects.get(recipient=user, pk=notification_id)


def preferences_of(*, user: User) -> list[tuple[str, str, str]]:
    """(kind, label, delivery) for every kind, the default where the user chose nothing."""
    chosen = dict(NotificationPreference.objects.filter(user=user).values_list("kind", "delivery"))
    return [(kind, label, chosen.get(kind, default_delivery(kind))) for kind, label in Kind.choices]


DELIVERY_CHOICES = Delivery.choices
