"""Planning the deal rows: prospect, stage, status, pricing and the deal's contact."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from deals.imports import parsing as p
from deals.imports.validation.contacts import existing_contacts
from deals.imports.validation.convert import (
    changed_values,
    existing_outcome,
    finish_row,
    header_for,
    in_chunks,
    mark_duplicate,
)
from deals.imports.validation.plan import (
    LOST_REASON_MISSING,
    ImportPlan,
    PlanContext,
    PlannedRow,
    SourceRow,
)
from deals.imports.validation.prospects import (
    by_lower_name,
    existing_prospects,
    resolve_prospect,
)
from deals.models import Deal, LineItem

DEAL_FIELDS = (
    "title",
    "stage",
    "owner_id",
    "currency",
    "expected_close_date",
    "lost_reason",
    "notes_for_delivery",
    "external_id",
)
PRICING_FIELDS = ("list_total", "net_total", "cost_total")


def _existing_deals(team, prospect_ids: list[int], external_ids: list[str]) -> list[dict]:
    fields = ("id", "prospect_id", "version", *DEAL_FIELDS, *PRICING_FIELDS)
    found: dict[int, dict] = {}
    for chunk in in_chunks(prospect_ids):
        for d in Deal.objects.filter(team=team, prospect_id__in=chunk).values(*fields):
            found[d["id"]] = d
    for chunk in in_chunks(external_ids):
        for d in Deal.objects.filter(team=team, external_id__in=chunk).values(*fields):
            found[d["id"]] = d
    return list(found.values())


def _pricing(values: dict) -> dict | None:
    """list/net/cost for the one 'Imported value' item, or None when the row has no money."""
    amount = values.get("amount")
    list_total = values.get("list_total", amount)
    net_total = values.get("net_total", amount if amount is not None else list_total)
    if list_total is None and net_total is None:
        return None
    list_total = list_total if list_total is not None else net_total
    return {
        "list_total": list_total,
        "net_total": net_total,
        "cost_total": values.get("cost_total") or Decimal("0.00"),
    }


def plan_deals(plan: ImportPlan, rows: list[SourceRow], ctx: PlanContext) -> None:
    prospects_by_name = by_lower_name(existing_prospects(ctx.team))
    contacts_by_email, contacts_by_name = existing_contacts(ctx.team)
    wanted_prospects = set()
    wanted_ext = set()
    for row in rows:
        if row.values.get("prospect"):
            match = prospects_by_name.get(row.values["prospect"].lower())
            if match:
                wanted_prospects.add(match["id"])
        if row.values.get("external_id"):
            wanted_ext.add(row.values["external_id"])
    existing = _existing_deals(ctx.team, sorted(wanted_prospects), sorted(wanted_ext))
    by_ext = {d["external_id"]: d for d in existing if d["external_id"]}
    by_natural: dict[tuple[str, int], dict[str, Any]] = {}
    for d in existing:
        by_natural.setdefault((d["title"].lower(), d["prospect_id"]), d)

    seen: dict[tuple, int] = {}
    contact_keys: set[tuple] = set()
    updates: list[tuple[PlannedRow, dict, dict]] = []
    for row in rows:
        values = row.values
        if (
            not values.get("title")
            and values.get("prospect")
            and ctx.profile
            and ctx.profile.title_from_organization
        ):
            # Frappe CRM and Close deals have no title: they are known by their organisation.
            ext = values.get("external_id")
            values["title"] = f"{values['prospect']} ({ext})" if ext else values["prospect"]
        if _decide_status(plan, row) == "deleted":
            plan.rows.append(
                PlannedRow(row.number, "skip", reason="deleted in the CRM it comes from")
            )
            mark_duplicate(
                plan,
                row.number,
                values.get("title", ""),
                "skip",
                "The old CRM marks this deal deleted; it is not imported.",
            )
            continue
        if "owner" not in values and not any(
            pr["column"] == header_for(plan, "owner") for pr in row.problems
        ):
            if ctx.default_owner_id:
                values["owner"] = ctx.default_owner_id
                values["owner_defaulted"] = True
            else:
                row.problem(
                    header_for(plan, "owner"),
                    "",
                    "The row names no owner; choose a default owner rep.",
                )
        error = finish_row(plan, row, {"title": "Deal name", "prospect": "Organization"})
        if error:
            plan.rows.append(error)
            continue
        prospect_key = resolve_prospect(plan, prospects_by_name, values["prospect"])
        prospect_id = plan.prospects[prospect_key][1]
        title = values["title"]
        ext = values.get("external_id") or ""
        keys: list[tuple[str, ...]] = [("title", title.lower(), prospect_key)]
        if ext:
            keys.insert(0, ("ext", ext))
        earlier = next((seen[k] for k in keys if k in seen), None)
        if earlier:
            mark_duplicate(plan, row.number, title, "skip", f"Same deal as row {earlier}.")
            plan.rows.append(PlannedRow(row.number, "skip", reason=f"duplicate of row {earlier}"))
            continue
        for k in keys:
            seen[k] = row.number
        _plan_deal_contact(
            plan, row, prospect_key, prospect_id, contacts_by_email, contacts_by_name, contact_keys
        )
        proposed = {
            "title": title,
            "stage": values.get("stage"),
            # An existing deal changes owner only when the file names a rep of the team.
            "owner_id": values.get("owner"),
            "currency": values.get("currency"),
            "expected_close_date": values.get("expected_close_date"),
            "lost_reason": values.get("lost_reason"),
            "notes_for_delivery": values.get("notes_for_delivery"),
            "external_id": ext or None,
        }
        pricing = _pricing(values)
        closed_at = values.get("closed_at")
        match = by_ext.get(ext) if ext else None
        if match is None and prospect_id is not None:
            match = by_natural.get((title.lower(), prospect_id))
        if match is None:
            proposed["stage"] = proposed["stage"] or Deal.Stage.DISCOVERY
            if proposed["stage"] == Deal.Stage.CLOSED_LOST and not proposed["lost_reason"]:
                proposed["lost_reason"] = (
                    f"Imported as {values['status_word']}; the file gave no reason."
                    if values.get("status_word") not in (None, "lost")
                    else LOST_REASON_MISSING
                )
            proposed["currency"] = proposed["currency"] or ctx.default_currency
            if proposed["stage"] not in Deal.CLOSED_STAGES:
                closed_at = None
            plan.rows.append(
                PlannedRow(
                    row.number,
                    "create",
                    values={
                        **proposed,
                        "pricing": pricing,
                        "closed_at": closed_at,
                        "imported_from": ctx.profile.code if ctx.profile else "csv",
                    },
                    prospect_key=prospect_key,
                )
            )
            continue
        if values.get("owner_defaulted"):
            proposed["owner_id"] = None
        planned = PlannedRow(
            row.number,
            "update",
            existing_id=match["id"],
            prospect_key=prospect_key,
            values={**proposed, "title": title, "pricing": pricing},
        )
        if match["external_id"] and ext and match["external_id"] != ext:
            proposed["external_id"] = None
        changes = changed_values(match, proposed)
        if "stage" in changes and (
            match["stage"] in Deal.CLOSED_STAGES or changes["stage"] in Deal.CLOSED_STAGES
        ):
            del changes["stage"]
            row.warn(
                header_for(plan, "stage"),
                values.get("stage", ""),
                "Stage not changed: closing or reopening an existing deal is done on the "
                "deal page, where it starts or stops the handoff.",
            )
        if pricing:
            price_changes = changed_values(match, pricing)
            if price_changes:
                changes["pricing"] = pricing
        updates.append((planned, changes, match))
        plan.rows.append(planned)

    # Existing deals priced with real proposal items keep them; only a deal priced by an
    # earlier import (or not priced) takes the file's value.
    priced_ids: set[int] = set()
    for chunk in in_chunks([m["id"] for _, c, m in updates if "pricing" in c]):
        priced_ids.update(
            LineItem.objects.filter(deal_id__in=chunk)
            .filter(imported=False)
            .values_list("deal_id", flat=True)
        )
    for planned, changes, match in updates:
        if "pricing" in changes and match["id"] in priced_ids:
            del changes["pricing"]
            plan.warnings.append(
                {
                    "row": planned.row,
                    "column": header_for(plan, "amount"),
                    "value": "",
                    "message": "Value not changed: the deal already has proposal items.",
                }
            )
        action, outcome = existing_outcome(changes, ctx.job.update_existing)
        planned.action = action
        planned.changes = changes if action == "update" else {}
        mark_duplicate(
            plan,
            planned.row,
            planned.values["title"],
            action,
            f"This deal already exists in the team{outcome}",
        )


def _decide_status(plan: ImportPlan, row: SourceRow) -> str | None:
    """Status beside stage: a won/lost status, won/closed flags or an archived record with
    a lost reason close the deal whatever the stage column says. Sets values["stage"]
    and values["closed_at"]; returns the status ("deleted" rows are skipped)."""
    values = row.values
    if not _STATUS_FIELDS.intersection(values):
        # The common row: no status or flag cells, only a stage (the bench's 100,000).
        if values.get("stage") in Deal.CLOSED_STAGES and values.get("expected_close_date"):
            day = values["expected_close_date"]
            values["closed_at"] = p.aware(dt.datetime(day.year, day.month, day.day, 12))
        return None
    status = values.pop("status", None)
    won = values.pop("won_flag", None)
    closed = values.pop("closed_flag", None)
    active = values.pop("active_flag", None)
    won_date = values.pop("won_date", None)
    lost_date = values.pop("lost_date", None)
    closed_date = values.pop("closed_date", None)
    if status == "deleted":
        return status
    outcome = None
    if status in ("won", "lost"):
        outcome = status
        values["status_word"] = p.normalise_label(_raw(plan, row, "status")) or status
    elif won is True:
        outcome = "won"
    elif closed is True and won is False:
        outcome = "lost"
    elif active is False and values.get("lost_reason"):
        outcome = "lost"
        values["status_word"] = "archived with a lost reason"
    elif active is False:
        row.warn(
            header_for(plan, "active_flag"),
            _raw(plan, row, "active_flag"),
            "Archived in the old CRM without a lost reason; imported at the stage the file gives.",
        )
    if outcome is not None:
        closing: str = Deal.Stage.CLOSED_WON if outcome == "won" else Deal.Stage.CLOSED_LOST
        # The stage column no longer decides: its unknown names are not errors then.
        stage_column = header_for(plan, "stage")
        row.problems = [pr for pr in row.problems if pr["column"] != stage_column]
        if (
            values.get("stage")
            and values["stage"] != closing
            and values["stage"] in Deal.CLOSED_STAGES
        ):
            row.warn(
                stage_column,
                _raw(plan, row, "stage"),
                f"The stage says {values['stage'].replace('_', ' ')} but the status says "
                f"{outcome}; the status decides.",
            )
        values["stage"] = closing
    elif status == "open" and values.get("stage") in Deal.CLOSED_STAGES:
        row.warn(
            header_for(plan, "status"),
            _raw(plan, row, "status"),
            "The status says open but the stage is a closed one; the stage is kept.",
        )
    stage = values.get("stage")
    if stage == Deal.Stage.CLOSED_WON:
        moment = won_date or closed_date
    elif stage == Deal.Stage.CLOSED_LOST:
        moment = lost_date or closed_date
    else:
        moment = None
    if moment is None and stage in Deal.CLOSED_STAGES and values.get("expected_close_date"):
        # HubSpot and Salesforce set the close date to the day the deal closed.
        day = values["expected_close_date"]
        moment = p.aware(dt.datetime(day.year, day.month, day.day, 12))
    if moment is not None:
        values["closed_at"] = moment
    return status


_STATUS_FIELDS = frozenset(
    {"status", "won_flag", "closed_flag", "active_flag", "won_date", "lost_date", "closed_date"}
)


def _raw(plan: ImportPlan, row: SourceRow, field_name: str) -> str:
    header = next((h for h, f in plan.mapping.items() if f == field_name), None)
    if header is None:
        return ""
    index = plan.headers.index(header)
    return row.cells[index].strip() if index < len(row.cells) else ""


def _plan_deal_contact(plan, row, prospect_key, prospect_id, by_email, by_name, keys):
    name = row.values.get("contact_name")
    email = row.values.get("contact_email") or ""
    if not (name or email):
        return
    key = ("email", email) if email else ("name", prospect_key, name.lower())
    if key in keys:
        return
    keys.add(key)
    if email and email in by_email:
        return
    if not email and prospect_id is not None and (prospect_id, name.lower()) in by_name:
        return
    plan.contacts_to_create.append(
        {
            "prospect_key": prospect_key,
            "name": name or email.split("@")[0],
            "email": email,
            "phone": row.values.get("contact_phone") or "",
        }
    )
