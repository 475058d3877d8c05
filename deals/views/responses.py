"""How a deal-page write answers: the fresh section (htmx) or a redirect, or the errors.

Views are thin: validate a form, read through deals.selectors, write through
deals.services, render. Each inline write answers with its section's partial (and an
`HX-Trigger: dealChanged` so the header with pricing and health reloads itself); without
htmx the same endpoints redirect back to the deal page or re-render it with the errors.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse

from deals import selectors
from deals.health.store import health_recompute
from deals.selectors import DealPage
from deals.views.context import detail_context, render_section, section_response, summary_context


def editable_page(request, pk) -> DealPage:
    """The deal's page if the user may change it: invisible answers 404, read-only 403."""
    page = selectors.deal_page(user=request.user, deal_id=pk)
    if not page.can_edit:
        raise PermissionDenied("You can view this deal but not change it.")
    return page


def apply_errors(form, exc: ValidationError, rename: dict | None = None) -> None:
    rename = rename or {}
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            field = rename.get(field, field)
            for message in errors:
                form.add_error(field if field in form.fields else None, message)
    else:
        for message in exc.messages:
            form.add_error(None, message)


def save_form(request, page, section, form, form_key, write, message, **section_kwargs):
    """Validate `form`, call the service through `write`, answer with the section."""
    if form.is_valid():
        try:
            write(dict(form.cleaned_data))
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            return written(request, page, section, message)
    if form_key:
        section_kwargs[form_key] = form
    if request.htmx:
        return section_response(request, page, section, status=400, **section_kwargs)
    context = detail_context(request, page, **section_kwargs)
    return render(request, "deals/deal_detail.html", context, status=400)


def written(request, page, section, message):
    """After a successful write: the fresh section (htmx) or a redirect back to the deal.

    The services keep the deal instance current (fields, version, totals) and the page
    reads its parts only now, after the write, so nothing is fetched twice; only a stage
    change re-reads the deal, whose scores and handoff the write's recompute just changed.
    """
    # The rep sees the verdict of what they just saved: recomputing one deal here costs a
    # few ms, where the queued recompute may still be waiting for a worker when the health
    # panel reloads. The queued task still runs (the other paths rely on it) and finds
    # the same answer.
    health_recompute(deal_id=page.deal.pk)
    if not request.htmx:
        messages.success(request, message)
        anchor = f"#section-{section}" if section and section != "summary" else ""
        return redirect(reverse("deals:deal_detail", args=[page.deal.pk]) + anchor)
    if section == "summary":
        page = selectors.deal_page(user=request.user, deal_id=page.deal.pk)
        html = render_to_string("deals/_summary.html", summary_context(request, page), request)
        trigger = "historyChanged"
    elif section is None:  # the deal edit form closes; the header reloads itself
        html = render_to_string(
            "deals/_deal_edit.html", {"deal": page.deal, "closed": True}, request
        )
        trigger = "dealChanged"
    else:
        html = render_section(request, page, section)
        trigger = "dealChanged"
    html += render_to_string("deals/_flash.html", {"message": message, "oob": True}, request)
    response = HttpResponse(html)
    response["HX-Trigger"] = trigger
    return response


def refused(request, page, section, exc: ValidationError):
    message = " ".join(exc.messages)
    if not request.htmx:
        messages.error(request, message)
        return redirect(reverse("deals:deal_detail", args=[page.deal.pk]) + f"#section-{section}")
    html = render_section(request, page, section)
    html += render_to_string(
        "deals/_flash.html", {"message": message, "level": "error", "oob": True}, request
    )
    return HttpResponse(html, status=400)
