"""Inline writes on the deal page: one small view per action, all answering the same way."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_http_methods, require_POST

from deals import forms as f
from deals import services
from deals.models import BuyerMilestone, Commitment, LineItem, Need
from deals.views.context import SECTION_ADD_FORMS, section_response
from deals.views.responses import editable_page, refused, save_form, written


def _child(deal, model, child_id):
    return get_object_or_404(model, pk=child_id, deal=deal)


def _add_view(section: str, service: str, message: str, form: tuple[str, type] | None = None):
    """The "add" endpoint of a section: its form (SECTION_ADD_FORMS unless given as
    prefix and class), one service call (looked up on deals.services when the request
    comes), the section's answer."""
    prefix, form_class = form or SECTION_ADD_FORMS[section][:2]

    @require_POST
    def view(request, pk):
        page = editable_page(request, pk)
        posted = form_class(request.POST, prefix=prefix)

        def write(data):
            return getattr(services, service)(deal=page.deal, user=request.user, **data)

        return save_form(request, page, section, posted, f"{prefix}_form", write, message)

    view.__name__ = view.__qualname__ = f"{prefix}_add"
    return view


need_add = _add_view("needs", "need_create", "Need added.", form=("need", f.NeedForm))
milestone_add = _add_view("plan", "milestone_create", "Milestone added to the plan.")
activity_add = _add_view("activities", "activity_log", "Activity logged.")
commitment_add = _add_view(
    "commitments", "commitment_add", "Commitment recorded; it will travel into the handoff."
)
disclosure_add = _add_view("disclosures", "disclosure_add", "Disclosure recorded.")


@require_http_methods(["GET", "POST"])
def need_edit(request, pk, need_id):
    page = editable_page(request, pk)
    deal = page.deal
    need = _child(deal, Need, need_id)
    data = request.POST if request.method == "POST" else None
    form = f.NeedForm(data, instance=need, prefix=f"need-{need.pk}")
    if request.method == "GET":
        return section_response(request, page, "needs", edit_need=(need.pk, form))
    return save_form(
        request, page, "needs", form, None,
        lambda d: services.need_update(need=need, user=request.user, **d),
        "Need updated.",
        edit_need=(need.pk, form),
    )  # fmt: skip


@require_POST
def line_item_add(request, pk):
    page = editable_page(request, pk)
    deal = page.deal
    form = f.LineItemForm(request.POST, deal=deal, prefix="item")

    def create(data):
        need_ids = [n.pk for n in data.pop("needs")]
        return services.line_item_create(deal=deal, user=request.user, need_ids=need_ids, **data)

    return save_form(request, page, "needs", form, "item_form", create, "Proposal item added.")


@require_http_methods(["GET", "POST"])
def line_item_edit(request, pk, item_id):
    page = editable_page(request, pk)
    deal = page.deal
    item = _child(deal, LineItem, item_id)
    data = request.POST if request.method == "POST" else None
    form = f.LineItemForm(data, deal=deal, instance=item, prefix=f"item-{item.pk}")
    if request.method == "GET":
        return section_response(request, page, "needs", edit_item=(item.pk, form))

    def update(data):
        need_ids = [n.pk for n in data.pop("needs")]
        return services.line_item_update(
            line_item=item, user=request.user, need_ids=need_ids, **data
        )

    return save_form(
        request, page, "needs", form, None, update, "Proposal item updated.",
        edit_item=(item.pk, form),
    )  # fmt: skip


@require_POST
def line_item_delete(request, pk, item_id):
    page = editable_page(request, pk)
    deal = page.deal
    item = _child(deal, LineItem, item_id)
    name = item.name
    try:
        services.line_item_delete(line_item=item, user=request.user)
    except ValidationError as exc:
        return refused(request, page, "needs", exc)
    return written(request, page, "needs", f"Removed “{name}”.")


@require_POST
def milestone_toggle(request, pk, milestone_id):
    page = editable_page(request, pk)
    deal = page.deal
    milestone = _child(deal, BuyerMilestone, milestone_id)
    form = f.MilestoneToggleForm(request.POST)
    completed = form.is_valid() and form.cleaned_data["completed"]
    services.milestone_set_completed(milestone=milestone, user=request.user, completed=completed)
    verb = "done" if completed else "open again"
    return written(request, page, "plan", f"“{milestone.title}” marked {verb}.")


@require_POST
def concession_add(request, pk):
    page = editable_page(request, pk)
    deal = page.deal
    form = f.ConcessionForm(request.POST, prefix="concession")

    def add(data):
        data.pop("no_exchange", None)
        return services.concession_add(deal=deal, user=request.user, **data)

    return save_form(
        request, page, "concessions", form, "concession_form", add, "Concession recorded."
    )


@require_POST
def commitment_status(request, pk, commitment_id):
    page = editable_page(request, pk)
    deal = page.deal
    commitment = _child(deal, Commitment, commitment_id)
    form = f.CommitmentStatusForm(request.POST)
    if not form.is_valid():
        return refused(request, page, "commitments", ValidationError("Pick a valid status."))
    status = form.cleaned_data["status"]
    services.commitment_set_status(commitment=commitment, user=request.user, status=status)
    label = Commitment.Status(status).label.lower()
    return written(request, page, "commitments", f"Commitment marked {label}.")
