"""Project-level views: health check and the role-based home redirect."""

from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from winwin_crm.accounts.roles import DELIVERY, MANAGER, roles_of
from winwin_crm.celery import app as celery_app


def _database_status() -> tuple[bool, str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return True, connection.vendor
    except Exception as exc:  # noqa: BLE001 - any failure means "down"; report it
        return False, f"{type(exc).__name__}: {exc}"


def _broker_status() -> tuple[bool, str]:
    if celery_app.conf.task_always_eager:
        return True, "eager"
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return True, "ok"
    except Exception as exc:  # noqa: BLE001
        return False, f"{type(exc).__name__}: {exc}"


@never_cache
@require_GET
def healthz(request):
    """200 when the database and the broker answer (eager counts as up), else 503."""
    db_ok, db_detail = _database_status()
    broker_ok, broker_detail = _broker_status()
    ok = db_ok and broker_ok
    body = {
        "status": "ok" if ok else "unavailable",
        "database": {"ok": db_ok, "detail": db_detail},
        "broker": {"ok": broker_ok, "detail": broker_detail},
    }
    return JsonResponse(body, status=200 if ok else 503)


def home(request):
    """Send each role to where its work is."""
    roles = roles_of(request.user)
    if MANAGER in roles or request.user.is_superuser:
        return redirect("dashboard:index")
    if DELIVERY in roles:
        return redirect("handoff:queue")
    return redirect("deals:deal_list")
