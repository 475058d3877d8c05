"""Deals: the full record, the list row, stage moves, reopening, conflicts and history."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from deals import pricing, selectors
from deals.api.serializers.base import (
    DocumentedModelSerializer,
    DocumentedSerializerMixin,
    inline_choice_field,
)
from deals.models import Deal


# A percent can be any size (a deal sold far below cost has a margin of −100,000 %), so
# the schema must not borrow a DecimalField's digit limit for its pattern.
@extend_schema_field(
    {"type": "string", "format": "decimal", "pattern": r"^-?\d+\.\d{2}$", "nullable": True}
)
class PercentField(serializers.DecimalField):
    def __init__(self, **kwargs):
        # No digit limit: a deal sold far below cost has a margin of -100,000 % or less.
        super().__init__(max_digits=None, decimal_places=2, read_only=True, **kwargs)


def _confirm_field(help_text: str) -> serializers.BooleanField:
    return serializers.BooleanField(required=False, default=False, help_text=help_text)


def _reason_field(help_text: str) -> serializers.CharField:
    return serializers.CharField(
        required=False, allow_blank=True, max_length=2000, default="", help_text=help_text
    )


CONFIRM_HELP = (
    "Closing as won with a required buyer milestone open, an important need nothing serves "
    "or nothing disclosed is a 400 naming it unless this is true and `reason` says why."
)
REASON_HELP = "Why the rep closes despite the concerns; kept on the stage history for delivery."


class HealthCheckedAtField(serializers.DateTimeField):
    """A deal's "checked at": annotated by the API's queryset as `health_checked_at`
    (deals.health.checked), read with one query for a deal a write just returned."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def get_attribute(self, instance: Any) -> Any:
        if hasattr(instance, "health_checked_at"):
            return instance.health_checked_at
        from deals.health.checked import health_checked_at

        return health_checked_at(instance)


class DealSerializer(DocumentedModelSerializer):
    scoped_fields = {"prospect": selectors.prospect_list}
    health_computed_at = HealthCheckedAtField(
        allow_null=True,
        help_text=("When the health was last computed or checked by the hourly sweep (read-only)."),
    )
    version = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text=(
            'Optimistic lock, required on every update (or an `If-Match: "<version>"` '
            "header; GET sends it as the ETag): without it 400; if the deal changed since, "
            "409 with the current version. Ignored on create."
        ),
    )
    discount_pct = PercentField(
        help_text=(
            "Discount off list price in percent (two decimals): 1 − net/list; negative "
            "when sold above list."
        )
    )
    margin_pct = PercentField(
        help_text="Seller margin in percent (two decimals): (net − cost) / net."
    )
    prospect_name = serializers.CharField(
        source="prospect.name", read_only=True, help_text="The prospect's name."
    )
    owner_username = serializers.CharField(
        source="owner.username", read_only=True, help_text="The owning rep's username."
    )
    # Empty until the health engine first computes the deal: documented as such.
    balance = serializers.ChoiceField(
        choices=Deal.Balance.choices,
        allow_blank=True,
        read_only=True,
        help_text="win_win, buyer_loses, seller_loses or lose_lose; empty until computed.",
    )
    confirm = serializers.BooleanField(
        write_only=True, required=False, default=False, help_text=CONFIRM_HELP
    )
    reason = serializers.CharField(
        write_only=True, required=False, allow_blank=True, max_length=2000, default="",
        help_text=REASON_HELP,
    )  # fmt: skip
    stage_changed_at = serializers.DateTimeField(
        read_only=True, help_text="When the deal entered its current stage."
    )

    class Meta:
        model = Deal
        fields = [
            "id", "title", "prospect", "prospect_name", "owner", "owner_username", "team",
            "stage", "currency", "language", "expected_close_date", "lost_reason", "closed_at",
            "notes_for_delivery", "external_id", "version",
            "list_total", "net_total", "cost_total", "discount_pct", "margin_pct",
            "buyer_score", "seller_score", "balance", "open_flag_count", "health_computed_at",
            "last_buyer_contact_at", "created_at", "updated_at", "stage_changed_at",
            "confirm", "reason",
        ]  # fmt: skip
        read_only_fields = [
            "owner", "team", "closed_at", "list_total", "net_total", "cost_total",
            "buyer_score", "seller_score", "balance", "open_flag_count", "health_computed_at",
            "last_buyer_contact_at", "created_at", "updated_at",
        ]  # fmt: skip
        create_only_fields = ["prospect"]
        help_texts = {
            "title": "A short name for the opportunity.",
            "prospect": "Id of the prospect (buying organisation) the deal is with.",
            "stage": (
                "Pipeline stage. closed_lost needs lost_reason; closed_won needs at least one "
                "line item; leaving a closed stage needs POST /deals/{id}/reopen/."
            ),
            "list_total": "Σ quantity × unit list price of the line items.",
            "net_total": "Σ quantity × unit price − Σ price-cut concessions.",
            "cost_total": "Σ quantity × unit cost + Σ cost to seller of value-add concessions.",
            "buyer_score": "Buyer-side health score 0–100 (read-only, from the health engine).",
            "seller_score": "Seller-side health score 0–100 (read-only, from the health engine).",
            "balance": "win_win, buyer_loses, seller_loses or lose_lose (read-only).",
            "open_flag_count": "Number of open health flags (read-only).",
            "health_computed_at": (
                "When the health was last computed or checked by the hourly sweep (read-only)."
            ),
            "last_buyer_contact_at": "The latest buyer-initiated activity (read-only).",
            "closed_at": "When the deal was closed won or lost.",
            "notes_for_delivery": "Free text the rep wants the delivery team to read.",
        }

    def validate_currency(self, value: str) -> str:
        if len(value) != 3 or not value.isalpha():
            raise serializers.ValidationError("Use a three-letter ISO 4217 code, e.g. EUR.")
        return value.upper()


