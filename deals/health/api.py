"""REST API of deal health: a deal's health, flags and their acknowledgement, policies.

Everything is scoped through deals.visibility: a deal or flag the user may not see is a
404; one they see but may not act on (a rep acknowledging, a manager editing the global
policy) is a 403.
"""

from __future__ import annotations

import datetime as dt

import django_filters as df
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, permissions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.filters import OrderingFilter, SearchFilter
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer
from rest_framework.views import APIView

from deals import visibility
from deals.api.filters import MAX_ID, IdFilter
from deals.models import Deal, Flag, HealthPolicy, Severity, Side
from deals.visibility import deal_scope_q
from winwin_crm.accounts.models import Team
from winwin_crm.accounts.roles import authenticated_user
from winwin_crm.api.exceptions import Conflict
from winwin_crm.api.filters import FilterParamsBackend

from .catalog import flag_advice, flag_label
from .checked import deal_checked_at, flag_last_seen_at
from .policy import EDITABLE_FIELDS, health_policy_create, health_policy_update, policy_for_team
from .preview import health_preview
from .rules import ALL_CODES
from .scoring import score
from .store import FlagNotActive, HealthResult, flag_acknowledge, health_recompute, sort_flags

# --- Serializers -------------------------------------------------------------------------


class LastSeenField(serializers.DateTimeField):
    """A flag's "last seen": annotated as `seen_at` by the flag list (deals.health.checked);
    a flag loaded otherwise went through flags_last_seen or was just written."""

    def __init__(self, **kwargs: object) -> None:
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)  # type: ignore[arg-type]

    def get_attribute(self, instance: Flag) -> dt.datetime | None:
        return getattr(instance, "seen_at", instance.last_seen_at)


class FlagSerializer(serializers.ModelSerializer):
    last_seen_at = LastSeenField(
        allow_null=True,
        help_text="When a health check last found this flag (the hourly sweep or a recompute).",
    )
    deal_title = serializers.CharField(source="deal.title", read_only=True)
    owner = serializers.IntegerField(source="deal.owner_id", read_only=True)
    team = serializers.IntegerField(source="deal.team_id", read_only=True)

    class Meta:
        model = Flag
        fields = [
            "id",
            "deal",
            "deal_title",
            "owner",
            "team",
            "code",
            "side",
            "severity",
            "message",
            "evidence",
            "status",
            "first_seen_at",
            "last_seen_at",
            "resolved_at",
            "acknowledged_at",
            "acknowledged_by",
            "acknowledge_note",
        ]
        read_only_fields = fields


class DealFlagSerializer(FlagSerializer):
    """A flag inside a deal's health: the deal is already known. A previewed flag is not
    stored: its id and timestamps are null."""

    # A field named `label` shadows Field.label in the stubs; DRF's metaclass moves declared
    # fields out of the class attributes, so nothing is shadowed at run time.
    label = serializers.SerializerMethodField(  # type: ignore[assignment]
        help_text="The flag's name in words."
    )
    advice = serializers.SerializerMethodField(help_text="What to do about it.")

    class Meta(FlagSerializer.Meta):
        fields = [
            "id",
            "code",
            "label",
            "advice",
            "side",
            "severity",
            "message",
            "evidence",
            "status",
            "first_seen_at",
            "last_seen_at",
            "acknowledged_at",
            "acknowledge_note",
        ]
        read_only_fields = fields

    def get_label(self, flag: Flag) -> str:
        return flag_label(flag.code)

    def get_advice(self, flag: Flag) -> str:
        return flag_advice(flag.code)


class BreakdownItemSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # see DealFlagSerializer
    severity = serializers.CharField()
    points = serializers.IntegerField(help_text="Negative: the points this flag costs.")


class SideBreakdownSerializer(serializers.Serializer):
    start = serializers.IntegerField(help_text="Every side starts at 100.")
    items = BreakdownItemSerializer(many=True)
    score = serializers.IntegerField(help_text="start + Σ points, never below 0.")
    threshold = serializers.IntegerField()
    critical = serializers.ListField(
        child=serializers.CharField(), help_text="Critical flags against this side."
    )
    wins = serializers.BooleanField(help_text="score ≥ threshold and no critical flag.")


class BreakdownSerializer(serializers.Serializer):
    buyer = SideBreakdownSerializer()
    seller = SideBreakdownSerializer()


class HealthSerializer(serializers.Serializer):
    deal = serializers.IntegerField()
    buyer_score = serializers.IntegerField(allow_null=True)
    seller_score = serializers.IntegerField(allow_null=True)
    balance = serializers.CharField(allow_blank=True)
    computed_at = serializers.DateTimeField(allow_null=True)
    breakdown = BreakdownSerializer(allow_null=True)
    flags = DealFlagSerializer(many=True)
    preview = serializers.CharField(
        required=False, help_text="With ?preview=STAGE: the stage this answer imagines."
    )
    new_codes = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="With ?preview: the codes the move would raise that are not active now.",
    )
    confirm_needed = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="With ?preview=closed_won: what closing asks the rep to confirm.",
    )


