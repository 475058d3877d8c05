"""REST views of the sales side. Each validates with its serializer, reads through a
selector (so what a user may not see is a 404), calls one service, and serializes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.filters import SearchFilter
from rest_framework.response import Response
from rest_framework.settings import api_settings

from deals import selectors, services, visibility
from deals.api import filters, serializers
from deals.visibility import user_can_edit_deal
from winwin_crm.api.filters import FilterParamsBackend, StableOrderingFilter
from winwin_crm.api.pagination import EstimatedCountPagination, ProjectedRows

CONFLICT = OpenApiResponse(
    serializers.ConflictSerializer, description="The deal changed since you read it."
)
IF_MATCH = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description='The deal\'s ETag (`"<version>"`) instead of `version` in the body.',
)


def version_from_if_match(request) -> int | None:
    """The version an `If-Match: "7"` (or W/"7") header names; None when absent or not
    a version (then the body's `version` is needed)."""
    value = request.headers.get("If-Match", "").strip()
    if value.startswith("W/"):
        value = value[2:]
    value = value.strip('"')
    return int(value) if value.isascii() and value.isdigit() and len(value) < 12 else None


def _with_version(request, deal, data: dict, *, may_write: bool | None = None) -> dict:
    """Every API update of a deal names the version it read: in the body or If-Match.
    (Who may not change the deal at all hears that first: 403, not 400; `may_write` is
    for a write whose own rule is wider than editing, which its service then decides.)"""
    if may_write is None:
        may_write = user_can_edit_deal(request.user, deal)
    if not may_write:
        raise PermissionDenied("You can view this deal but not change it.")
    if data.get("version") is None:
        data["version"] = version_from_if_match(request)
    if data["version"] is None:
        raise ValidationError(
            {"version": ["Send the version you read (or an If-Match header) with every update."]}
        )
    return data


class DomainViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """CRUD over a scoped selector; writes go to the services named by each subclass."""

    selector: Callable[..., QuerySet[Any]] | None = None
    http_method_names = ["get", "post", "patch", "put", "delete", "head", "options"]

    def get_queryset(self):
        return type(self).selector(user=self.request.user)

    def handle_exception(self, exc):
        if isinstance(exc, services.DealVersionConflict):
            return Response(
                {"detail": str(exc), "current_version": exc.current_version},
                status=status.HTTP_409_CONFLICT,
            )
        return super().handle_exception(exc)

    def perform_create(self, serializer):
        serializer.instance = self.create_object(dict(serializer.validated_data))

    def perform_update(self, serializer):
        serializer.instance = self.update_object(
            serializer.instance, dict(serializer.validated_data)
        )

    def perform_destroy(self, instance):
        self.delete_object(instance)

    def create_object(self, data):
        raise NotImplementedError

    def update_object(self, instance, data):
        raise NotImplementedError

    def delete_object(self, instance):
        raise NotImplementedError


def _doc(noun: str, plural: str, **extra):
    """OpenAPI summaries for a resource's standard actions."""
    docs = {
        "list": extend_schema(summary=f"List {plural} you may see"),
        "retrieve": extend_schema(summary=f"Get one {noun}"),
        "create": extend_schema(summary=f"Create a {noun}"),
        "update": extend_schema(summary=f"Replace a {noun}"),
        "partial_update": extend_schema(summary=f"Change a {noun}"),
        "destroy": extend_schema(summary=f"Delete a {noun}"),
    }
    docs.update(extra)
    return extend_schema_view(**docs)


@_doc("prospect", "prospects")
class ProspectViewSet(DomainViewSet):
    """Buying organisations of your sales team(s)."""

    selector = staticmethod(selectors.prospect_list)
    serializer_class = serializers.ProspectSerializer
    filterset_class = filters.ProspectFilter
    ordering_fields = ["name", "created_at", "updated_at", "id"]
    ordering = ["name", "id"]
    search_fields = ["name", "industry"]
    http_method_names = ["get", "post", "patch", "put", "head", "options"]

    def create_object(self, data):
        return services.prospect_create(user=self.request.user, **data)

    def update_object(self, instance, data):
        return services.prospect_update(prospect=instance, user=self.request.user, **data)


@_doc("contact", "contacts")
class ContactViewSet(DomainViewSet):
    """People at prospects and their role in the buying decision."""

    selector = staticmethod(selectors.contact_list)
    serializer_class = serializers.ContactSerializer
    filterset_class = filters.ContactFilter
    ordering_fields = ["name", "created_at", "id"]
    ordering = ["name", "id"]
    search_fields = ["name", "email", "title"]

    def create_object(self, data):
        return services.contact_create(user=self.request.user, **data)

    def update_object(self, instance, data):
        return services.contact_update(contact=instance, user=self.request.user, **data)

    def delete_object(self, instance):
        services.contact_delete(contact=instance, user=self.request.user)


@_doc("need", "needs")
class NeedViewSet(DomainViewSet):
    """The buyer's goals, problems, interests and dreams, with their importance (1–5)."""

    selector = staticmethod(selectors.need_list)
    serializer_class = serializers.NeedSerializer
    filterset_class = filters.NeedFilter
    ordering_fields = ["importance", "created_at", "id"]
    ordering = ["-importance", "id"]
    search_fields = ["statement"]

    def create_object(self, data):
        return services.need_create(user=self.request.user, **data)

    def update_object(self, instance, data):
        return services.need_update(need=instance, user=self.request.user, **data)

    def delete_object(self, instance):
        services.need_delete(need=instance, user=self.request.user)


@_doc("discovery call", "discovery calls")
class DiscoveryCallViewSet(DomainViewSet):
    """Discovery calls. Creating one may create its needs and buyer milestones in the same
    transaction; an error in any row (keyed like `needs[1].importance`) writes nothing."""

    selector = staticmethod(selectors.discovery_call_list)
    serializer_class = serializers.DiscoveryCallSerializer
    filterset_class = filters.DiscoveryCallFilter
    ordering_fields = ["held_at", "created_at", "id"]
    ordering = ["-held_at", "-id"]

    def create_object(self, data):
        attendees = data.pop("attendees", [])
        return services.discovery_call_create(
            user=self.request.user,
            attendee_ids=[c.pk for c in attendees],
            **data,
        )

    def update_object(self, instance, data):
        if "attendees" in data:
            data["attendee_ids"] = [c.pk for c in data.pop("attendees")]
        return services.discovery_call_update(
            discovery_call=instance, user=self.request.user, **data
        )

    def delete_object(self, instance):
        services.discovery_call_delete(discovery_call=instance, user=self.request.user)


@_doc(
    "deal",
    "deals",
    update=extend_schema(
        summary="Replace a deal",
        parameters=[IF_MATCH],
        responses={200: serializers.DealSerializer, 409: CONFLICT},
    ),
    partial_update=extend_schema(
        summary="Change a deal",
        parameters=[IF_MATCH],
        responses={200: serializers.DealSerializer, 409: CONFLICT},
    ),
)
class DealViewSet(DomainViewSet):
    """Deals you may see: reps their own, managers their teams', delivery their handoffs'.
    Updates carry `version`; a stale one answers 409 with `current_version`."""

    selector = staticmethod(selectors.deal_list)
    serializer_class = serializers.DealSerializer
    filterset_class = filters.DealFilter
    ordering_fields = [
        "updated_at", "created_at", "expected_close_date", "title", "stage", "net_total",
        "list_total", "buyer_score", "seller_score", "last_buyer_contact_at", "id",
        "stage_changed_at",
    ]  # fmt: skip
    ordering = ["-updated_at", "-id"]
    search_fields = ["title", "prospect__name"]
    # Deeper pages are read by id (ProjectedRows): every ordering must be total.
    filter_backends = [FilterParamsBackend, StableOrderingFilter, SearchFilter]
    http_method_names = ["get", "post", "patch", "put", "head", "options"]
    # A long list's count is estimated and says so (`count_estimated`).
    pagination_class = EstimatedCountPagination

    def get_queryset(self):
        from deals.health.checked import deal_checked_at

        # "health_computed_at" in the API is when health was last checked (see the field).
        return super().get_queryset().annotate(health_checked_at=deal_checked_at())

    def list(self, request, *args, **kwargs):
        # Same filters, ordering, search and pagination as every list; the page is read as
        # plain rows and written by the lean read-only DealListSerializer.
        # The list's own queryset has no "checked at": the count and the deeper pages' ids
        # do not need it, and DealListSerializer.rows adds it to the page's projection.
        queryset = self.filter_queryset(super().get_queryset())
        rows = ProjectedRows(
            queryset,
            serializers.DealListSerializer.rows,
            exact_count_limit=EstimatedCountPagination.exact_count_limit,
            exact_count=self._count_from_sums(),
        )
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(serializers.DealListSerializer(page, many=True).data)

    # The DealFilter parameters whose columns the dashboard's deal sums carry (team, owner,
    # stage and balance): a long list narrowed only by these is counted exactly from them.
    COUNTED_FROM_SUMS = frozenset({"owner", "team", "stage", "balance", "is_open", "scored"})

    def _count_from_sums(self) -> Callable[[], int | None] | None:
        """The list's exact count from the dashboard's deal sums, for a scope and filters
        those can answer (deals.dashboard.selectors.live_deal_count; the same DealFilter
        narrows them); None when they cannot (a search, a date range, a delivery user)."""
        from deals.dashboard.selectors import live_deal_count

        params = self.request.query_params
        asked = {p for p in params if p in filters.DealFilter.base_filters}
        if params.get(api_settings.SEARCH_PARAM) or not asked <= self.COUNTED_FROM_SUMS:
            return None
        scope = visibility.deal_scope_by_team_and_owner_q(self.request.user)
        if scope is None:
            return None

        def narrow(sums: QuerySet) -> QuerySet:
            sums = sums.filter(scope)
            if not asked:
                return sums
            return filters.DealFilter(params, queryset=sums, request=self.request).qs

        # what `narrow` keeps, for the compiled statement's reuse: the scope and filters
        key = (repr(scope), tuple(sorted((p, tuple(params.getlist(p))) for p in asked)))
        return lambda: live_deal_count(narrow, key=key)

    def create_object(self, data):
        data.pop("version", None)
        data.pop("lost_reason", None)
        data.pop("confirm", None)
        data.pop("reason", None)
        return services.deal_create(user=self.request.user, **data)

    def update_object(self, instance, data):
        data = _with_version(self.request, instance, data)
        return services.deal_update(deal=instance, user=self.request.user, **data)

    def retrieve(self, request, *args, **kwargs):
        response = super().retrieve(request, *args, **kwargs)
        response["ETag"] = f'"{response.data["version"]}"'
        return response

    @extend_schema(
        summary="Move a deal to another stage",
        parameters=[IF_MATCH],
        request=serializers.DealStageSerializer,
        responses={200: serializers.DealSerializer, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"], serializer_class=serializers.DealStageSerializer)
    def stage(self, request, pk=None):
        deal = self.get_object()
        payload = serializers.DealStageSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = _with_version(request, deal, dict(payload.validated_data))
        deal = services.deal_change_stage(deal=deal, user=request.user, **data)
        return Response(
            serializers.DealSerializer(deal, context=self.get_serializer_context()).data
        )

    @extend_schema(
        summary="Reopen a closed deal",
        parameters=[IF_MATCH],
        request=serializers.DealReopenSerializer,
        responses={200: serializers.DealSerializer, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"], serializer_class=serializers.DealReopenSerializer)
    def reopen(self, request, pk=None):
        deal = self.get_object()
        payload = serializers.DealReopenSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        # A handed-off deal also reopens for a manager of its team (deal_reopen decides).
        may_reopen = user_can_edit_deal(
            request.user, deal
        ) or visibility.user_can_reopen_handed_off_deal(request.user, deal)
        data = _with_version(request, deal, dict(payload.validated_data), may_write=may_reopen)
        deal = services.deal_reopen(deal=deal, user=request.user, **data)
        return Response(
            serializers.DealSerializer(deal, context=self.get_serializer_context()).data
        )

    @extend_schema(
        summary="Change history of a deal and its line items, concessions and commitments",
        responses=serializers.HistoryEntrySerializer(many=True),
        filters=False,
    )
    @action(
        detail=True,
        methods=["get"],
        serializer_class=serializers.HistoryEntrySerializer,
        filterset_class=None,
        pagination_class=None,
    )
    def history(self, request, pk=None):
        deal = self.get_object()
        entries = selectors.deal_history(deal=deal)
        return Response(serializers.HistoryEntrySerializer(entries, many=True).data)


@_doc("line item", "line items")
class LineItemViewSet(DomainViewSet):
    """Proposal items. `needs` lists the ids of the needs each item serves; writes refresh
    the deal's list/net/cost totals."""

    selector = staticmethod(selectors.line_item_list)
    serializer_class = serializers.LineItemSerializer
    filterset_class = filters.LineItemFilter
    ordering_fields = ["id", "name", "created_at", "unit_price"]
    ordering = ["id"]
    search_fields = ["name"]

    def create_object(self, data):
        needs = data.pop("needs", [])
        return services.line_item_create(
            user=self.request.user, need_ids=[n.pk for n in needs], **data
        )

    def update_object(self, instance, data):
        if "needs" in data:
            data["need_ids"] = [n.pk for n in data.pop("needs")]
        return services.line_item_update(line_item=instance, user=self.request.user, **data)

    def delete_object(self, instance):
        services.line_item_delete(line_item=instance, user=self.request.user)


@_doc("buyer milestone", "buyer milestones")
class MilestoneViewSet(DomainViewSet):
    """The mutual plan: the buyer's decision steps (and the seller's). PATCH `completed`."""

    selector = staticmethod(selectors.milestone_list)
    serializer_class = serializers.MilestoneSerializer
    filterset_class = filters.MilestoneFilter
    ordering_fields = ["due_date", "created_at", "id"]
    ordering = ["due_date", "id"]

    def create_object(self, data):
        completed = data.pop("completed", False)
        milestone = services.milestone_create(user=self.request.user, **data)
        if completed:
            milestone = services.milestone_set_completed(
                milestone=milestone, user=self.request.user, completed=True
            )
        return milestone

    def update_object(self, instance, data):
        return services.milestone_update(milestone=instance, user=self.request.user, **data)

    def delete_object(self, instance):
        services.milestone_delete(milestone=instance, user=self.request.user)


@_doc("activity", "activities")
class ActivityViewSet(DomainViewSet):
    """Calls, emails, meetings, notes and support requests, and who started them."""

    selector = staticmethod(selectors.activity_list)
    serializer_class = serializers.ActivitySerializer
    filterset_class = filters.ActivityFilter
    ordering_fields = ["occurred_at", "created_at", "id"]
    ordering = ["-occurred_at", "-id"]
    search_fields = ["notes"]

    def create_object(self, data):
        return services.activity_log(user=self.request.user, **data)

    def update_object(self, instance, data):
        return services.activity_update(activity=instance, user=self.request.user, **data)

    def delete_object(self, instance):
        services.activity_delete(activity=instance, user=self.request.user)


@_doc("concession", "concessions")
class ConcessionViewSet(DomainViewSet):
    """Price cuts and value adds; writes refresh the deal's net and cost totals."""

    selector = staticmethod(selectors.concession_list)
    serializer_class = serializers.ConcessionSerializer
    filterset_class = filters.ConcessionFilter
    ordering_fields = ["id", "created_at", "amount"]
    ordering = ["id"]

    def create_object(self, data):
        return services.concession_add(user=self.request.user, **data)

    def update_object(self, instance, data):
        return services.concession_update(concession=instance, user=self.request.user, **data)

    def delete_object(self, instance):
        services.concession_delete(concession=instance, user=self.request.user)


@_doc("commitment", "commitments")
class CommitmentViewSet(DomainViewSet):
    """Promises to the buyer; open ones travel into the handoff. After acceptance the
    delivery team may change a commitment's status."""

    selector = staticmethod(selectors.commitment_list)
    serializer_class = serializers.CommitmentSerializer
    filterset_class = filters.CommitmentFilter
    ordering_fields = ["due_date", "created_at", "id"]
    ordering = ["due_date", "id"]
    http_method_names = ["get", "post", "patch", "put", "head", "options"]

    def create_object(self, data):
        data.pop("status", None)
        return services.commitment_add(user=self.request.user, **data)

    def update_object(self, instance, data):
        return services.commitment_update(commitment=instance, user=self.request.user, **data)


@_doc("disclosure", "disclosures")
class DisclosureViewSet(DomainViewSet):
    """What was openly told to the buyer: limitations, risks, alternatives, pricing."""

    selector = staticmethod(selectors.disclosure_list)
    serializer_class = serializers.DisclosureSerializer
    filterset_class = filters.DisclosureFilter
    ordering_fields = ["id", "created_at"]
    ordering = ["id"]

    def create_object(self, data):
        return services.disclosure_add(user=self.request.user, **data)

    def update_object(self, instance, data):
        return services.disclosure_update(disclosure=instance, user=self.request.user, **data)

    def delete_object(self, instance):
        services.disclosure_delete(disclosure=instance, user=self.request.user)
