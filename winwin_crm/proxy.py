"""Who the client is, behind the TLS proxy: one answer for axes, throttles and HSTS.

gunicorn sees the proxy's address for every request, so anything keyed by IP (failed-login
lockouts, throttles) would lump all users together; and a client talking to gunicorn
directly could claim any X-Forwarded-For or X-Forwarded-Proto. So: a request whose peer is
one of settings.TRUSTED_PROXIES gets REMOTE_ADDR set to the client that proxy saw (the
TRUSTED_PROXY_COUNT-th entry of X-Forwarded-For from the right); from any other peer both
forwarded headers are dropped and REMOTE_ADDR stays the peer.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest, HttpResponse

FORWARDED_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO", "HTTP_FORWARDED")


@lru_cache(maxsize=8)
def _networks(
    proxies: tuple[str, ...],
) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(p.strip(), strict=False) for p in proxies if p.strip())


def is_trusted_proxy(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in _networks(tuple(settings.TRUSTED_PROXIES)))


def forwarded_client(meta: dict, count: int) -> str | None:
    """The address `count` trusted proxies vouch for, or None when the header is short or
    not an address (then the request is treated as the proxy's own)."""
    chain = [p.strip() for p in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if p.strip()]
    if count < 1 or len(chain) < count:
        return None
    candidate = chain[-count]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return None


class TrustedProxyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        meta = request.META
        peer = meta.get("REMOTE_ADDR", "")
        request.via_trusted_proxy = False  # type: ignore[attr-defined]
        if peer and is_trusted_proxy(peer):
            request.via_trusted_proxy = True  # type: ignore[attr-defined]
            client = forwarded_client(meta, settings.TRUSTED_PROXY_COUNT)
            if client:
                meta["REMOTE_ADDR"] = client
        else:
            for header in FORWARDED_HEADERS:
                meta.pop(header, None)
        # Nothing after this reads X-Forwarded-For: REMOTE_ADDR is the answer.
        meta.pop("HTTP_X_FORWARDED_FOR", None)
        return self.get_response(request)


def client_ip(request: HttpRequest) -> str:
    """The client's IP (for axes): REMOTE_ADDR after TrustedProxyMiddleware."""
    return request.META.get("REMOTE_ADDR", "")


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None
) -> HttpResponse:
    """What axes answers to a locked username+address: 429 with Retry-After, as JSON on the
    API and as the login page (with the reason) elsewhere."""
    from django.http import JsonResponse
    from django.shortcuts import render

    cooloff = settings.AXES_COOLOFF_TIME
    seconds = int(cooloff.total_seconds()) if cooloff else 60
    message = (
        "Too many failed logins for this user from your address. "
        f"Try again in {max(1, seconds // 60)} minutes, or from another device."
    )
    response: HttpResponse
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": message}, status=429)
    else:
        response = render(request, "registration/locked_out.html", {"message": message}, status=429)
    response["Retry-After"] = str(seconds)
    return response
