"""The rep's pages: my deals, new deal, the deal page with its htmx sections, discovery call.

Views are thin: validate a form, read through deals.selectors, write through
deals.services, render. Each inline write answers with its section's partial (and an
`HX-Trigger: dealChanged` so the header with pricing and health reloads itself); without
htmx the same endpoints redirect back to the deal page or re-render it with the errors.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from deals import forms as f
from deals import selectors, services, visibility
from deals.health.policy import policy_for_team
from deals.health.present import days_between, present_flags
from deals.health.preview import health_preview
from deals.health.rules import stage_days_limit
from deals.health.scoring import score
from deals.health.store import health_recompute, sort_flags
from deals.models import (
    BuyerMilestone,
    Commitment,
    Concession,
    Deal,
    HealthPolicy,
    LineItem,
    Need,
)
from deals.selectors import DealPage
from handoff.outcomes import deal_outcome

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
            _apply_errors(form, exc, rename={"name": "prospect_name", "team": "prospect"})
        else:
            messages.success(request, f"Deal “{deal.title}” created for {deal.prospect.name}.")
            if request.POST.get("then") == "discovery":
                return redirect("deals:discovery_call_create", pk=deal.pk)
            return redirect("deals:deal_detail", pk=deal.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "deals/deal_create.html", {"nav": "deals", "form": form}, status=status)


# ---------------------------------------------------------------------------------------
# Discovery call


@require_http_methods(["GET", "POST"])
def discovery_call_create(request, pk):
    page = _editable_page(request, pk)
    deal = page.deal
    data = request.POST if request.method == "POST" else None
    form = f.DiscoveryCallForm(data, deal=deal)
    attendees = f.NewAttendeeFormSet(data, prefix="attendees")
    needs = f.NeedRowFormSet(data, prefix="needs")
    milestones = f.MilestoneRowFormSet(data, prefix="milestones")
    status = 200
    if request.method == "POST":
        status = 400
        formsets_valid = all([attendees.is_valid(), needs.is_valid(), milestones.is_valid()])
        if form.is_valid() and formsets_valid:
            try:
                call = _log_discovery_call(request.user, deal, form, attendees, needs, milestones)
            except ValidationError as exc:
                _apply_call_errors(exc, form, needs, milestones)
            else:
                counts = []
                if n := call.needs.count():
                    counts.append(f"{n} need{'s' if n != 1 else ''}")
                if n := call.milestones.count():
                    counts.append(f"{n} milestone{'s' if n != 1 else ''}")
                extra = f" with {' and '.join(counts)}" if counts else ""
                messages.success(request, f"Discovery call logged{extra}.")
                return redirect("deals:deal_detail", pk=deal.pk)
    context = {
        "nav": "deals",
        "deal": deal,
        "form": form,
        "attendee_formset": attendees,
        "need_formset": needs,
        "milestone_formset": milestones,
        "has_errors": status == 400,
    }
    return render(request, "deals/discovery_call_form.html", context, status=status)


def _log_discovery_call(user, deal, form, attendees, needs, milestones):
    return services.discovery_call_log(
        deal=deal,
        user=user,
        new_attendees=[
            {"name": row["name"], "title": row["title"], "buying_role": row["buying_role"]}
            for row in f.changed_rows(attendees)
        ],
        attendee_ids=[c.pk for c in form.cleaned_data["attendees"]],
        held_at=form.cleaned_data["held_at"],
        summary=form.cleaned_data["summary"],
        next_step=form.cleaned_data["next_step"],
        needs=f.changed_rows(needs),
        milestones=f.changed_rows(milestones),
    )


def _apply_call_errors(exc, form, needs, milestones):
    """Put the service's row-keyed errors ("needs[1].importance") onto the right row."""
    rows = {
        "needs": [fm for fm in needs.forms if fm.has_changed()],
        "milestones": [fm for fm in milestones.forms if fm.has_changed()],
    }
    for key, errors in getattr(exc, "message_dict", {"__all__": exc.messages}).items():
        target, field = form, key
        for prefix, forms in rows.items():
            if key.startswith(prefix + "["):
                index, _, field = key[len(prefix) + 1 :].partition("].")
                target = (
                    forms[int(index)]
                    if index.isascii() and index.isdigit() and int(index) < len(forms)
                    else form
                )
        if field == "attendee_ids":
            field = "attendees"
        for message in errors:
            target.add_error(field if field in target.fields else None, message)


