"""API representations of handoffs and their parts. Writes go through handoff.services."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from deals.models import Commitment

from .models import CheckIn, Handoff, HandoffChecklistItem, HandoffEvent, HandoffMessage


class ChecklistItemSerializer(serializers.ModelSerializer):
    checked = serializers.SerializerMethodField(help_text="Whether the rep ticked it.")

    class Meta:
        model = HandoffChecklistItem
        fields = [
            "id",
            "handoff",
            "key",
            "label",
            "required",
            "position",
            "checked",
            "checked_at",
            "checked_by",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_checked(self, obj) -> bool:
        return obj.checked_at is not None


class ChecklistItemSetSerializer(serializers.Serializer):
    checked = serializers.BooleanField(help_text="Tick (true) or untick (false) the item.")


class HandoffMessageSerializer(serializers.ModelSerializer):
    class Meta:
        model = HandoffMessage
        fields = ["id", "kind", "author", "body", "created_at"]
        read_only_fields = fields


class HandoffEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = HandoffEvent
        fields = ["id", "from_status", "to_status", "actor", "note", "at"]
        read_only_fields = fields


class CheckInSerializer(serializers.ModelSerializer):
    deal = serializers.IntegerField(source="handoff.deal_id", read_only=True)
    # Empty/null until the check-in is recorded; check_in_record refuses to record them so.
    account_health = serializers.ChoiceField(
        choices=CheckIn.AccountHealth.choices,
        allow_blank=True,
        help_text="Is the account healthy for the seller: profitable, at_risk or churned.",
    )
    customer_value = serializers.IntegerField(
        min_value=1,
        max_value=5,
        allow_null=True,
        help_text="1–5: is the customer getting the value they bought?",
    )
    referrals = serializers.IntegerField(min_value=0, default=0)

    class Meta:
        model = CheckIn
        fields = [
            "id",
            "handoff",
            "deal",
            "day_offset",
            "due_date",
            "completed_at",
            "customer_value",
            "account_health",
            "referrals",
            "notes",
            "recorded_by",
        ]
        read_only_fields = [
            "id",
            "handoff",
            "deal",
            "day_offset",
            "due_date",
            "completed_at",
            "recorded_by",
        ]


class HandoffListSerializer(serializers.ModelSerializer):
    deal_title = serializers.CharField(source="deal.title", read_only=True)
    prospect_name = serializers.CharField(source="deal.prospect.name", read_only=True)
    is_overdue = serializers.SerializerMethodField(
        help_text="Submitted and not claimed by its SLA due time."
    )
    has_leak = serializers.BooleanField(
        read_only=True,
        help_text="The buyer asked the rep for support after the handoff was accepted.",
    )

    class Meta:
        model = Handoff
        fields = [
            "id",
            "deal",
            "deal_title",
            "prospect_name",
            "status",
            "delivery_team",
            "rep",
            "assignee",
            "created_at",
            "submitted_at",
            "sla_due_at",
            "claimed_at",
            "accepted_at",
            "is_overdue",
            "has_leak",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_is_overdue(self, obj) -> bool:
        return bool(
            obj.status == Handoff.Status.SUBMITTED
            and obj.sla_due_at
            and obj.sla_due_at < timezone.now()
        )


class HandoffCommitmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Commitment
        fields = ["id", "description", "due_date", "status", "owner", "completed_at"]
        read_only_fields = fields


class ChangeFieldSerializer(serializers.Serializer):
    field = serializers.CharField()
    before = serializers.JSONField(allow_null=True)
    after = serializers.JSONField(allow_null=True)


class ChangeSerializer(serializers.Serializer):
    section = serializers.CharField(help_text="needs, line_items, commitments, … or pricing.")
    section_label = serializers.CharField()
    change = serializers.ChoiceField(choices=["added", "removed", "changed"])
    id = serializers.IntegerField(allow_null=True)
    # The API's names; DRF reads declared fields off the class, so shadowing is harmless.
    label = serializers.CharField()  # type: ignore[assignment]
    fields = ChangeFieldSerializer(many=True)  # type: ignore[assignment]


class HandoffDetailSerializer(HandoffListSerializer):
    package = serializers.JSONField(
        read_only=True,
        help_text=(
            "The package frozen on submit (version 1): deal, needs, line_items (with the needs "
            "they serve), open commitments, disclosures, concessions, contacts, remaining "
            "milestones, notes_for_delivery, pricing. Empty while a draft."
        ),
    )
    checklist = ChecklistItemSerializer(many=True, read_only=True)
    messages = HandoffMessageSerializer(many=True, read_only=True)
    events = HandoffEventSerializer(many=True, read_only=True)
    check_ins = CheckInSerializer(many=True, read_only=True)
    commitments = HandoffCommitmentSerializer(many=True, read_only=True, source="deal.commitments")
    changes_since_snapshot = serializers.SerializerMethodField(
        help_text="What changed on the deal since the package was frozen."
    )

    class Meta(HandoffListSerializer.Meta):
        fields = [
            *HandoffListSerializer.Meta.fields,
            "notes_for_delivery",
            "package",
            "package_version",
            "snapshot_at",
            "checklist",
            "messages",
            "events",
            "check_ins",
            "commitments",
            "changes_since_snapshot",
        ]
        read_only_fields = fields

    @extend_schema_field(ChangeSerializer(many=True))
    def get_changes_since_snapshot(self, obj):
        from .selectors import handoff_changes_since_snapshot

        return handoff_changes_since_snapshot(handoff=obj)


class SubmitSerializer(serializers.Serializer):
    notes_for_delivery = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="The rep's notes for delivery; replaces the draft's notes when given.",
    )


class AskSerializer(serializers.Serializer):
    question = serializers.CharField(help_text="The question for the rep.")


class AnswerSerializer(serializers.Serializer):
    answer = serializers.CharField(help_text="The answer for delivery.")


class CommitmentStatusSerializer(serializers.Serializer):
    commitment = serializers.IntegerField(help_text="Id of one of the deal's commitments.")
    status = serializers.ChoiceField(choices=Commitment.Status.choices)