class AcknowledgeSerializer(serializers.Serializer):
    note = serializers.CharField(
        max_length=2000, help_text="Why this flag is acceptable for this deal."
    )


class HealthPolicySerializer(serializers.ModelSerializer):
    team = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.filter(kind=Team.Kind.SALES),
        required=False,
        allow_null=True,
        help_text="Set once, when a team's own policy is created; empty for the global one.",
    )
    pressure_phrases = serializers.ListField(
        child=serializers.CharField(max_length=100, trim_whitespace=True),
        required=False,
        help_text="Matched as whole words, case-insensitively, in rep-written notes.",
    )

    class Meta:
        model = HealthPolicy
        fields = ["id", "team", *EDITABLE_FIELDS, "updated_at", "updated_by"]
        read_only_fields = ["id", "updated_at", "updated_by"]

    def validate_team(self, team: Team | None) -> Team | None:
        if self.instance is not None and team != self.instance.team:
            raise serializers.ValidationError("A policy's team cannot change.")
        return team


# --- Deal health -------------------------------------------------------------------------


def _visible_deal(request: Request, pk: int) -> Deal:
    deals = Deal.objects.filter(deal_scope_q(request.user))
    return get_object_or_404(deals.annotate(health_checked_at=deal_checked_at()), pk=pk)


def _health_body(deal: Deal, result: HealthResult | None = None) -> dict:
    if result is not None:
        return {
            "deal": deal.id,
            "buyer_score": result.buyer_score,
            "seller_score": result.seller_score,
            "balance": result.balance,
            "computed_at": result.computed_at,
            "breakdown": result.breakdown,
            "flags": result.flags,
        }
    flags = sort_flags(
        list(
            Flag.objects.filter(deal=deal, status__in=Flag.ACTIVE_STATUSES).annotate(
                seen_at=flag_last_seen_at()
            )
        )
    )
    # The stored scores are this sum; rebuilt from the active flags and the deal's policy.
    breakdown = score(flags, policy_for_team(deal.team_id)).breakdown
    return {
        "deal": deal.id,
        "buyer_score": deal.buyer_score,
        "seller_score": deal.seller_score,
        "balance": deal.balance,
        "computed_at": getattr(deal, "health_checked_at", deal.health_computed_at),
        "breakdown": breakdown,
        "flags": flags,
    }


def _preview_body(deal: Deal, stage: str) -> dict:
    preview = health_preview(deal_id=deal.id, stages=[stage])[stage]
    return {
        "deal": deal.id,
        "buyer_score": preview.scores.buyer_score,
        "seller_score": preview.scores.seller_score,
        "balance": preview.scores.balance,
        "computed_at": None,
        "breakdown": preview.scores.breakdown,
        "flags": preview.flags,
        "preview": stage,
        "new_codes": preview.new_codes,
        "confirm_needed": [c.message for c in preview.concerns],
    }


class DealHealthView(APIView):
    serializer_class = HealthSerializer

    @extend_schema(
        summary="A deal's health: scores, their breakdown, balance and active flags",
        parameters=[
            OpenApiParameter(
                "preview",
                enum=list(Deal.Stage.values),
                description="Answer as if the deal were in this stage; nothing is stored.",
            )
        ],
    )
    def get(self, request: Request, pk: int) -> Response:
        deal = _visible_deal(request, pk)
        stage = request.query_params.get("preview")
        if stage is not None:
            if stage not in Deal.Stage.values:
                raise serializers.ValidationError(
                    {"preview": [f"Choose a stage: {', '.join(Deal.Stage.values)}."]}
                )
            return Response(HealthSerializer(_preview_body(deal, stage)).data)
        if deal.health_computed_at is None:
            # Never computed (e.g. rows loaded in bulk): compute once rather than show blanks.
            return Response(
                HealthSerializer(_health_body(deal, health_recompute(deal_id=deal.id))).data
            )
        return Response(HealthSerializer(_health_body(deal)).data)


class DealHealthRecomputeView(APIView):
    serializer_class = HealthSerializer

    @extend_schema(request=None, summary="Recompute a deal's health now and return it")
    def post(self, request: Request, pk: int) -> Response:
        deal = _visible_deal(request, pk)
        result = health_recompute(deal_id=deal.id)
        return Response(HealthSerializer(_health_body(deal, result)).data)


# --- Flags -------------------------------------------------------------------------------