# ---------------------------------------------------------------------------------------
# The deal page


@require_GET
def deal_detail(request, pk):
    page = selectors.deal_page(user=request.user, deal_id=pk)
    context = _detail_context(request, page)
    context["outcome"] = deal_outcome(deal=page.deal)  # None unless closed won, checked in on
    return render(request, "deals/deal_detail.html", context)


@require_GET
def deal_summary(request, pk):
    """The header with pricing, stage actions and health: reloaded after every change."""
    page = selectors.deal_page(user=request.user, deal_id=pk)
    return render(request, "deals/_summary.html", _summary_context(request, page))


@require_GET
def deal_section(request, pk, section):
    page = selectors.deal_page(user=request.user, deal_id=pk)
    if section == "edit-closed":  # "Cancel" on the inline deal edit form
        return render(request, "deals/_deal_edit.html", {"deal": page.deal, "closed": True})
    if section not in SECTIONS:
        raise Http404("No such section.")
    return _section_response(request, page, section)


@require_http_methods(["GET", "POST"])
def deal_edit(request, pk):
    page = _editable_page(request, pk)
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
                _apply_errors(form, exc)
            else:
                return _written(request, page, None, f"Saved “{deal.title}”.")
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
            _apply_errors(form, exc)
            if "reason" in getattr(exc, "message_dict", {}) and form.cleaned_data["action"] in (
                "close_won",
                "advance",
            ):
                # Confirmed without a reason: ask again, with the concerns beside the field.
                from deals.health.preview import close_concerns

                confirm_close = close_concerns(deal_id=deal.pk)
        else:
            return _written(request, page, "summary", message)
    deal.refresh_from_db()  # the refused change may have touched the instance
    context = _summary_context(request, page, stage_form=form, confirm_close=confirm_close)
    if request.htmx:
        return render(request, "deals/_summary.html", context, status=400)
    context = _detail_context(request, page, stage_form=form, confirm_close=confirm_close)
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


# --- inline writes: one small view per action, all answering the same way -------------------


def _child(deal, model, child_id):
    return get_object_or_404(model, pk=child_id, deal=deal)


@require_POST
def need_add(request, pk):
    page = _editable_page(request, pk)
    deal = page.deal
    form = f.NeedForm(request.POST, prefix="need")
    return _save_form(
        request, page, "needs", form, "need_form",
        lambda d: services.need_create(user=request.user, deal=deal, **d),
        "Need added.",
    )  # fmt: skip


@require_http_methods(["GET", "POST"])
def need_edit(request, pk, need_id):
    page = _editable_page(request, pk)
    deal = page.deal
    need = _child(deal, Need, need_id)
    data = request.POST if request.method == "POST" else None
    form = f.NeedForm(data, instance=need, prefix=f"need-{need.pk}")
    if request.method == "GET":
        return _section_response(request, page, "needs", edit_need=(need.pk, form))
    return _save_form(
        request, page, "needs", form, None,
        lambda d: services.need_update(need=need, user=request.user, **d),
        "Need updated.",
        edit_need=(need.pk, form),
    )  # fmt: skip


@require_POST
def line_item_add(request, pk):
    page = _editable_page(request, pk)
    deal = page.deal
    form = f.LineItemForm(request.POST, deal=deal, prefix="item")

    def create(data):
        need_ids = [n.pk for n in data.pop("needs")]
        return services.line_item_create(deal=deal, user=request.user, need_ids=need_ids, **data)

    return _save_form(request, page, "needs", form, "item_form", create, "Proposal item added.")


@require_http_methods(["GET", "POST"])
def line_item_edit(request, pk, item_id):
    page = _editable_page(request, pk)
    deal = page.deal
    item = _child(deal, LineItem, item_id)
    data = request.POST if request.method == "POST" else None
    form = f.LineItemForm(data, deal=deal, instance=item, prefix=f"item-{item.pk}")
    if request.method == "GET":
        return _section_response(request, page, "needs", edit_item=(item.pk, form))

    def update(data):
        need_ids = [n.pk for n in data.pop("needs")]
        return services.line_item_update(
            line_item=item, user=request.user, need_ids=need_ids, **data
        )

    return _save_form(
        request, page, "needs", form, None, update, "Proposal item updated.",
        edit_item=(item.pk, form),
    )  # fmt: skip