class DealListSerializer(serializers.BaseSerializer):
    """Read-only rows of the deal list: the same fields, in the same order and formats, as
    DealSerializer (the schema documents the list with DealSerializer), built from the
    `.values()` rows of `columns` instead of model instances.

    A page of 50 through DealSerializer costs ~1,400 DRF field calls plus four model
    instances per row; this is one dict per row. tests/api/test_deal_list_api.py compares
    every list item with the detail JSON of the same deal.
    """

    columns = (
        "id", "title", "prospect_id", "owner_id", "team_id", "stage", "currency", "language",
        "expected_close_date", "lost_reason", "closed_at", "notes_for_delivery",
        "external_id", "version", "list_total", "net_total", "cost_total", "buyer_score",
        "seller_score", "balance", "open_flag_count", "health_computed_at",
        "last_buyer_contact_at", "created_at", "updated_at", "stage_changed_at",
    )  # fmt: skip

    @classmethod
    def rows(cls, queryset):
        """The deals of `queryset` (already filtered and ordered) as the dicts this reads."""
        from deals.health.checked import deal_checked_at

        if "health_checked_at" not in queryset.query.annotations:
            queryset = queryset.annotate(health_checked_at=deal_checked_at())
        return queryset.values(
            *cls.columns, "health_checked_at", "prospect__name", "owner__username"
        )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # DRF's DateTimeField renders in the current time zone; look it up once, not per
        # value. The database hands back UTC, so in UTC there is nothing to convert.
        self._tz = timezone.get_current_timezone() if settings.USE_TZ else None
        self._in_utc = self._tz is dt.UTC or getattr(self._tz, "key", None) == "UTC"

    def _datetime(self, value):
        if value is None:
            return None
        if self._tz is None:
            if value.tzinfo is not None:
                value = value.astimezone(dt.UTC).replace(tzinfo=None)
        elif not (self._in_utc and value.tzinfo is dt.UTC):
            value = value.astimezone(self._tz)
        text = value.isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    def to_representation(self, row):
        when = self._datetime
        discount = pricing.percent(pricing.discount_pct(row["list_total"], row["net_total"]))
        margin = pricing.percent(pricing.margin_pct(row["net_total"], row["cost_total"]))
        close_date = row["expected_close_date"]
        return {
            "id": row["id"],
            "title": row["title"],
            "prospect": row["prospect_id"],
            "prospect_name": row["prospect__name"],
            "owner": row["owner_id"],
            "owner_username": row["owner__username"],
            "team": row["team_id"],
            "stage": row["stage"],
            "currency": row["currency"],
            "language": row["language"],
            "expected_close_date": close_date.isoformat() if close_date else None,
            "lost_reason": row["lost_reason"],
            "closed_at": when(row["closed_at"]),
            "notes_for_delivery": row["notes_for_delivery"],
            "external_id": row["external_id"],
            "version": row["version"],
            "list_total": _money(row["list_total"]),
            "net_total": _money(row["net_total"]),
            "cost_total": _money(row["cost_total"]),
            "discount_pct": _money(discount),
            "margin_pct": _money(margin),
            "buyer_score": row["buyer_score"],
            "seller_score": row["seller_score"],
            "balance": row["balance"],
            "open_flag_count": row["open_flag_count"],
            "health_computed_at": when(row["health_checked_at"]),
            "last_buyer_contact_at": when(row["last_buyer_contact_at"]),
            "created_at": when(row["created_at"]),
            "updated_at": when(row["updated_at"]),
            "stage_changed_at": when(row["stage_changed_at"]),
        }


