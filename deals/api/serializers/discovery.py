"""Needs, buyer milestones and discovery calls (with the needs and milestones they logged)."""

from __future__ import annotations

from rest_framework import serializers

from deals import limits, selectors
from deals.api.serializers.base import (
    BulkPrimaryKeyRelatedField,
    CappedListSerializer,
    DocumentedModelSerializer,
    flatten_errors,
    inline_choice_field,
)
from deals.models import BuyerMilestone, Contact, DiscoveryCall, Need

NEED_HELP = {
    "prospect": "Id of the prospect whose need it is (taken from the deal).",
    "discovery_call": "Id of the discovery call where it came up, if any.",
    "kind": "What sort of need: a goal, a problem, an interest or a dream.",
}
MILESTONE_HELP = {
    "deal": "Id of the deal whose mutual plan this step belongs to.",
    "discovery_call": "Id of the discovery call where it was agreed, if any.",
    "title": "The step, e.g. 'Security review'.",
    "side": "Whose step it is: the buyer's or the seller's.",
    "due_date": "When the step is planned to be done.",
    "completed_at": "When it was done; empty while open.",
    "completed": "Set true to mark the step done, false to reopen it.",
}


class NeedSerializer(DocumentedModelSerializer):
    scoped_fields = {
        "deal": selectors.deal_list,
        "discovery_call": selectors.discovery_call_list,
    }

    class Meta:
        model = Need
        fields = [
            "id", "deal", "prospect", "discovery_call", "kind", "statement", "importance",
            "confirmed_by_buyer", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["prospect", "created_at", "updated_at"]
        create_only_fields = ["deal"]
        extra_kwargs = {"deal": {"required": True, "allow_null": False}}
        help_texts = NEED_HELP


class NeedInlineSerializer(DocumentedModelSerializer):
    """A need captured on a discovery call (the deal and prospect come from the call)."""

    kind = inline_choice_field(Need.Kind.choices, help_text=NEED_HELP["kind"])

    class Meta:
        model = Need
        fields = ["id", "kind", "statement", "importance", "confirmed_by_buyer"]
        help_texts = NEED_HELP
        list_serializer_class = CappedListSerializer


class MilestoneSerializer(DocumentedModelSerializer):
    scoped_fields = {"deal": selectors.deal_list}
    completed = serializers.BooleanField(required=False, write_only=True)
    is_completed = serializers.SerializerMethodField(help_text="True when the step is done.")

    class Meta:
        model = BuyerMilestone
        fields = [
            "id", "deal", "discovery_call", "title", "side", "required_for_decision",
            "due_date", "completed", "is_completed", "completed_at", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["discovery_call", "completed_at", "created_at", "updated_at"]
        create_only_fields = ["deal"]
        help_texts = MILESTONE_HELP

    def get_is_completed(self, obj) -> bool:
        return obj.completed_at is not None


class MilestoneInlineSerializer(DocumentedModelSerializer):
    """A buyer milestone captured on a discovery call."""

    class Meta:
        model = BuyerMilestone
        fields = ["id", "title", "side", "required_for_decision", "due_date"]
        help_texts = MILESTONE_HELP
        list_serializer_class = CappedListSerializer


class DiscoveryCallSerializer(DocumentedModelSerializer):
    scoped_fields = {"deal": selectors.deal_list, "attendees": selectors.contact_list}
    attendees = BulkPrimaryKeyRelatedField(  # type: ignore[call-arg]  # max_items: many_init
        many=True,
        required=False,
        queryset=Contact.objects.all(),
        max_items=limits.MAX_ATTENDEES_PER_CALL,
        help_text=(
            f"Ids of the prospect's contacts who attended "
            f"(at most {limits.MAX_ATTENDEES_PER_CALL})."
        ),
    )
    needs = NeedInlineSerializer(  # type: ignore[call-arg]  # max_length: ListSerializer
        many=True,
        required=False,
        max_length=limits.MAX_NEEDS_PER_CALL,
        help_text=(
            "Needs uncovered on the call, created with it in one transaction "
            f"(at most {limits.MAX_NEEDS_PER_CALL})."
        ),
    )
    milestones = MilestoneInlineSerializer(  # type: ignore[call-arg]  # ListSerializer's
        many=True,
        required=False,
        max_length=limits.MAX_MILESTONES_PER_CALL,
        help_text=(
            "Buyer milestones agreed on the call, created with it in one transaction "
            f"(at most {limits.MAX_MILESTONES_PER_CALL})."
        ),
    )

    class Meta:
        model = DiscoveryCall
        fields = [
            "id", "deal", "held_at", "attendees", "summary", "next_step", "needs",
            "milestones", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["created_at", "updated_at"]
        create_only_fields = ["deal", "needs", "milestones"]
        help_texts = {
            "attendees": "Ids of the prospect's contacts who attended.",
            "summary": "What was learned on the call.",
        }
        extra_kwargs = {"attendees": {"required": False}}

    def to_internal_value(self, data):
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError as exc:
            # Errors of nested rows are keyed like the service's: "needs[1].importance".
            raise serializers.ValidationError(flatten_errors(exc.detail)) from None