@require_POST
def line_item_delete(request, pk, item_id):
    page = _editable_page(request, pk)
    deal = page.deal
    item = _child(deal, LineItem, item_id)
    name = item.name
    try:
        services.line_item_delete(line_item=item, user=request.user)
    except ValidationError as exc:
        return _refused(request, page, "needs", exc)
    return _written(request, page, "needs", f"Removed “{name}”.")


@require_POST
def milestone_add(request, pk):
    page = _editable_page(request, pk)
    deal = page.deal
    form = f.MilestoneForm(request.POST, prefix="milestone")
    return _save_form(
        request, page, "plan", form, "milestone_form",
        lambda d: services.milestone_create(deal=deal, user=request.user, **d),
        "Milestone added to the plan.",
    )  # fmt: skip


@require_POST
def milestone_toggle(request, pk, milestone_id):
    page = _editable_page(request, pk)
    deal = page.deal
    milestone = _child(deal, BuyerMilestone, milestone_id)
    form = f.MilestoneToggleForm(request.POST)
    completed = form.is_valid() and form.cleaned_data["completed"]
    services.milestone_set_completed(milestone=milestone, user=request.user, completed=completed)
    verb = "done" if completed else "open again"
    return _written(request, page, "plan", f"“{milestone.title}” marked {verb}.")


@require_POST
def activity_add(request, pk):
    page = _editable_page(request, pk)
    deal = page.deal
    form = f.ActivityForm(request.POST, prefix="activity")
    return _save_form(
        request, page, "activities", form, "activity_form",
        lambda d: services.activity_log(deal=deal, user=request.user, **d),
        "Activity logged.",
    )  # fmt: skip


@require_POST
def concession_add(request, pk):
    page = _editable_page(request, pk)
    deal = page.deal
    form = f.ConcessionForm(request.POST, prefix="concession")

    def add(data):
        data.pop("no_exchange", None)
        return services.concession_add(deal=deal, user=request.user, **data)

    return _save_form(
        request, page, "concessions", form, "concession_form", add, "Concession recorded."
    )


@require_POST
def commitment_add(request, pk):
    page = _editable_page(request, pk)
    deal = page.deal
    form = f.CommitmentForm(request.POST, prefix="commitment")
    return _save_form(
        request, page, "commitments", form, "commitment_form",
        lambda d: services.commitment_add(deal=deal, user=request.user, **d),
        "Commitment recorded; it will travel into the handoff.",
    )  # fmt: skip


@require_POST
def commitment_status(request, pk, commitment_id):
    page = _editable_page(request, pk)
    deal = page.deal
    commitment = _child(deal, Commitment, commitment_id)
    form = f.CommitmentStatusForm(request.POST)
    if not form.is_valid():
        return _refused(request, page, "commitments", ValidationError("Pick a valid status."))
    status = form.cleaned_data["status"]
    services.commitment_set_status(commitment=commitment, user=request.user, status=status)
    label = Commitment.Status(status).label.lower()
    return _written(request, page, "commitments", f"Commitment marked {label}.")


@require_POST
def disclosure_add(request, pk):
    page = _editable_page(request, pk)
    deal = page.deal
    form = f.DisclosureForm(request.POST, prefix="disclosure")
    return _save_form(
        request, page, "disclosures", form, "disclosure_form",
        lambda d: services.disclosure_add(deal=deal, user=request.user, **d),
        "Disclosure recorded.",
    )  # fmt: skip


# ---------------------------------------------------------------------------------------
# Helpers shared by the deal page's views


def _editable_page(request, pk) -> DealPage:
    """The deal's page if the user may change it: invisible answers 404, read-only 403."""
    page = selectors.deal_page(user=request.user, deal_id=pk)
    if not page.can_edit:
        raise PermissionDenied("You can view this deal but not change it.")
    return page


def _apply_errors(form, exc: ValidationError, rename: dict | None = None) -> None:
    rename = rename or {}
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            field = rename.get(field, field)
            for message in errors:
                form.add_error(field if field in form.fields else None, message)
    else:
        for message in exc.messages:
            form.add_error(None, message)


def _save_form(request, page, section, form, form_key, write, message, **section_kwargs):
    """Validate `form`, call the service through `write`, answer with the section."""
    if form.is_valid():
        try:
            write(dict(form.cleaned_data))
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            return _written(request, page, section, message)
    if form_key:
        section_kwargs[form_key] = form
    if request.htmx:
        return _section_response(request, page, section, status=400, **section_kwargs)
    context = _detail_context(request, page, **section_kwargs)
    return render(request, "deals/deal_detail.html", context, status=400)


