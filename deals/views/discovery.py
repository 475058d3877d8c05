"""Logging a discovery call: attendees (new ones too), needs and milestones in one post."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from deals import forms as f
from deals import services
from deals.views.responses import editable_page


@require_http_methods(["GET", "POST"])
def discovery_call_create(request, pk):
    page = editable_page(request, pk)
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
