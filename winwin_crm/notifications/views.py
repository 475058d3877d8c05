"""Notification pages: the inbox, the bell's count (loaded by htmx), mark read, settings."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.middleware import HtmxDetails

from winwin_crm.accounts.models import User

from . import selectors, services
from .models import Delivery, Notification


class AuthedRequest(HttpRequest):
    """Every page needs a login (LoginRequiredEverywhereMiddleware); django-htmx adds .htmx."""

    user: User
    htmx: HtmxDetails


@require_GET
def inbox(request: AuthedRequest) -> HttpResponse:
    unread_only = request.GET.get("show") == "unread"
    qs = selectors.notification_list(user=request.user, unread_only=unread_only)
    page = Paginator(qs, selectors.INBOX_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "notifications/inbox.html",
        {
            "nav": "notifications",
            "page_obj": page,
            "notifications": page.object_list,
            "unread_only": unread_only,
            "unread": selectors.unread_count(user=request.user),
        },
    )


@require_GET
def bell(request: AuthedRequest) -> HttpResponse:
    """The bell's count, fetched after the page loads so no page pays a query for it."""
    return render(
        request, "notifications/_bell.html", {"unread": selectors.unread_count(user=request.user)}
    )


@require_GET
def open_notification(request: AuthedRequest, pk: int) -> HttpResponse:
    """Follow a notification: it is read once opened."""
    notification = get_object_or_404(Notification, recipient=request.user, pk=pk)
    services.notification_mark_read(user=request.user, notification_id=notification.pk)
    target = notification.url
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/notifications/"
    return HttpResponseRedirect(target)


@require_POST
def mark_read(request: AuthedRequest, pk: int) -> HttpResponse:
    get_object_or_404(Notification, recipient=request.user, pk=pk)
    services.notification_mark_read(user=request.user, notification_id=pk)
    if request.htmx:
        notification = selectors.notification_get(user=request.user, notification_id=pk)
        response = render(request, "notifications/_item.html", {"n": notification})
        response["HX-Trigger"] = "notifications-changed"
        return response
    return redirect("notifications:inbox")


@require_POST
def mark_all_read(request: AuthedRequest) -> HttpResponse:
    count = services.notifications_mark_all_read(user=request.user)
    messages.success(request, f"Marked {count} notification{'s' if count != 1 else ''} read.")
    return redirect("notifications:inbox")


@require_http_methods(["GET", "POST"])
def preferences(request: AuthedRequest) -> HttpResponse:
    rows = selectors.preferences_of(user=request.user)
    errors: list[str] = []
    if request.method == "POST":
        choices = {kind: request.POST.get(f"kind-{kind}", "") for kind, _, _ in rows}
        bad = [kind for kind, value in choices.items() if value not in Delivery.values]
        if bad:
            errors.append("Choose how each kind reaches you.")
        else:
            services.preferences_set(user=request.user, choices=choices)
            messages.success(request, "Notification settings saved.")
            return redirect("notifications:preferences")
    return render(
        request,
        "notifications/preferences.html",
        {
            "nav": "notifications",
            "rows": rows,
            "choices": Delivery.choices,
            "errors": errors,
            "has_email": bool(request.user.email),
        },
        status=400 if errors else 200,
    )
