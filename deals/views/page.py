"""The deal page and its header: detail, summary, a section on its own, edit, stage moves."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from deals import forms as f
from deals import selectors, services
from deals.models import Deal
from deals.views.context import SECTIONS, detail_context, section_response, summary_context
from deals.views.responses import apply_errors, editable_page, written
from handoff.outcomes import deal_outcome


@require_GET
def deal_detail(request, pk):
    page = selectors.deal_page(user=request.user, deal_id=pk)
    context = detail_context(request, page)
    # None unless closed won and checked in on; the page has read the handoff already.
    context["outcome"] = deal_outcome(deal=page.deal, handoff=getattr(page.deal, "handoff", None))
    return render(request, "deals/deal_detail.html", context)


@require_GET
def deal_summary(request, pk):
    """The header with pricing, stage actions and health: reloaded after every change."""
    page = selectors.deal_page(user=request.user, deal_id=pk)
    return render(request, "deals/_summary.html", summary_context(request, page))


@require_GET
def deal_section(request, pk, section):
    page = selectors.deal_page(user=request.user, deal_id=pk)
    if section == "edit-closed":  # "Cancel" on the inline deal edit form
        return render(request, "deals/_deal_edit.html", {"deal": page.deal, "closed": True})
    if section not in SECTIONS:
        raise Http404("No such section.")
    return section_response(request, page, section)


@require_http_methods(["GET", "POST"])
def deal_edit(request, pk):
    page = editable_page(request, pk)
    deal = page.deal
    form = f.DealEditForm.for_deal(deal, request.POST if request.method == "POST" else None)
    conflict = None
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = dict(form.cleaned_data)
            version = data.pop("version")
            try:
                services.deal_update(deal=deal, user=request.user, version=version, **data)
            except services.DealVersionConflict as exc:
                conflict, status = exc.current_version, 409
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                return written(request, page, None, f"Saved “{deal.title}”.")
    context = {"deal": deal, "form": form, "conflict": conflict, "nav": "deals"}
    if request.htmx:
        return render(request, "deals/_deal_edit.html", context, status=status)
    return render(request, "deals/deal_edit.html", context, status=status)


@require_POST
def deal_stage(request, pk):
    page = selectors.deal_page(user=request.user, deal_id=pk)
    deal = page.deal
    form = f.StageForm(request.POST)
    confirm_close = None
    if form.is_valid():
        action, stage = form.cleaned_data["action"], form.cleaned_data["stage"]
        confirm, reason = form.cleaned_data["confirm"], form.cleaned_data["reason"]
        # Pages rendered before the hidden field existed send none: the version loaded now.
        version = form.cleaned_data.get("version") or deal.version
        try:
            if action == "reopen":
                services.deal_reopen(
                    deal=deal,
                    user=request.user,
                    stage=stage,
                    version=version,
                    confirm=confirm,
                    reason=reason,
                )
                message = f"Reopened in {deal.get_stage_display()}."
            else:
                if not page.can_edit:
                    raise PermissionDenied("You can view this deal but not change it.")
                target = {"close_won": "closed_won", "close_lost": "closed_lost"}.get(action, stage)
                services.deal_change_stage(
                    deal=deal,
                    user=request.user,
                    stage=target,
                    lost_reason=form.cleaned_data["lost_reason"],
                    confirm=confirm,
                    reason=reason,
                    version=version,
                )
                message = f"Moved to {deal.get_stage_display()}."
                if target == "closed_won":
                    message = _closed_won_message(deal)
        except services.CloseNeedsConfirmation as exc:
            confirm_close = exc.concerns
        except services.DealVersionConflict as exc:
            form.add_error(None, str(exc))
        except ValidationError as exc:
            apply_errors(form, exc)
            if "reason" in getattr(exc, "message_dict", {}) and form.cleaned_data["action"] in (
                "close_won",
                "advance",
            ):
                # Confirmed without a reason: ask again, with the concerns beside the field.
                from deals.health.preview import close_concerns

                confirm_close = close_concerns(deal_id=deal.pk)
        else:
            return written(request, page, "summary", message)
    deal.refresh_from_db()  # the refused change may have touched the instance
    context = summary_context(request, page, stage_form=form, confirm_close=confirm_close)
    if request.htmx:
        return render(request, "deals/_summary.html", context, status=400)
    context = detail_context(request, page, stage_form=form, confirm_close=confirm_close)
    return render(request, "deals/deal_detail.html", context, status=400)


def _closed_won_message(deal: Deal) -> str:
    """Closing again says where the handoff really is, not that it was just drafted."""
    from handoff.models import Handoff

    handoff = Handoff.objects.filter(deal_id=deal.pk).first()
    if handoff is None or handoff.status == Handoff.Status.DRAFT:
        return "Closed won. The handoff to delivery is drafted — complete it next."
    return (
        f"Closed won again. The handoff is already {handoff.get_status_display().lower()} "
        "by delivery; they see the reopening and this close on it."
    )
