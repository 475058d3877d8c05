"""Planning the contact rows against the team's contacts and the file's prospects."""

from __future__ import annotations

from deals.imports.validation.convert import (
    changed_values,
    existing_outcome,
    finish_row,
    mark_duplicate,
)
from deals.imports.validation.plan import ImportPlan, PlanContext, PlannedRow, SourceRow
from deals.imports.validation.prospects import (
    by_lower_name,
    existing_prospects,
    resolve_prospect,
)
from deals.models import Contact
from deals.services import CONTACT_FIELDS


def existing_contacts(team) -> tuple[dict, dict]:
    by_email: dict[str, dict] = {}
    by_name: dict[tuple[int, str], dict] = {}
    qs = Contact.objects.filter(prospect__team=team).values("id", "prospect_id", *CONTACT_FIELDS)
    for contact in qs:
        if contact["email"]:
            by_email.setdefault(contact["email"].lower(), contact)
        by_name.setdefault((contact["prospect_id"], contact["name"].lower()), contact)
    return by_email, by_name


def plan_contacts(plan: ImportPlan, rows: list[SourceRow], ctx: PlanContext) -> None:
    prospects_by_name = by_lower_name(existing_prospects(ctx.team))
    by_email, by_name = existing_contacts(ctx.team)
    seen: dict[tuple, int] = {}
    for row in rows:
        values = row.values
        if not values.get("name"):
            joined = " ".join(v for v in (values.get("first_name"), values.get("last_name")) if v)
            if joined:
                values["name"] = joined
        values.pop("first_name", None)
        values.pop("last_name", None)
        error = finish_row(plan, row, {"name": "Name", "prospect": "Organization"})
        if error:
            plan.rows.append(error)
            continue
        prospect_key = resolve_prospect(plan, prospects_by_name, values["prospect"])
        email = values.get("email") or ""
        keys: list[tuple[str, ...]] = (
            [("email", email)] if email else [("name", prospect_key, values["name"].lower())]
        )
        earlier = next((seen[k] for k in keys if k in seen), None)
        label = email or values["name"]
        if earlier:
            mark_duplicate(plan, row.number, label, "skip", f"Same contact as row {earlier}.")
            plan.rows.append(PlannedRow(row.number, "skip", reason=f"duplicate of row {earlier}"))
            continue
        for k in keys:
            seen[k] = row.number
        prospect_id = plan.prospects[prospect_key][1]
        match = by_email.get(email) if email else None
        if match is None and prospect_id is not None:
            match = by_name.get((prospect_id, values["name"].lower()))
        if match is None:
            plan.rows.append(
                PlannedRow(row.number, "create", values=values, prospect_key=prospect_key)
            )
            continue
        changes = changed_values(match, {f: values.get(f) for f in CONTACT_FIELDS})
        action, outcome = existing_outcome(changes, ctx.job.update_existing)
        what = f"a contact with the email {email}" if email else f"a contact named {label}"
        mark_duplicate(plan, row.number, label, action, f"The team already has {what}{outcome}")
        plan.rows.append(
            PlannedRow(
                row.number,
                action,
                values=values,
                existing_id=match["id"],
                changes=changes if action == "update" else {},
                prospect_key=prospect_key,
            )
        )
