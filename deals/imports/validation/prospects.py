"""Planning the prospect rows: create, update, skip or error against the team's prospects."""

from __future__ import annotations

from deals.imports.validation.convert import (
    changed_values,
    existing_outcome,
    finish_row,
    mark_duplicate,
)
from deals.imports.validation.plan import ImportPlan, PlanContext, PlannedRow, SourceRow
from deals.models import Prospect
from deals.services import PROSPECT_FIELDS


def existing_prospects(team, fields=("id", "name", "external_id")) -> list[dict]:
    return list(Prospect.objects.filter(team=team).values(*fields))


def by_lower_name(prospects: list[dict]) -> dict[str, dict]:
    """Lower-cased name → the first prospect of that name."""
    by_name: dict[str, dict] = {}
    for pr in prospects:
        by_name.setdefault(pr["name"].lower(), pr)
    return by_name


def plan_prospects(plan: ImportPlan, rows: list[SourceRow], ctx: PlanContext) -> None:
    existing = existing_prospects(ctx.team, ("id", *PROSPECT_FIELDS))
    by_name = by_lower_name(existing)
    by_ext = {pr["external_id"]: pr for pr in existing if pr["external_id"]}
    seen: dict[tuple, int] = {}
    for row in rows:
        error = finish_row(plan, row, {"name": "Name"})
        if error:
            plan.rows.append(error)
            continue
        values = row.values
        name = values["name"]
        keys = [("name", name.lower())]
        if values.get("external_id"):
            keys.insert(0, ("ext", values["external_id"]))
        earlier = next((seen[k] for k in keys if k in seen), None)
        if earlier:
            mark_duplicate(plan, row.number, name, "skip", f"Same prospect as row {earlier}.")
            plan.rows.append(PlannedRow(row.number, "skip", reason=f"duplicate of row {earlier}"))
            continue
        for k in keys:
            seen[k] = row.number
        match = by_ext.get(values.get("external_id")) or by_name.get(name.lower())
        if match is None:
            plan.rows.append(PlannedRow(row.number, "create", values=values))
            continue
        proposed = {f: values.get(f) for f in PROSPECT_FIELDS}
        if match["name"].lower() == name.lower():
            proposed["name"] = None  # matched by name: keep how the team spells it
        changes = changed_values(match, proposed)
        action, outcome = existing_outcome(changes, ctx.job.update_existing)
        mark_duplicate(
            plan,
            row.number,
            name,
            action,
            f"A prospect named '{match['name']}' already exists in the team{outcome}",
        )
        plan.rows.append(
            PlannedRow(
                row.number,
                action,
                values=values,
                existing_id=match["id"],
                changes=changes if action == "update" else {},
            )
        )


def resolve_prospect(plan: ImportPlan, by_name: dict[str, dict], name: str) -> str:
    key = name.lower()
    if key not in plan.prospects:
        match = by_name.get(key)
        plan.prospects[key] = (match["name"] if match else name, match["id"] if match else None)
    return key
