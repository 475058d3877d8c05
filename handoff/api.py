"""REST endpoints for handoffs, their checklist items and check-ins.

Views fetch through handoff.selectors (so an object the user may not see is a 404), call
one service and serialize. Service refusals map to DRF's error shapes: PermissionDenied →
403, HandoffTransitionError → 409, ValidationError → 400 with field errors.
"""

from __future__ import annotations

import django_filters
from django.db.models import Prefetch
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from deals.models import Commitment
from winwin_crm.api.exceptions import Conflict

from . import selectors, services
from .models import CheckIn, Handoff
from .serializers import (
    AnswerSerializer,
    AskSerializer,
    CheckInSerializer,
    ChecklistItemSerializer,
    ChecklistItemSetSerializer,
    CommitmentStatusSerializer,
    HandoffCommitmentSerializer,
    HandoffDetailSerializer,
    HandoffListSerializer,
    SubmitSerializer,
)

REFUSALS = {
    400: OpenApiResponse(description="Invalid input: `{field: [messages]}`."),
    403: OpenApiResponse(description="You may see this handoff but not do this to it."),
    404: OpenApiResponse(description="No such handoff, or not one you can see."),
    409: OpenApiResponse(description="The handoff's state does not allow this: `{detail}`."),
}


def _run(service, **kwargs):
    try:
        return service(**kwargs)
    except services.HandoffTransitionError as exc:
        raise Conflict(str(exc)) from exc


class HandoffFilter(django_filters.FilterSet):
    overdue = django_filters.BooleanFilter(
        method="filter_overdue",
        label="Submitted and not claimed by its SLA due time (true) or not (false).",
    )

    class Meta:
        model = Handoff
        fields = ["deal", "status", "delivery_team", "assignee", "rep"]

    def filter_overdue(self, queryset, name, value):
        overdue = {"status": Handoff.Status.SUBMITTED, "sla_due_at__lt": timezone.now()}
        return queryset.filter(**overdue) if value else queryset.exclude(**overdue)


def _detail_queryset(queryset):
    return queryset.prefetch_related(
        "checklist",
        "messages",
        "events",
        "check_ins__need_values",
        "check_ins__promises",
        Prefetch("deal__commitments", queryset=Commitment.objects.order_by("due_date", "id")),
    )


@extend_schema_view(
    list=extend_schema(
        summary="List handoffs",
        description=(
            "Handoffs you may see: delivery sees its delivery teams' queue, reps their own "
            "deals', managers their teams'. Filter with `?deal=`, `?status=`, "
            "`?delivery_team=`, `?assignee=`, `?overdue=true`."
        ),
    ),
    retrieve=extend_schema(
        summary="A handoff with its package",
        description=(
            "The frozen package, checklist, question thread, transitions, check-ins, the "
            "deal's commitments and what changed on the deal since the snapshot."
        ),
    ),
)
class HandoffViewSet(viewsets.ReadOnlyModelViewSet):
    """Closed-won deals handed to delivery: draft → submitted → claimed → (needs_info ↔
    claimed) → accepted."""

    filterset_class = HandoffFilter
    ordering_fields = ["created_at", "submitted_at", "sla_due_at", "accepted_at"]
    search_fields = ["deal__title", "deal__prospect__name"]

    def get_queryset(self):
        queryset = selectors.handoff_list(user=self.request.user)
        if self.action != "list":
            queryset = _detail_queryset(queryset)
        return queryset

    def get_serializer_class(self):
        return HandoffListSerializer if self.action == "list" else HandoffDetailSerializer

    def _respond(self, handoff):
        fresh = _detail_queryset(selectors.handoff_list(user=self.request.user)).get(pk=handoff.pk)
        return Response(HandoffDetailSerializer(fresh, context=self.get_serializer_context()).data)

    @extend_schema(
        summary="Submit the handoff (the deal's rep)",
        description=(
            "Freezes the package and puts the handoff in its delivery team's queue with an "
            "SLA due time; emails the team. Every required checklist item must be ticked: "
            "otherwise 400 with `checklist` naming the unticked items."
        ),
        request=SubmitSerializer,
        responses={200: HandoffDetailSerializer, **REFUSALS},
    )
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        handoff = self.get_object()
        body = SubmitSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        handoff = _run(
            services.handoff_submit,
            handoff=handoff,
            user=request.user,
            notes_for_delivery=body.validated_data.get("notes_for_delivery"),
        )
        return self._respond(handoff)

    @extend_schema(
        summary="Claim the handoff (delivery team member)",
        description="A member of the handoff's delivery team takes a submitted handoff on.",
        request=None,
        responses={200: HandoffDetailSerializer, **REFUSALS},
    )
    @action(detail=True, methods=["post"])
    def claim(self, request, pk=None):
        handoff = _run(services.handoff_claim, handoff=self.get_object(), user=request.user)
        return self._respond(handoff)

    @extend_schema(
        summary="Ask the rep a question (assignee)",
        description="Adds the question to the thread, moves to needs_info, emails the rep.",
        request=AskSerializer,
        responses={200: HandoffDetailSerializer, **REFUSALS},
    )
    @action(detail=True, methods=["post"])
    def ask(self, request, pk=None):
        handoff = self.get_object()
        body = AskSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        handoff = _run(
            services.handoff_ask,
            handoff=handoff,
            user=request.user,
            question=body.validated_data["question"],
        )
        return self._respond(handoff)

    @extend_schema(
        summary="Answer delivery's question (the deal's rep)",
        description="Adds the answer to the thread and hands the handoff back (claimed).",
        request=AnswerSerializer,
        responses={200: HandoffDetailSerializer, **REFUSALS},
    )
    @action(detail=True, methods=["post"])
    def answer(self, request, pk=None):
        handoff = self.get_object()
        body = AnswerSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        handoff = _run(
            services.handoff_answer,
            handoff=handoff,
            user=request.user,
            answer=body.validated_data["answer"],
        )
        return self._respond(handoff)

    @extend_schema(
        summary="Accept the handoff (assignee)",
        description=(
            "Delivery takes over the customer: open commitments become the accepting "
            "user's, and check-ins are scheduled 30, 90 and 180 days out."
        ),
        request=None,
        responses={200: HandoffDetailSerializer, **REFUSALS},
    )
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        handoff = _run(services.handoff_accept, handoff=self.get_object(), user=request.user)
        return self._respond(handoff)

    @extend_schema(
        summary="Mark one of the deal's commitments done or broken (delivery)",
        description="After acceptance the delivery team keeps the deal's promises.",
        request=CommitmentStatusSerializer,
        responses={200: HandoffCommitmentSerializer, **REFUSALS},
    )
    @action(detail=True, methods=["post"], url_path="commitment-status")
    def commitment_status(self, request, pk=None):
        handoff = self.get_object()
        body = CommitmentStatusSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        commitment = Commitment.objects.filter(
            pk=body.validated_data["commitment"], deal_id=handoff.deal_id
        ).first()
        if commitment is None:
            return Response({"commitment": ["Not a commitment of this deal."]}, status=400)
        commitment = _run(
            services.handoff_commitment_set_status,
            commitment=commitment,
            user=request.user,
            status=body.validated_data["status"],
        )
        return Response(HandoffCommitmentSerializer(commitment).data)


