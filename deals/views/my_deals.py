"""My deals (the filtered, sorted list) and the new prospect + deal form."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from deals import forms as f
from deals import selectors, services, visibility
from deals.views.responses import apply_errors

# ---------------------------------------------------------------------------------------
# My deals


@require_GET
def deal_list(request):
    form = f.DealFilterForm(request.GET or None)
    deals = selectors.deal_list(user=request.user, filters=form.filters()).order_by(*form.ordering)
    page = Paginator(deals, form.page_size).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    sort_params = params.copy()
    sort_params.pop("sort", None)
    context = {
        "nav": "deals",
        "form": form,
        "page": page,
        "columns": _list_columns(form.current_sort, sort_params.urlencode()),
        "deals": page.object_list,
        "sort": form.current_sort,
        "query_string": params.urlencode(),
        "sort_query_string": sort_params.urlencode(),
        "can_create": visibility.user_can_create_deal(request.user),
        "filtered": any(request.GET.get(k) for k in ("q", "stage", "balance")),
    }
    template = "deals/_deal_table.html" if request.htmx else "deals/deal_list.html"
    return render(request, template, context)


LIST_COLUMNS = [
    ("title", "Deal", False),
    ("stage", "Stage", False),
    ("net", "Net total", True),
    ("close", "Expected close", False),
    (None, "Balance", False),
    ("days", "Days in stage", True),
    ("flags", "Open flags", True),
    ("contact", "Last buyer contact", False),
]


def _list_columns(current_sort: str, base_query: str) -> list[dict]:
    """Column headers with the link that sorts by them (a second click reverses)."""
    columns = []
    for key, label, numeric in LIST_COLUMNS:
        column = {"label": label, "num": numeric, "href": "", "arrow": "", "sorted": ""}
        if key:
            ascending, descending = current_sort == key, current_sort == f"-{key}"
            target = f"-{key}" if ascending else key
            column["href"] = (f"{base_query}&" if base_query else "") + f"sort={target}"
            column["arrow"] = "▲" if ascending else "▼" if descending else ""
            column["sorted"] = "ascending" if ascending else "descending" if descending else ""
        columns.append(column)
    return columns


# ---------------------------------------------------------------------------------------
# New prospect + deal


@require_http_methods(["GET", "POST"])
def deal_create(request):
    if not visibility.user_can_create_deal(request.user):
        raise PermissionDenied("Only sales reps own deals.")
    form = f.DealCreateForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        contact = None
        if data["contact_name"]:
            contact = {
                "name": data["contact_name"],
                "title": data["contact_title"],
                "email": data["contact_email"],
                "buying_role": data["contact_role"] or "champion",
            }
        try:
            deal = services.deal_create_with_prospect(
                user=request.user,
                prospect=data["prospect"],
                new_prospect={
                    "name": data["prospect_name"].strip(),
                    "industry": data["prospect_industry"],
                    "size": data["prospect_size"],
                },
                contact=contact,
                title=data["title"],
                expected_close_date=data["expected_close_date"],
                currency=data["currency"],
            )
        except ValidationError as exc:
            apply_errors(form, exc, rename={"name": "prospect_name", "team": "prospect"})
        else:
            messages.success(request, f"Deal “{deal.title}” created for {deal.prospect.name}.")
            if request.POST.get("then") == "discovery":
                return redirect("deals:discovery_call_create", pk=deal.pk)
            return redirect("deals:deal_detail", pk=deal.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "deals/deal_create.html", {"nav": "deals", "form": form}, status=status)
