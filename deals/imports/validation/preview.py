"""The first rows of the dry run as they will be stored."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from deals.imports import parsing as p
from deals.imports.validation.plan import PREVIEW_ROWS, ImportPlan, PlanContext


def build_preview(plan: ImportPlan, ctx: PlanContext, limit: int = PREVIEW_ROWS) -> list[dict]:
    """The first rows as they will be stored: organisation, amount, currency, stage,
    owner, close date (deals), or the record's main fields (prospects, contacts)."""
    owners = ctx.usernames()
    out: list[dict] = []
    for planned in plan.rows:
        if len(out) >= limit:
            break
        if planned.action == "error":
            continue
        v = planned.values
        entry: dict[str, Any] = {"row": planned.row, "action": planned.action}
        if planned.action == "skip" and planned.reason and not v:
            entry["reason"] = planned.reason
            out.append(entry)
            continue
        if plan.kind == "deals":
            pricing = v.get("pricing") or {}
            name = plan.prospects.get(planned.prospect_key, ("", None))[0]
            closed_at = v.get("closed_at")
            entry.update(
                {
                    "title": v.get("title", ""),
                    "organization": name,
                    "amount": str(pricing["net_total"])
                    if pricing.get("net_total") is not None
                    else "",
                    "currency": v.get("currency") or "",
                    "stage": p.STAGE_LABELS.get(v.get("stage") or "", ""),
                    "owner": owners.get(v.get("owner_id") or 0, ""),
                    "close_date": v["expected_close_date"].isoformat()
                    if v.get("expected_close_date")
                    else "",
                    "closed_on": timezone.localtime(closed_at).date().isoformat()
                    if closed_at
                    else "",
                    "lost_reason": v.get("lost_reason") or "",
                }
            )
        elif plan.kind == "prospects":
            entry.update(
                {k: v.get(k) or "" for k in ("name", "industry", "size", "website", "external_id")}
            )
        else:
            name = plan.prospects.get(planned.prospect_key, ("", None))[0]
            entry.update({k: v.get(k) or "" for k in ("name", "title", "email", "phone")})
            entry["organization"] = name
        out.append(entry)
    return out
