"""API tokens (django-rest-knox): obtain, list, revoke, log out everywhere.

Tokens are stored hashed (knox), one new token per login, and expire after
settings.REST_KNOX["TOKEN_TTL"] without use (each use slides the expiry). Changing a
password revokes all of that user's tokens (see `revoke_tokens_on_password_change`).
"""

from __future__ import annotations

from typing import Any

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth import authenticate
from django.db import transaction
from django.db.models.signals import pre_save
from django.dispatch import receiver
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from knox.models import AuthToken
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from winwin_crm.accounts.models import User
from winwin_crm.api.throttling import AnonRateThrottle


class TokenThrottle(AnonRateThrottle):
    scope = "anon"


class LockedOut(exceptions.Throttled):
    default_detail = "Too many failed logins for this user from your address. Try again later."


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150, help_text="Your username.")
    password = serializers.CharField(
        max_length=4096, trim_whitespace=False, help_text="Your password."
    )


class TokenSerializer(serializers.Serializer):
    token_key = serializers.CharField(
        help_text="The first characters of the token: its id here (not a credential)."
    )
    created = serializers.DateTimeField(help_text="When the token was issued (a login).")
    expiry = serializers.DateTimeField(
        allow_null=True, help_text="When it expires unless used again before then."
    )
    current = serializers.BooleanField(help_text="Whether this request used this token.")


def _cooloff_seconds() -> int:
    cooloff = settings.AXES_COOLOFF_TIME
    return int(cooloff.total_seconds()) if cooloff else 60


def issue_token(user: User) -> str:
    """A new token for `user`; expired ones are dropped and the oldest past the per-user
    cap retired, so logins never pile up tokens without bound."""
    with transaction.atomic():
        AuthToken.objects.filter(user=user, expiry__lt=timezone.now()).delete()
        keep = settings.API_TOKENS_PER_USER - 1
        stale = list(
            AuthToken.objects.filter(user=user)
            .order_by("-created")
            .values_list("digest", flat=True)[keep:]
        )
        if stale:
            AuthToken.objects.filter(digest__in=stale).delete()
        _, token = AuthToken.objects.create(user=user)
    return token


class ObtainTokenView(APIView):
    """Exchange a username and password for a new API token (`Authorization: Token <key>`).

    Each call issues a new token. Repeated failures for one username from one address lock
    that pair out for a while (429 with Retry-After); the owner logging in from elsewhere
    is not affected."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [TokenThrottle]

    @extend_schema(
        request=TokenRequestSerializer,
        responses={
            200: inline_serializer("TokenResponse", {"token": serializers.CharField()}),
            400: OpenApiResponse(description="Wrong username or password."),
            429: OpenApiResponse(description="Locked out or throttled; see Retry-After."),
        },
        auth=[],
        summary="Log in: get a new API token",
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        payload = TokenRequestSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        credentials = {
            "username": payload.validated_data["username"],
            "password": payload.validated_data["password"],
        }
        django_request = request._request
        if AxesProxyHandler.is_locked(django_request, credentials):
            raise LockedOut(wait=_cooloff_seconds())
        user = authenticate(django_request, **credentials)
        if user is None:
            # axes may have locked the pair on this very failure.
            if AxesProxyHandler.is_locked(django_request, credentials):
                raise LockedOut(wait=_cooloff_seconds())
            raise exceptions.ValidationError(
                {"non_field_errors": ["Unable to log in with the provided credentials."]}
            )
        return Response({"token": issue_token(user)})


def _me(request: Request) -> User:
    """The logged-in user (these views require one)."""
    user = request.user
    assert isinstance(user, User)
    return user


def _current_digest(request: Request) -> str | None:
    return getattr(request.auth, "digest", None)


class TokenListView(APIView):
    """Your API tokens (never their secret), newest first."""

    permission_classes = [IsAuthenticated]
    serializer_class = TokenSerializer

    @extend_schema(responses=TokenSerializer(many=True), summary="List your API tokens")
    def get(self, request: Request) -> Response:
        current = _current_digest(request)
        tokens = AuthToken.objects.filter(user=_me(request), expiry__gte=timezone.now())
        rows = [
            {
                "token_key": t.token_key,
                "created": t.created,
                "expiry": t.expiry,
                "current": t.digest == current,
            }
            for t in tokens.order_by("-created")[: settings.API_TOKENS_PER_USER]
        ]
        return Response(TokenSerializer(rows, many=True).data)


class TokenRevokeView(APIView):
    """Revoke one of your tokens by its `token_key`."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=None,
        responses={204: None, 404: OpenApiResponse(description="No such token of yours.")},
        summary="Revoke one of your API tokens",
    )
    def delete(self, request: Request, token_key: str) -> Response:
        deleted, _ = AuthToken.objects.filter(user=_me(request), token_key=token_key).delete()
        if not deleted:
            raise exceptions.NotFound("You have no token with that key.")
        return Response(status=status.HTTP_204_NO_CONTENT)


class LogoutEverywhereView(APIView):
    """Revoke every API token you hold and end this session."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=None,
        responses=inline_serializer("LogoutAllResponse", {"revoked": serializers.IntegerField()}),
        summary="Log out everywhere: revoke all your API tokens",
    )
    def post(self, request: Request) -> Response:
        revoked, _ = AuthToken.objects.filter(user=_me(request)).delete()
        if hasattr(request._request, "session"):
            from django.contrib.auth import logout

            logout(request._request)
        return Response({"revoked": revoked})


@receiver(pre_save, sender=User, dispatch_uid="revoke-tokens-on-password-change")
def revoke_tokens_on_password_change(
    sender: type[User], instance: User, raw: bool = False, **kwargs: Any
) -> None:
    """A new password ends every API token (sessions end by Django's session hash)."""
    if raw or instance.pk is None or getattr(instance, "_password", None) is None:
        return
    AuthToken.objects.filter(user_id=instance.pk).delete()