def _written(request, page, section, message):
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
        html = render_to_string("deals/_summary.html", _summary_context(request, page), request)
        trigger = "historyChanged"
    elif section is None:  # the deal edit form closes; the header reloads itself
        html = render_to_string(
            "deals/_deal_edit.html", {"deal": page.deal, "closed": True}, request
        )
        trigger = "dealChanged"
    else:
        html = _render_section(request, page, section)
        trigger = "dealChanged"
    html += render_to_string("deals/_flash.html", {"message": message, "oob": True}, request)
    response = HttpResponse(html)
    response["HX-Trigger"] = trigger
    return response


def _refused(request, page, section, exc: ValidationError):
    message = " ".join(exc.messages)
    if not request.htmx:
        messages.error(request, message)
        return redirect(reverse("deals:deal_detail", args=[page.deal.pk]) + f"#section-{section}")
    html = _render_section(request, page, section)
    html += render_to_string(
        "deals/_flash.html", {"message": message, "level": "error", "oob": True}, request
    )
    return HttpResponse(html, status=400)


# --- what each part of the page shows ------------------------------------------------------

SECTIONS = {
    "needs": "deals/sections/_needs.html",
    "plan": "deals/sections/_plan.html",
    "activities": "deals/sections/_activities.html",
    "concessions": "deals/sections/_concessions.html",
    "commitments": "deals/sections/_commitments.html",
    "disclosures": "deals/sections/_disclosures.html",
    "history": "deals/sections/_history.html",
}


def _policy(deal: Deal) -> HealthPolicy:
    """The deal's health policy, read once per request however many parts of the page ask."""
    cached = getattr(deal, "_health_policy", None)
    if cached is None:
        cached = deal._health_policy = policy_for_team(deal.team_id)  # type: ignore[attr-defined]
    return cached


def _score_level(value, threshold: int) -> str:
    if value is None:
        return ""
    return "low" if value < 50 else "mid" if value < threshold else "high"


def _summary_context(request, page: DealPage, stage_form=None, confirm_close=None) -> dict:
    deal = page.deal
    flags = present_flags(sort_flags(list(page.flags)), deal=deal)
    policy = _policy(deal)
    can_edit = page.can_edit
    # A missing reverse one-to-one raises an AttributeError subclass, so getattr's default works.
    handoff = getattr(deal, "handoff", None)
    open_stages = [(s, label) for s, label in Deal.Stage.choices if s in Deal.OPEN_STAGES]
    next_stage = _next_stage(deal)
    previews = []
    if can_edit and deal.is_open:
        # What the next stage and the close would raise, while it can still be fixed.
        stages = [s for s in (next_stage[0] if next_stage else None, "closed_won") if s]
        previewed = health_preview(deal_id=deal.pk, stages=stages, policy=policy)
        for stage, preview in previewed.items():
            present_flags(preview.flags, deal=deal)
            previews.append(
                {
                    "stage": stage,
                    "label": Deal.Stage(stage).label,
                    "preview": preview,
                    "new_flags": [fl for fl in preview.flags if fl.code in preview.new_codes],
                }
            )
    return {
        "deal": deal,
        "can_edit": can_edit,
        # A handed-off deal also reopens for a manager of its team (deal_reopen decides).
        "can_reopen": can_edit
        or (
            handoff is not None
            and handoff.status != "draft"
            and visibility.user_can_reopen_handed_off_deal(request.user, deal)
        ),
        "flags": flags,
        "breakdown": score(flags, policy).breakdown if deal.health_computed_at else None,
        "buyer_level": _score_level(deal.buyer_score, policy.win_win_threshold),
        "seller_level": _score_level(deal.seller_score, policy.win_win_threshold),
        "stage_form": stage_form or f.StageForm(),
        "open_stages": open_stages,
        "next_stage": next_stage,
        "handoff": handoff if deal.stage == Deal.Stage.CLOSED_WON else None,
        "reopened_handoff": handoff if deal.stage != Deal.Stage.CLOSED_WON else None,
        "previews": previews,
        "confirm_close": confirm_close,
        "days_in_stage": days_between(deal.stage_changed_at),
        "stage_limit": stage_days_limit(policy, deal.stage) if deal.is_open else None,
    }