def _money(value):
    """A two-decimal amount as DRF's DecimalField(decimal_places=2) writes it."""
    return None if value is None else f"{pricing.money(value):f}"


class DealStageSerializer(DocumentedSerializerMixin, serializers.Serializer):
    stage = inline_choice_field(Deal.Stage.choices, help_text="The stage to move the deal to.")
    lost_reason = serializers.CharField(
        required=False, allow_blank=True, help_text="Why the deal was lost (for closed_lost)."
    )
    version = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="Required (or If-Match): the version you read; without it 400, stale 409.",
    )
    confirm = _confirm_field(CONFIRM_HELP)
    reason = _reason_field(REASON_HELP)


class DealReopenSerializer(DocumentedSerializerMixin, serializers.Serializer):
    stage = serializers.ChoiceField(
        choices=[(s, Deal.Stage(s).label) for s in Deal.OPEN_STAGES],
        default=Deal.Stage.NEGOTIATION,
        help_text="The open stage to reopen the deal into.",
    )
    version = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="Required (or If-Match): the version you read; without it 400, stale 409.",
    )
    confirm = _confirm_field("Must be true: reopening a closed deal is meant, not a slip.")
    reason = _reason_field("Why the deal is reopened (required); delivery sees it.")


class ConflictSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="What went wrong.")
    current_version = serializers.IntegerField(help_text="The deal's version now.")


class HistoryChangeSerializer(serializers.Serializer):
    field = serializers.CharField(help_text="The changed field.")
    old = serializers.JSONField(allow_null=True, help_text="Value before the change.")
    new = serializers.JSONField(allow_null=True, help_text="Value after the change.")


class HistoryEntrySerializer(serializers.Serializer):
    model = serializers.ChoiceField(
        choices=["deal", "line_item", "concession", "commitment"],
        help_text="Which kind of record changed.",
    )
    object_id = serializers.IntegerField(help_text="Id of the changed record.")
    object_repr = serializers.CharField(help_text="The record's title, name or description.")
    action = serializers.ChoiceField(
        choices=["created", "changed", "deleted"], help_text="What happened to the record."
    )
    at = serializers.DateTimeField(help_text="When it happened.")
    user_id = serializers.IntegerField(allow_null=True, help_text="Who did it (user id).")
    username = serializers.CharField(help_text="Who did it (username; empty if unknown).")
    changes = HistoryChangeSerializer(many=True, help_text="Field changes, old → new.")
