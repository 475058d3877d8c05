"""REST API of deal health: a deal's health, flags and their acknowledgement, policies.

Everything is scoped through deals.visibility: a deal or flag the user may not see is a
404; one they see but may not act on (a rep acknowledging, a manager editing the global
policy) is a 403.
"""

from __future__ import annotations

import django_filters as df
from django.db.models import Q
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from deals.api.filters import MAX_ID, IdFilter
from deals.models import Deal, Flag, HealthPolicy, Severity, Side
from deals.visibility import deal_scope_q, managed_team_ids
from winwin_crm.accounts.models import Team
from winwin_crm.accounts.roles import MANAGER, is_admin, roles_of
from winwin_crm.api.exceptions import Conflict

from .policy import EDITABLE_FIELDS, health_policy_create, health_policy_update
from .rules import ALL_CODES
from .store import FlagNotActive, flag_acknowledge, health_recompute, sort_flags

# --- Serializers -------------------------------------------------------------------------


class FlagSerializer(serializers.ModelSerializer):
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
    """A flag inside a deal's health: the deal is already known."""

    class Meta(FlagSerializer.Meta):
        fields = [
            "id",
            "code",
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


class HealthSerializer(serializers.Serializer):
    deal = serializers.IntegerField()
    buyer_score = serializers.IntegerField(allow_null=True)
    seller_score = serializers.IntegerField(allow_null=True)
    balance = serializers.CharField(allow_blank=True)
    computed_at = serializers.DateTimeField(allow_null=True)
    flags = DealFlagSerializer(many=True)


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

    def validate_team(self, team):
        if self.instance is not None and team != self.instance.team:
            raise serializers.ValidationError("A policy's team cannot change.")
        return team


# --- Deal health -------------------------------------------------------------------------


def _visible_deal(request, pk) -> Deal:
    return get_object_or_404(Deal.objects.filter(deal_scope_q(request.user)), pk=pk)


def _health_body(deal: Deal, result=None) -> dict:
    if result is not None:
        return {
            "deal": deal.id,
            "buyer_score": result.buyer_score,
            "seller_score": result.seller_score,
            "balance": result.balance,
            "computed_at": result.computed_at,
            "flags": result.flags,
        }
    flags = Flag.objects.filter(deal=deal, status__in=Flag.ACTIVE_STATUSES)
    return {
        "deal": deal.id,
        "buyer_score": deal.buyer_score,
        "seller_score": deal.seller_score,
        "balance": deal.balance,
        "computed_at": deal.health_computed_at,
        "flags": sort_flags(list(flags)),
    }


class DealHealthView(APIView):
    serializer_class = HealthSerializer

    @extend_schema(summary="A deal's health: scores, balance and active flags with evidence")
    def get(self, request, pk):
        deal = _visible_deal(request, pk)
        if deal.health_computed_at is None:
            # Never computed (e.g. rows loaded in bulk): compute once rather than show blanks.
            return Response(
                HealthSerializer(_health_body(deal, health_recompute(deal_id=deal.id))).data
            )
        return Response(HealthSerializer(_health_body(deal)).data)


class DealHealthRecomputeView(APIView):
    serializer_class = HealthSerializer

    @extend_schema(request=None, summary="Recompute a deal's health now and return it")
    def post(self, request, pk):
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

    def filter_status(self, queryset, name, value):
        if value == "active":
            return queryset.filter(status__in=Flag.ACTIVE_STATUSES)
        return queryset.filter(status=value)


@extend_schema_view(
    list=extend_schema(summary="List flags on deals you may see"),
    retrieve=extend_schema(summary="Get one flag"),
)
class FlagViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = FlagSerializer
    filterset_class = FlagFilter
    ordering_fields = ["last_seen_at", "first_seen_at", "severity", "code"]
    search_fields = []

    def get_queryset(self):
        return (
            Flag.objects.filter(deal_scope_q(self.request.user, prefix="deal__"))
            .select_related("deal")
            .order_by("-last_seen_at", "-id")
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
    def acknowledge(self, request, pk=None):
        flag = self.get_object()
        body = AcknowledgeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            flag = flag_acknowledge(flag=flag, user=request.user, note=body.validated_data["note"])
        except FlagNotActive as exc:
            raise Conflict(str(exc)) from exc
        return Response(FlagSerializer(flag).data)


# --- Health policies ---------------------------------------------------------------------


class IsManagerOrAdmin(permissions.BasePermission):
    message = "Only managers and admins work with health policies."

    def has_permission(self, request, view):
        user = request.user
        return bool(user.is_authenticated and (is_admin(user) or MANAGER in roles_of(user)))


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

    def get_queryset(self):
        user = self.request.user
        qs = HealthPolicy.objects.select_related("team").order_by("team_id", "id")
        if is_admin(user):
            return qs
        # Managers read the global policy (what applies when their team has none).
        return qs.filter(Q(team__isnull=True) | Q(team_id__in=managed_team_ids(user)))

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        team = data.pop("team", None)
        if team is None:
            raise serializers.ValidationError({"team": ["Name the sales team this policy is for."]})
        if HealthPolicy.objects.filter(team=team).exists():
            raise serializers.ValidationError(
                {"team": ["This team already has a policy; change that one instead."]}
            )
        serializer.instance = health_policy_create(user=self.request.user, team=team, **data)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("team", None)
        serializer.instance = health_policy_update(
            policy=serializer.instance, user=self.request.user, **data
        )