def _next_stage(deal):
    if deal.stage not in Deal.OPEN_STAGES or deal.stage == Deal.Stage.NEGOTIATION:
        return None
    order = list(Deal.OPEN_STAGES)
    nxt = order[order.index(deal.stage) + 1]
    return nxt, Deal.Stage(nxt).label


def _section_context(request, page, section, **kw) -> dict:
    deal = page.deal
    ctx = {"deal": deal, "can_edit": page.can_edit, "today": timezone.localdate()}
    if section == "needs":
        needs, items = page.needs, page.items
        min_importance = _policy(deal).unmet_need_min_importance
        for need in needs:
            need.unmet = need.importance >= min_importance and not need.line_items.all()
        for item in items:
            item.oversell = not item.needs.all()
            item.total = item.quantity * item.unit_price
        ctx.update(
            needs=needs,
            items=items,
            need_form=kw.get("need_form") or f.NeedForm(prefix="need"),
            item_form=kw.get("item_form") or f.LineItemForm(deal=deal, prefix="item"),
            edit_need=kw.get("edit_need"),
            edit_item=kw.get("edit_item"),
        )
    elif section == "plan":
        ctx.update(
            milestones=page.milestones,
            milestone_form=kw.get("milestone_form") or f.MilestoneForm(prefix="milestone"),
        )
    elif section == "activities":
        ctx.update(
            activities=page.activities,
            calls=page.calls,
            activity_form=kw.get("activity_form") or f.ActivityForm(prefix="activity"),
        )
    elif section == "concessions":
        ctx.update(
            concessions=page.concessions,
            concession_form=kw.get("concession_form") or f.ConcessionForm(prefix="concession"),
            price_kind=Concession.Kind.PRICE,
        )
    elif section == "commitments":
        ctx.update(
            commitments=page.commitments,
            commitment_form=kw.get("commitment_form") or f.CommitmentForm(prefix="commitment"),
        )
    elif section == "disclosures":
        ctx.update(
            disclosures=page.disclosures,
            disclosure_form=kw.get("disclosure_form") or f.DisclosureForm(prefix="disclosure"),
        )
    elif section == "history":
        ctx.update(history=_history(page.history))
    return ctx


def _render_section(request, deal, section, **kw) -> str:
    return render_to_string(
        SECTIONS[section], _section_context(request, deal, section, **kw), request
    )


def _section_response(request, page, section, status=200, **kw):
    return HttpResponse(_render_section(request, page, section, **kw), status=status)


HISTORY_MODELS = {
    "deal": "",
    "line_item": "item",
    "concession": "concession",
    "commitment": "commitment",
}


def _history(entries: list[dict]) -> list[dict]:
    """Recent changes to the deal, its items, concessions and commitments, ready to show."""
    for entry in entries:
        entry["model_label"] = HISTORY_MODELS.get(entry["model"], entry["model"])
        entry["changes"] = [
            {
                "label": change["field"].replace("_", " ").capitalize(),
                "old": _history_value(change["field"], change["old"]),
                "new": _history_value(change["field"], change["new"]),
            }
            for change in entry["changes"]
            if change["field"] not in ("version", "created_by", "history_user")
        ]
    return entries


def _history_value(field, value):
    if field == "stage" and value in Deal.Stage.values:
        return Deal.Stage(value).label
    if field.endswith("_at") and isinstance(value, str):
        moment = parse_datetime(value)  # history stores it as "2026-11-23 03:09:28+00:00"
        if moment is not None:
            return date_format(timezone.localtime(moment), "j M Y H:i")
    return "—" if value in (None, "") else value


def _detail_context(request, page, stage_form=None, confirm_close=None, **section_kwargs) -> dict:
    context = _summary_context(request, page, stage_form=stage_form, confirm_close=confirm_close)
    context["nav"] = "deals"
    context["sections"] = {}
    for section in SECTIONS:
        own = {k: v for k, v in section_kwargs.items() if k in _SECTION_KWARGS[section]}
        context["sections"][section] = _render_section(request, page, section, **own)
    return context


_SECTION_KWARGS = {
    "needs": {"need_form", "item_form", "edit_need", "edit_item"},
    "plan": {"milestone_form"},
    "activities": {"activity_form"},
    "concessions": {"concession_form"},
    "commitments": {"commitment_form"},
    "disclosures": {"disclosure_form"},
    "history": set(),
}