@extend_schema_view(
    list=extend_schema(
        summary="List handoff checklist items",
        description="Checklist items of the handoffs you may see; filter with `?handoff=`.",
    ),
    retrieve=extend_schema(summary="A handoff checklist item"),
    partial_update=extend_schema(
        summary="Tick or untick a checklist item (the deal's rep, draft handoffs only)",
        request=ChecklistItemSetSerializer,
        responses={200: ChecklistItemSerializer, **REFUSALS},
    ),
)
class ChecklistItemViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """The rep's checklist before submitting a handoff."""

    serializer_class = ChecklistItemSerializer
    filterset_fields = ["handoff"]
    http_method_names = ["get", "patch", "head", "options"]

    def get_queryset(self):
        return selectors.checklist_item_list(user=self.request.user)

    def partial_update(self, request, *args, **kwargs):
        item = self.get_object()
        body = ChecklistItemSetSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        item = _run(
            services.checklist_item_set,
            item=item,
            user=request.user,
            checked=body.validated_data["checked"],
            override_reason=body.validated_data["override_reason"],
        )
        return Response(ChecklistItemSerializer(item).data)


class CheckInFilter(django_filters.FilterSet):
    deal = django_filters.NumberFilter(field_name="handoff__deal", label="Deal id.")
    completed = django_filters.BooleanFilter(
        field_name="completed_at", lookup_expr="isnull", exclude=True, label="Recorded yet?"
    )

    class Meta:
        model = CheckIn
        fields = ["handoff", "deal", "completed", "day_offset"]


@extend_schema_view(
    list=extend_schema(
        summary="List check-ins",
        description=(
            "Post-close check-ins of the handoffs you may see (30, 90, 180 days after "
            "acceptance). Filter with `?handoff=`, `?deal=`, `?completed=`."
        ),
    ),
    retrieve=extend_schema(summary="A check-in"),
    update=extend_schema(
        summary="Record a check-in (delivery team member)",
        description=(
            "`need_values` (value received per need sold, 1–5) and/or `customer_value` 1–5 "
            "(is the customer getting the value they bought? defaults to the mean per need), "
            "`promises` (each commitment kept / missed / not_due; a missed one reopens and "
            "raises COMMITMENT_OVERDUE until done), `account_health` for the seller, "
            "`referrals`, `notes`. Recording again corrects it."
        ),
        responses={200: CheckInSerializer, **REFUSALS},
    ),
    partial_update=extend_schema(
        summary="Record part of a check-in (delivery team member)",
        responses={200: CheckInSerializer, **REFUSALS},
    ),
)
class CheckInViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """After acceptance: the after-the-fact win-win outcome of a deal."""

    serializer_class = CheckInSerializer
    filterset_class = CheckInFilter
    ordering_fields = ["due_date", "completed_at"]

    def get_queryset(self):
        return selectors.check_in_list(user=self.request.user)

    def update(self, request, *args, **kwargs):
        check_in = self.get_object()
        serializer = self.get_serializer(
            check_in, data=request.data, partial=kwargs.get("partial", False)
        )
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        check_in = _run(
            services.check_in_record,
            check_in=check_in,
            user=request.user,
            customer_value=data.get("customer_value", check_in.customer_value),
            account_health=data.get("account_health", check_in.account_health),
            referrals=data.get("referrals", check_in.referrals),
            notes=data.get("notes", check_in.notes),
            need_values={v["need_id"]: v["value"] for v in data.get("need_values", [])},
            promises={p["commitment_id"]: p["status"] for p in data.get("promises", [])},
        )
        return Response(self.get_serializer(check_in).data)
