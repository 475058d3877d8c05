"""The drop addresses: `deal+ID@`, `deal+ID.SIG@` and a user's own `u.ID.SIG@`.

SIG is an HMAC of the id under MAIL_DROP_SECRET, so only someone who was given the
address (it is shown to the user on the inbox and deal pages) can write to it; a bare
`deal+ID@` is taken only in an SMTP session authenticated as a CRM user.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

from django.conf import settings

_LOCAL = re.compile(
    r"^(?:deal\+(?P<deal>\d{1,18})(?:\.(?P<dsig>[0-9a-f]{12}))?|u\.(?P<user>\d{1,18})\.(?P<usig>[0-9a-f]{12}))$"
)


@dataclass(frozen=True, slots=True)
class DropTarget:
    kind: str  # "deal" or "user"
    id: int
    signed: bool


def _secret() -> bytes:
    return (settings.MAIL_DROP_SECRET or settings.SECRET_KEY).encode()


def _sign(value: str) -> str:
    return hmac.new(_secret(), value.encode(), hashlib.sha256).hexdigest()[:12]


def user_drop_address(user_id: int) -> str:
    return f"u.{user_id}.{_sign(f'user:{user_id}')}@{settings.MAIL_DROP_DOMAIN}"


def deal_drop_address(deal_id: int) -> str:
    return f"deal+{deal_id}.{_sign(f'deal:{deal_id}')}@{settings.MAIL_DROP_DOMAIN}"


def parse_drop_address(address: str) -> DropTarget | None:
    """The target of one of our addresses; None for a foreign address or a bad signature."""
    local, _, domain = address.strip().strip("<>").lower().rpartition("@")
    if domain != settings.MAIL_DROP_DOMAIN.lower():
        return None
    m = _LOCAL.match(local)
    if not m:
        return None
    if m.group("user"):
        user_id = int(m.group("user"))
        ok = hmac.compare_digest(m.group("usig"), _sign(f"user:{user_id}"))
        return DropTarget("user", user_id, True) if ok else None
    deal_id = int(m.group("deal"))
    if m.group("dsig") is None:
        return DropTarget("deal", deal_id, False)
    ok = hmac.compare_digest(m.group("dsig"), _sign(f"deal:{deal_id}"))
    return DropTarget("deal", deal_id, True) if ok else None
