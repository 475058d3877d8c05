"""A deal's children: proposal items, activities, concessions, commitments, disclosures."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from deals import limits, pricing, selectors
from deals.api.serializers.base import BulkPrimaryKeyRelatedField, DocumentedModelSerializer
from deals.models import Activity, Commitment, Concession, Disclosure, LineItem, Need


class LineItemSerializer(DocumentedModelSerializer):
    scoped_fields = {"deal": selectors.deal_list, "needs": selectors.need_list}
    needs = BulkPrimaryKeyRelatedField(  # type: ignore[call-arg]  # max_items: many_init
        many=True,
        required=False,
        queryset=Need.objects.all(),
        max_items=limits.MAX_NEEDS_PER_LINE_ITEM,
        help_text=(
            "Ids of the buyer's needs this item serves (needs of the deal's prospect; at "
            f"most {limits.MAX_NEEDS_PER_LINE_ITEM})."
        ),
    )
    line_list_total = serializers.SerializerMethodField(
        help_text="quantity × unit list price of this item."
    )
    line_net_total = serializers.SerializerMethodField(
        help_text="quantity × unit price of this item."
    )

    class Meta:
        model = LineItem
        fields = [
            "id", "deal", "name", "quantity", "unit_list_price", "unit_price", "unit_cost",
            "needs", "line_list_total", "line_net_total", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["created_at", "updated_at"]
        create_only_fields = ["deal"]
        extra_kwargs = {"needs": {"required": False}}
        help_texts = {
            "name": "What is sold, e.g. 'Platform licence'.",
            "quantity": "How many units (more than 0).",
            "unit_list_price": "List price per unit (0 or more).",
            "needs": "Ids of the buyer's needs this item serves (needs of the deal's prospect).",
        }

    @extend_schema_field(serializers.DecimalField(max_digits=28, decimal_places=2))
    def get_line_list_total(self, obj) -> str:
        return str(pricing.line_total(obj.quantity, obj.unit_list_price))

    @extend_schema_field(serializers.DecimalField(max_digits=28, decimal_places=2))
    def get_line_net_total(self, obj) -> str:
        return str(pricing.line_total(obj.quantity, obj.unit_price))


class ActivitySerializer(DocumentedModelSerializer):
    scoped_fields = {"deal": selectors.deal_list}

    class Meta:
        model = Activity
        fields = [
            "id", "deal", "kind", "initiated_by", "occurred_at", "notes", "close_attempt",
            "senior_present", "created_by", "created_at", "updated_at",
            "source", "message_id", "thread", "auto_reply",
        ]  # fmt: skip
        # Captured mail sets these (deals/mail/); typed activities are "manual".
        read_only_fields = [
            "created_by", "created_at", "updated_at", "source", "message_id", "thread",
            "auto_reply",
        ]  # fmt: skip
        create_only_fields = ["deal"]
        help_texts = {
            "source": "manual, email, calendar, buyer_room or import.",
            "kind": "call, email, meeting, note or support request.",
            "initiated_by": "Who started it: the rep or the buyer.",
            "occurred_at": "When it happened.",
            "notes": "What was said; pressure phrases here raise a flag.",
        }


class ConcessionSerializer(DocumentedModelSerializer):
    scoped_fields = {"deal": selectors.deal_list}

    class Meta:
        model = Concession
        fields = [
            "id", "deal", "kind", "description", "amount", "cost_to_seller", "in_exchange_for",
            "created_by", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["created_by", "created_at", "updated_at"]
        create_only_fields = ["deal"]
        help_texts = {
            "kind": "price (a cut off the total) or value_add (something extra for the buyer).",
            "description": "What was conceded, e.g. '6 extra months of support'.",
        }


class CommitmentSerializer(DocumentedModelSerializer):
    scoped_fields = {"deal": selectors.deal_list}

    class Meta:
        model = Commitment
        fields = [
            "id", "deal", "description", "due_date", "status", "owner", "completed_at",
            "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["owner", "completed_at", "created_at", "updated_at"]
        create_only_fields = ["deal"]
        help_texts = {
            "description": "What was promised to the buyer.",
            "due_date": "When it is due.",
            "status": "open, done or broken. New commitments are open.",
            "completed_at": "When it was marked done.",
        }


class DisclosureSerializer(DocumentedModelSerializer):
    scoped_fields = {"deal": selectors.deal_list}

    class Meta:
        model = Disclosure
        fields = [
            "id", "deal", "kind", "description", "disclosed_at", "created_by", "created_at",
            "updated_at",
        ]  # fmt: skip
        read_only_fields = ["disclosed_at", "created_by", "created_at", "updated_at"]
        create_only_fields = ["deal"]
        help_texts = {
            "kind": "limitation, risk, a cheaper alternative, or pricing.",
            "description": "What was disclosed to the buyer.",
            "disclosed_at": "When it was disclosed.",
        }