class FlagFilter(df.FilterSet):
    code = df.ChoiceFilter(choices=[(c, c) for c in ALL_CODES])
    side = df.ChoiceFilter(choices=Side.choices)
    severity = df.ChoiceFilter(choices=Severity.choices)
    status = df.ChoiceFilter(
        choices=[*Flag.Status.choices, ("active", "Active (open or acknowledged)")],
        method="filter_status",
    )
    # Bounded integer ids: a huge or fractional id is a 400, not a database overflow (500).
    owner = IdFilter(
        field_name="deal__owner_id", min_value=1, max_value=MAX_ID,
        help_text="The deal owner's user id.",
    )  # fmt: skip
    deal = IdFilter(field_name="deal_id", min_value=1, max_value=MAX_ID)
    team = IdFilter(field_name="deal__team_id", min_value=1, max_value=MAX_ID)

    class Meta:
        model = Flag
        fields = ["code", "side", "severity", "status", "owner", "deal", "team"]

    def filter_status(self, queryset: QuerySet[Flag], name: str, value: str) -> QuerySet[Flag]:
        if value == "active":
            return queryset.filter(status__in=Flag.ACTIVE_STATUSES)
        return queryset.filter(status=value)


class FlagOrdering(OrderingFilter):
    """`?ordering=last_seen_at` orders by the derived "last seen" the flags show."""

    def get_ordering(self, request: Request, queryset: QuerySet, view: APIView) -> list[str]:
        ordering = super().get_ordering(request, queryset, view) or []
        return [term.replace("last_seen_at", "seen_at") for term in ordering]


@extend_schema_view(
    list=extend_schema(summary="List flags on deals you may see"),
    retrieve=extend_schema(summary="Get one flag"),
)
class FlagViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = FlagSerializer
    filterset_class = FlagFilter
    filter_backends = [FilterParamsBackend, FlagOrdering, SearchFilter]
    ordering_fields = ["last_seen_at", "first_seen_at", "severity", "code"]
    search_fields: list[str] = []

    def get_queryset(self) -> QuerySet[Flag]:
        return (
            Flag.objects.filter(deal_scope_q(self.request.user, prefix="deal__"))
            .select_related("deal")
            .annotate(seen_at=flag_last_seen_at())
            .order_by("-seen_at", "-id")
        )

    @extend_schema(
        request=AcknowledgeSerializer,
        responses={
            200: FlagSerializer,
            403: OpenApiResponse(description="Only managers of the deal's team and admins."),
            409: OpenApiResponse(
                description="The flag is resolved, or was acknowledged since you read it."
            ),
        },
        summary="Acknowledge a flag with a note (managers)",
    )
    @action(detail=True, methods=["post"], serializer_class=AcknowledgeSerializer)
    def acknowledge(self, request: Request, pk: int | None = None) -> Response:
        flag = self.get_object()
        body = AcknowledgeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            flag = flag_acknowledge(
                flag=flag, user=authenticated_user(request), note=body.validated_data["note"]
            )
        except FlagNotActive as exc:
            raise Conflict(str(exc)) from exc
        return Response(FlagSerializer(flag).data)


# --- Health policies ---------------------------------------------------------------------


class IsManagerOrAdmin(permissions.BasePermission):
    message = "Only managers and admins work with health policies."

    def has_permission(self, request: Request, view: APIView) -> bool:
        return visibility.user_can_work_with_policies(request.user)


@extend_schema_view(
    list=extend_schema(summary="Health policies: the global one and your teams' own"),
    retrieve=extend_schema(summary="Get one health policy"),
    create=extend_schema(summary="Give a sales team its own policy (starts from the global)"),
    update=extend_schema(summary="Replace a policy's thresholds"),
    partial_update=extend_schema(summary="Change a policy's thresholds"),
)
class HealthPolicyViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = HealthPolicySerializer
    permission_classes = [permissions.IsAuthenticated, IsManagerOrAdmin]
    filterset_fields = ["team"]

    def get_queryset(self) -> QuerySet[HealthPolicy]:
        qs = HealthPolicy.objects.select_related("team").order_by("team_id", "id")
        return qs.filter(visibility.policy_scope_q(self.request.user))

    def perform_create(self, serializer: BaseSerializer[HealthPolicy]) -> None:
        data = dict(serializer.validated_data)
        team = data.pop("team", None)
        if team is None:
            raise serializers.ValidationError({"team": ["Name the sales team this policy is for."]})
        serializer.instance = health_policy_create(
            user=authenticated_user(self.request), team=team, **data
        )

    def perform_update(self, serializer: BaseSerializer[HealthPolicy]) -> None:
        data = dict(serializer.validated_data)
        data.pop("team", None)
        policy = serializer.instance
        assert policy is not None  # an update always has the object it updates
        serializer.instance = health_policy_update(
            policy=policy, user=authenticated_user(self.request), **data
        )
