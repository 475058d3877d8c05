"""`/api/v1/buyer-shares/` for reps: share a deal's room with a contact, list, revoke,
re-send. The buyer's own endpoints are the pages under /buyer/<token>/ (see schema.py)."""

from __future__ import annotations

import django_filters as df
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from deals import selectors as deal_selectors
from deals.visibility import deal_scope_q

from . import services
from .models import BuyerShare


class BuyerShareSerializer(serializers.ModelSerializer):
    deal = serializers.PrimaryKeyRelatedField(queryset=deal_selectors.Deal.objects.none())
    url = serializers.SerializerMethodField(
        help_text="The buyer's absolute link, holding the token: only in the answer to a "
        "create or a re-send (the token is stored only as a hash)."
    )

    class Meta:
        model = BuyerShare
        fields = [
            "id",
            "deal",
            "contact",
            "check_in",
            "url",
            "created_at",
            "sent_at",
            "expires_at",
            "revoked_at",
            "opens",
            "last_opened_at",
        ]
        read_only_fields = [
            "check_in",
            "created_at",
            "sent_at",
            "expires_at",
            "revoked_at",
            "opens",
            "last_opened_at",
        ]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None and "deal" in self.fields:
            deal, contact = self.fields["deal"], self.fields["contact"]
            assert isinstance(deal, serializers.PrimaryKeyRelatedField)
            assert isinstance(contact, serializers.PrimaryKeyRelatedField)
            deal.queryset = deal_selectors.deal_editable_list(user=request.user)
            contact.queryset = deal_selectors.contact_list(user=request.user)

    def get_url(self, share: BuyerShare) -> str | None:
        token = self.context.get("token")
        return services.share_url(token) if token else None


class BuyerShareFilter(df.FilterSet):
    class Meta:
        model = BuyerShare
        fields = ["deal", "contact"]


class BuyerShareViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Private buyer-room links of the deals you may see (create: deals you own)."""

    serializer_class = BuyerShareSerializer
    filterset_class = BuyerShareFilter
    ordering = ["-created_at", "-id"]
    ordering_fields = ["created_at", "expires_at", "id"]

    def get_queryset(self) -> QuerySet[BuyerShare]:
        return BuyerShare.objects.filter(deal_scope_q(self.request.user, prefix="deal__"))

    def create(self, request: Request, *args, **kwargs) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        share, token = services.buyer_share_create(
            deal=serializer.validated_data["deal"],
            contact=serializer.validated_data["contact"],
            user=request.user,
        )
        out = BuyerShareSerializer(share, context={"request": request, "token": token})
        return Response(out.data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=BuyerShareSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, pk: str | None = None) -> Response:
        share = services.buyer_share_revoke(share=self.get_object(), user=request.user)
        return Response(BuyerShareSerializer(share, context={"request": request}).data)

    @extend_schema(request=None, responses=BuyerShareSerializer)
    @action(detail=True, methods=["post"])
    def resend(self, request: Request, pk: str | None = None) -> Response:
        share = self.get_object()
        token = services.buyer_share_resend(share=share, user=request.user)
        share.refresh_from_db()
        out = BuyerShareSerializer(share, context={"request": request, "token": token})
        return Response(out.data)
