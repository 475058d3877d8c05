"""What each part of the deal page shows: the header's context, the sections, the history."""

from __future__ import annotations

from typing import cast

from django.forms import ModelMultipleChoiceField
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format

from deals import forms as f
from deals import visibility
from deals.health.policy import policy_for_team
from deals.health.present import days_between, present_flags
from deals.health.preview import health_preview
from deals.health.rules import stage_days_limit
from deals.health.scoring import score
from deals.health.store import sort_flags
from deals.models import Concession, Deal, HealthPolicy
from deals.selectors import DealPage

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


# The sections with one "add" form: its prefix (the form is `<prefix>_form` in the
# context and posts its fields under the prefix), its class, what the section lists.
SECTION_ADD_FORMS: dict[str, tuple[str, type, tuple[str, ...]]] = {
    "plan": ("milestone", f.MilestoneForm, ("milestones",)),
    "activities": ("activity", f.ActivityForm, ("activities", "calls")),
    "concessions": ("concession", f.ConcessionForm, ("concessions",)),
    "commitments": ("commitment", f.CommitmentForm, ("commitments",)),
    "disclosures": ("disclosure", f.DisclosureForm, ("disclosures",)),
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


def summary_context(request, page: DealPage, stage_form=None, confirm_close=None) -> dict:
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
        need_form = kw.get("need_form") or f.NeedForm(prefix="need")
        item_form = kw.get("item_form")
        if item_form is None:
            item_form = f.LineItemForm(deal=deal, prefix="item")
            # The blank form lists the needs the section read (in the same order), not
            # its own query of them; a posted form still validates against the queryset.
            needs_field = cast(ModelMultipleChoiceField, item_form.fields["needs"])
            needs_field.choices = [(need.pk, str(need)) for need in needs]
        ctx.update(
            needs=needs,
            items=items,
            need_form=need_form,
            need_fields=add_form_fields(need_form, "need"),
            item_form=item_form,
            edit_need=kw.get("edit_need"),
            edit_item=kw.get("edit_item"),
        )
    elif section in SECTION_ADD_FORMS:
        prefix, form_class, listed = SECTION_ADD_FORMS[section]
        ctx.update({name: getattr(page, name) for name in listed})
        form = ctx[f"{prefix}_form"] = kw.get(f"{prefix}_form") or form_class(prefix=prefix)
        ctx[f"{prefix}_fields"] = add_form_fields(form, prefix)
        if section == "concessions":
            ctx["price_kind"] = Concession.Kind.PRICE
    elif section == "history":
        ctx.update(history=_history(page.history))
    return ctx


# Rendered fields of blank "add" forms, by everything their HTML depends on. Every deal
# page shows the same blank forms (their fields: not the csrf token, not the errors), and
# rendering their thirty widgets through the form templates was a quarter of the page.
_BLANK_FORM_FIELDS: dict[tuple, str] = {}
_BLANK_FORM_FIELDS_MAX = 500  # keys change with the language, time zone and initial time


def add_form_fields(form, prefix: str) -> str:
    """The fields of a section's add form (templates/deals/sections/add/<prefix>.html) as
    HTML. A blank form is rendered once per process for its class, prefix, initial
    values, language and time zone; a posted one, with its values and errors, every time.
    Only for forms whose choices are fixed (not the proposal item's, which lists the
    deal's needs)."""
    template = f"deals/sections/add/{prefix}.html"
    if form.is_bound:
        return render_to_string(template, {"form": form})
    key = (
        template,
        type(form),
        form.prefix,
        translation.get_language(),
        timezone.get_current_timezone_name(),
        tuple((name, repr(form[name].value())) for name in form.fields),
    )
    html = _BLANK_FORM_FIELDS.get(key)
    if html is None:
        if len(_BLANK_FORM_FIELDS) >= _BLANK_FORM_FIELDS_MAX:
            _BLANK_FORM_FIELDS.clear()
        html = _BLANK_FORM_FIELDS[key] = render_to_string(template, {"form": form})
    return html


def render_section(request, deal, section, **kw) -> str:
    return render_to_string(
        SECTIONS[section], _section_context(request, deal, section, **kw), request
    )


def section_response(request, page, section, status=200, **kw):
    return HttpResponse(render_section(request, page, section, **kw), status=status)


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


def detail_context(request, page, stage_form=None, confirm_close=None, **section_kwargs) -> dict:
    context = summary_context(request, page, stage_form=stage_form, confirm_close=confirm_close)
    context["nav"] = "deals"
    context["sections"] = {}
    for section in SECTIONS:
        own = {k: v for k, v in section_kwargs.items() if k in _SECTION_KWARGS[section]}
        context["sections"][section] = render_section(request, page, section, **own)
    return context


# Which keyword arguments of detail_context belong to which section.
_SECTION_KWARGS = {
    "needs": {"need_form", "item_form", "edit_need", "edit_item"},
    **{section: {f"{prefix}_form"} for section, (prefix, _, _) in SECTION_ADD_FORMS.items()},
    "history": set(),
}
