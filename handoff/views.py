"""Handoff pages: the delivery queue, the handoff page, and the rep's draft with its checklist.

Each action view fetches through the selectors (404 for handoffs the user may not see),
calls one service, flashes what happened and redirects back to the handoff page. A
refused transition is a flash error; invalid form input re-renders the page with the
errors (400); a permission refusal is the 403 page.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from deals.models import Commitment
from winwin_crm.accounts.roles import DELIVERY, REP, roles_of

from . import permissions, selectors, services
from .forms import AnswerForm, AskForm, CheckInForm, CommitmentStatusForm, NotesForm
from .models import CheckIn, Handoff, HandoffChecklistItem
from .package import package_build

Status = Handoff.Status
PAGE_SIZE = 50


def _default_tab(user) -> str:
    roles = roles_of(user)
    if DELIVERY in roles:
        return "unclaimed"
    if REP in roles:
        return "draft"
    return "all"


@require_GET
def queue(request):
    role_tabs = selectors.queue_tabs_for(request.user)
    tabs = dict(role_tabs)
    tab = request.GET.get("tab") or _default_tab(request.user)
    if tab not in tabs:
        tab = _default_tab(request.user)
    counts = selectors.handoff_queue_counts(user=request.user)
    page = Paginator(selectors.handoff_queue(user=request.user, tab=tab), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "handoff/queue.html",
        {
            "nav": "handoffs",
            "tab": tab,
            "tab_label": tabs[tab],
            "tabs": [(key, label, counts[key]) for key, label in role_tabs],
            "intro": selectors.ROLE_INTROS[selectors.queue_role(request.user)],
            "page": page,
            "handoffs": page.object_list,
            "now": timezone.now(),
        },
    )


def _error_messages(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [m for errors in exc.message_dict.values() for m in errors]
    return list(exc.messages)


def _add_errors(form, exc: ValidationError) -> None:
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for field, errors in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


def _render_detail(request, handoff: Handoff, *, forms=None, status: int = 200):
    user = request.user
    parts = selectors.handoff_detail_parts(handoff=handoff)
    is_rep = permissions.is_deal_rep(user, handoff)
    is_member = permissions.is_delivery_member(user, handoff)
    is_assignee = permissions.is_assignee(user, handoff)
    forms = forms or {}
    check_in_forms = forms.get("check_in_forms", {})
    check_ins = [
        (
            check_in,
            check_in_forms.get(check_in.pk)
            or CheckInForm(
                prefix=f"checkin-{check_in.pk}",
                initial={
                    "customer_value": check_in.customer_value,
                    "account_health": check_in.account_health,
                    "referrals": check_in.referrals,
                    "notes": check_in.notes,
                },
            ),
        )
        for check_in in parts["check_ins"]
    ]
    package = handoff.package or package_build(
        deal=handoff.deal, notes_for_delivery=handoff.notes_for_delivery
    )
    checklist = parts["checklist"]
    context = {
        "nav": "handoffs",
        "handoff": handoff,
        "deal": handoff.deal,
        "package": package,
        "is_preview": not handoff.package,
        "changes": selectors.handoff_changes_since_snapshot(handoff=handoff),
        "checklist": checklist,
        "unchecked_required": [i for i in checklist if i.required and i.checked_at is None],
        "thread": parts["messages"],
        "events": parts["events"],
        "commitments": parts["commitments"],
        "leak_activities": parts["leak_activities"],
        "check_ins": check_ins,
        "next_check_in_id": next(
            (c.pk for c in parts["check_ins"] if c.completed_at is None), None
        ),
        "is_rep": is_rep,
        "can_edit_draft": is_rep and handoff.status == Status.DRAFT,
        "can_claim": is_member and handoff.status == Status.SUBMITTED,
        "can_ask": is_assignee and handoff.status == Status.CLAIMED,
        "can_answer": is_rep and handoff.status == Status.NEEDS_INFO,
        "can_accept": is_assignee and handoff.status == Status.CLAIMED,
        "can_keep_promises": is_member and handoff.status == Status.ACCEPTED,
        "notes_form": forms.get("notes_form")
        or NotesForm(initial={"notes_for_delivery": handoff.notes_for_delivery}),
        "ask_form": forms.get("ask_form") or AskForm(),
        "answer_form": forms.get("answer_form") or AnswerForm(),
        "submit_errors": forms.get("submit_errors", []),
        "now": timezone.now(),
    }
    return render(request, "handoff/detail.html", context, status=status)


@require_GET
def detail(request, pk: int):
    handoff = selectors.handoff_get(user=request.user, handoff_id=pk)
    return _render_detail(request, handoff)


def _back(handoff):
    return redirect("handoff:detail", pk=handoff.pk)


def _attempt(request, handoff, call, success: str, nobody: str = "Nobody could be notified."):
    """Run one service; flash success or the refusal. Returns (result, ValidationError)."""
    try:
        result = call()
    except services.HandoffTransitionError as exc:
        messages.error(request, str(exc))
        return None, None
    except ValidationError as exc:
        return None, exc
    told = getattr(result, "notify_result", None)
    if told is None:
        messages.success(request, success)
    elif not told.notified or told.no_email:
        # Where it matters: the sender learns the person has no inbox to reach by email.
        messages.warning(request, f"{success} {told.sentence(nobody=nobody)}")
    else:
        messages.success(request, f"{success} {told.sentence()}")
    return result, None


@require_POST
def submit(request, pk: int):
    handoff = selectors.handoff_get(user=request.user, handoff_id=pk)
    form = NotesForm(request.POST)
    if not form.is_valid():
        return _render_detail(request, handoff, forms={"notes_form": form}, status=400)
    _, error = _attempt(
        request,
        handoff,
        lambda: services.handoff_submit(
            handoff=handoff,
            user=request.user,
            notes_for_delivery=form.cleaned_data["notes_for_delivery"],
        ),
        "Handoff submitted.",
        nobody="Nobody on the delivery team could be notified: it has no active members.",
    )
    if error is not None:
        handoff = selectors.handoff_get(user=request.user, handoff_id=pk)
        return _render_detail(
            request,
            handoff,
            forms={"notes_form": form, "submit_errors": _error_messages(error)},
            status=400,
        )
    return _back(handoff)


@require_POST
def notes(request, pk: int):
    handoff = selectors.handoff_get(user=request.user, handoff_id=pk)
    form = NotesForm(request.POST)
    if not form.is_valid():
        return _render_detail(request, handoff, forms={"notes_form": form}, status=400)
    _attempt(
        request,
        handoff,
        lambda: services.handoff_notes_update(
            handoff=handoff,
            user=request.user,
            notes_for_delivery=form.cleaned_data["notes_for_delivery"],
        ),
        "Notes for delivery saved.",
    )
    return _back(handoff)


@require_POST
def claim(request, pk: int):
    handoff = selectors.handoff_get(user=request.user, handoff_id=pk)
    _attempt(
        request,
        handoff,
        lambda: services.handoff_claim(handoff=handoff, user=request.user),
        "You claimed this handoff.",
    )
    return _back(handoff)


@require_POST
def ask(request, pk: int):
    handoff = selectors.handoff_get(user=request.user, handoff_id=pk)
    form = AskForm(request.POST)
    if form.is_valid():
        _, error = _attempt(
            request,
            handoff,
            lambda: services.handoff_ask(
                handoff=handoff, user=request.user, question=form.cleaned_data["question"]
            ),
            "Question sent to the rep.",
        )
        if error is None:
            return _back(handoff)
        _add_errors(form, error)
    return _render_detail(request, handoff, forms={"ask_form": form}, status=400)


@require_POST
def answer(request, pk: int):
    handoff = selectors.handoff_get(user=request.user, handoff_id=pk)
    form = AnswerForm(request.POST)
    if form.is_valid():
        _, error = _attempt(
            request,
            handoff,
            lambda: services.handoff_answer(
                handoff=handoff, user=request.user, answer=form.cleaned_data["answer"]
            ),
            "Answer sent to delivery.",
        )
        if error is None:
            return _back(handoff)
        _add_errors(form, error)
    return _render_detail(request, handoff, forms={"answer_form": form}, status=400)


@require_POST
def accept(request, pk: int):
    handoff = selectors.handoff_get(user=request.user, handoff_id=pk)
    _attempt(
        request,
        handoff,
        lambda: services.handoff_accept(handoff=handoff, user=request.user),
        "Handoff accepted: the customer and their open commitments are yours. "
        "Check-ins are scheduled at 30, 90 and 180 days.",
    )
    return _back(handoff)


@require_POST
def checklist_toggle(request, pk: int, item_id: int):
    handoff = selectors.handoff_get(user=request.user, handoff_id=pk)
    item = get_object_or_404(HandoffChecklistItem, pk=item_id, handoff=handoff)
    checked = request.POST.get("checked") in ("on", "true", "1")
    try:
        item = services.checklist_item_set(item=item, user=request.user, checked=checked)
    except services.HandoffTransitionError as exc:
        messages.error(request, str(exc))
        return _back(handoff)
    if request.htmx:
        checklist = list(HandoffChecklistItem.objects.filter(handoff=handoff))
        return render(
            request,
            "handoff/_checklist.html",
            {
                "handoff": handoff,
                "checklist": checklist,
                "can_edit_draft": True,
                "unchecked_required": [i for i in checklist if i.required and not i.checked_at],
                "saved_item": item,
            },
        )
    messages.success(request, f"“{item.label}” {'ticked' if item.checked_at else 'unticked'}.")
    return _back(handoff)


@require_POST
def commitment_status(request, pk: int, commitment_id: int):
    handoff = selectors.handoff_get(user=request.user, handoff_id=pk)
    commitment = get_object_or_404(Commitment, pk=commitment_id, deal_id=handoff.deal_id)
    form = CommitmentStatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose open, done or broken.")
        return _back(handoff)
    status = form.cleaned_data["status"]
    _, error = _attempt(
        request,
        handoff,
        lambda: services.handoff_commitment_set_status(
            commitment=commitment, user=request.user, status=status
        ),
        f"“{commitment.description}” marked {Commitment.Status(status).label.lower()}.",
    )
    if error is not None:
        for message in _error_messages(error):
            messages.error(request, message)
    return _back(handoff)


@require_POST
def check_in_record(request, pk: int, check_in_id: int):
    handoff = selectors.handoff_get(user=request.user, handoff_id=pk)
    check_in = get_object_or_404(CheckIn, pk=check_in_id, handoff=handoff)
    form = CheckInForm(request.POST, prefix=f"checkin-{check_in.pk}")
    if form.is_valid():
        data = form.cleaned_data
        _, error = _attempt(
            request,
            handoff,
            lambda: services.check_in_record(
                check_in=check_in,
                user=request.user,
                customer_value=data["customer_value"],
                account_health=data["account_health"],
                referrals=data["referrals"],
                notes=data["notes"],
            ),
            f"Day-{check_in.day_offset} check-in recorded.",
        )
        if error is None:
            return _back(handoff)
        _add_errors(form, error)
    return _render_detail(
        request, handoff, forms={"check_in_forms": {check_in.pk: form}}, status=400
    )
