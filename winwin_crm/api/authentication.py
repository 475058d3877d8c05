"""The API's token authentication (kept apart from the views: DRF imports it while its own
settings load, before any view module can be imported)."""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from knox.auth import TokenAuthentication


class ExpiringTokenAuthentication(TokenAuthentication):
    """`Authorization: Token <key>` with django-rest-knox: hashed tokens that expire after
    REST_KNOX["TOKEN_TTL"] without use; an expired or revoked token is a 401."""


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
