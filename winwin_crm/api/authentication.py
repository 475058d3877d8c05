"""The API's token authentication (kept apart from the views: DRF imports it while its own
settings load, before any view module can be imported)."""

from typing import Any

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from knox.auth import TokenAuthentication
from knox.signals import token_expired


class ExpiringTokenAuthentication(TokenAuthentication):
    """`Authorization: Token <key>` with django-rest-knox: hashed tokens that expire after
    REST_KNOX["TOKEN_TTL"] without use; an expired or revoked token is a 401."""

    def _cleanup_token(self, auth_token: Any) -> bool:
        # knox also reads every other token of the user on each request to delete the
        # expired ones: a query per request that grows with the user's logins. Signing in
        # (`winwin_crm.api.auth`) deletes a user's expired tokens instead; here only the
        # presented token is checked, and deleted once it has expired.
        if auth_token.expiry is not None and auth_token.expiry < timezone.now():
            username = auth_token.user.get_username()
            auth_token.delete()
            token_expired.send(sender=self.__class__, username=username, source="auth_token")
            return True
        return False


class ExpiringTokenScheme(OpenApiAuthenticationExtension):
    """Documented like DRF's token scheme was, so API clients see no change."""

    target_class = "winwin_crm.api.authentication.ExpiringTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": (
                'Token from POST /api/v1/auth/token/, sent as "Token <token>"; it expires '
                "after REST_KNOX TOKEN_TTL (30 days by default) without use."
            ),
        }
