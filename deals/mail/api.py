"""`POST /api/v1/mail/`: a raw RFC 822 message (Content-Type: message/rfc822).

A signed-in user (token or session) logs it as they would see it; a mail provider's
inbound webhook holding MAIL_WEBHOOK_SECRET (header X-Mail-Secret) logs it as the CRM
user among its sender and recipients. `?deal=ID` (or a deal+ID address among the
recipients) names the deal.
"""

from __future__ import annotations

import hmac

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from .addresses import parse_drop_address
from .imports import mail_owner_for_headers
from .parsing import MAX_MESSAGE_BYTES
from .services import mail_capture
from .types import MailRefused, MailTooLarge, MailUnreadable

MEDIA_TYPE = "message/rfc822"

CaptureSerializer = inline_serializer(
    "MailCaptureResult",
    {
        "results": serializers.ListField(
            child=inline_serializer(
                "MailCaptureItem",
                {
                    "outcome": serializers.CharField(),
                    "mail": serializers.IntegerField(allow_null=True),
                    "activity": serializers.IntegerField(allow_null=True),
                    "deal": serializers.IntegerField(allow_null=True),
                    "reason": serializers.CharField(),
                },
            )
        )
    },
)


def _webhook_secret_ok(request: Request) -> bool:
    secret = settings.MAIL_WEBHOOK_SECRET
    given = request.headers.get("X-Mail-Secret", "")
    return bool(secret) and hmac.compare_digest(given.encode(), secret.encode())


def _deal_from_recipients(raw: bytes) -> int | None:
    from email.parser import BytesHeaderParser
    from email.utils import getaddresses

    headers = BytesHeaderParser().parsebytes(raw)
    values: list[str] = []
    for name in ("X-Original-To", "Delivered-To", "To", "Cc"):
        values.extend(str(v) for v in headers.get_all(name, []))
    for _name, address in getaddresses(values):
        target = parse_drop_address(address)
        if target is not None and target.kind == "deal" and target.signed:
            return target.id
    return None


class MailCaptureApi(APIView):
    # Authentication still runs (token or session); the webhook is let in by its secret.
    permission_classes = [AllowAny]

    @extend_schema(
        request={MEDIA_TYPE: OpenApiTypes.BINARY},
        parameters=[OpenApiParameter("deal", int, description="log the mail on this deal")],
        responses={201: CaptureSerializer, 200: CaptureSerializer},
        summary="Log a raw RFC 822 message (or an .ics invite) as an activity",
    )
    def post(self, request: Request) -> Response:
        webhook = _webhook_secret_ok(request)
        if not webhook and not request.user.is_authenticated:
            return Response(
                {"detail": "Authentication credentials were not provided."},
                status=status.HTTP_401_UNAUTHORIZED,
            )
        content_type = request.content_type.split(";")[0].strip().lower()
        if content_type not in (MEDIA_TYPE, "text/calendar"):
            return Response(
                {"detail": f"Send the raw message as {MEDIA_TYPE}."},
                status=status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            )
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > MAX_MESSAGE_BYTES:
            return _too_large()
        # Read at most one byte past the cap, never the whole of an oversized body.
        raw = request._request.read(MAX_MESSAGE_BYTES + 1)
        if len(raw) > MAX_MESSAGE_BYTES:
            return _too_large()
        if not raw.strip():
            return Response({"body": ["The message is empty."]}, status=400)

        deal_param = request.query_params.get("deal")
        deal_id = None
        if deal_param:
            if not deal_param.isdigit():
                return Response({"deal": ["A deal id is a number."]}, status=400)
            deal_id = int(deal_param)
        elif webhook:
            deal_id = _deal_from_recipients(raw)
        user = request.user if not webhook else mail_owner_for_headers(raw, {})
        if user is None or not user.is_authenticated:
            return Response({"detail": "No CRM user among the sender and recipients."}, status=400)
        try:
            results = mail_capture(raw=raw, user=user, channel="api", deal_id=deal_id)
        except MailTooLarge:
            return _too_large()
        except MailUnreadable as exc:
            return Response({"body": [str(exc)]}, status=400)
        except MailRefused as exc:
            return Response({"deal": [str(exc)]}, status=400)
        created = any(r.outcome in ("logged", "inbox") for r in results)
        return Response(
            {
                "results": [
                    {
                        "outcome": r.outcome,
                        "mail": r.mail.pk if r.mail and r.mail.pk else None,
                        "activity": r.activity.pk if r.activity and r.activity.pk else None,
                        "deal": r.deal_id,
                        "reason": r.reason,
                    }
                    for r in results
                ]
            },
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


def _too_large() -> Response:
    return Response(
        {"detail": f"The message is larger than {MAX_MESSAGE_BYTES // (1024 * 1024)} MB."},
        status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    )
