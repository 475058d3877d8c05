"""The bulk writes of a commit: prospects, contacts, deals with their items, stage rows,
handoffs and history, in batches."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_update_with_history

from deals.imports.bulk import insert_dicts, insert_history
from deals.imports.services.common import (
    BATCH_SIZE,
    CHANGE_REASON,
    HEALTH_PER_DEAL_LIMIT,
    ZERO,
    in_batches,
    result_counts,
)
from deals.imports.validation import IMPORTED_ITEM_NAME, ImportPlan
from deals.models import Contact, Deal, ImportJob, LineItem, Prospect, StageHistory
from deals.pricing import pricing_refresh_bulk
from deals.services import PROSPECT_FIELDS


def create_prospects(job: ImportJob, plan: ImportPlan) -> tuple[dict[str, int], int]:
    """Every prospect the rows reference, by lower-cased name → id; creates missing ones."""
    ids = {key: pk for key, (_name, pk) in plan.prospects.items() if pk is not None}
    new = [(key, name) for key, (name, pk) in plan.prospects.items() if pk is None]
    created = insert_dicts(
        Prospect,
        [
            {"team_id": job.team_id, "name": name, "created_by_id": job.created_by_id}
            for _key, name in new
        ],
        batch_size=BATCH_SIZE,
    )
    ids.update({key: pk for (key, _name), pk in zip(new, created, strict=True)})
    return ids, len(new)


def write_prospects(job: ImportJob, plan: ImportPlan, progress) -> dict:
    done = 0
    creates = [r for r in plan.rows if r.action == "create"]
    for batch in in_batches(creates):
        insert_dicts(
            Prospect,
            [
                {
                    "team_id": job.team_id,
                    "created_by_id": job.created_by_id,
                    **{f: r.values.get(f) or "" for f in PROSPECT_FIELDS},
                }
                for r in batch
            ],
            batch_size=BATCH_SIZE,
        )
        done += len(batch)
        progress(done)
    updates = [r for r in plan.rows if r.action == "update"]
    _bulk_update(Prospect, updates, progress, done)
    return result_counts(plan)


def _bulk_update(model, updates, progress, done: int) -> None:
    now = timezone.now()
    for batch in in_batches(updates):
        objs = model.objects.in_bulk([r.existing_id for r in batch])
        fields = set()
        for r in batch:
            obj = objs[r.existing_id]
            for name, value in r.changes.items():
                setattr(obj, name, value)
                fields.add(name)
            obj.updated_at = now
        if fields:
            model.objects.bulk_update(list(objs.values()), [*sorted(fields), "updated_at"])
        done += len(batch)
        progress(done)


def write_contacts(job: ImportJob, plan: ImportPlan, progress) -> dict:
    prospect_ids, prospects_created = create_prospects(job, plan)
    done = 0
    creates = [r for r in plan.rows if r.action == "create"]
    for batch in in_batches(creates):
        insert_dicts(
            Contact,
            [
                {
                    "prospect_id": prospect_ids[r.prospect_key],
                    "buying_role": r.values.get("buying_role") or Contact.BuyingRole.INFLUENCER,
                    **{
                        f: r.values.get(f) or ""
                        for f in ("name", "title", "email", "phone", "notes")
                    },
                }
                for r in batch
            ],
            batch_size=BATCH_SIZE,
        )
        done += len(batch)
        progress(done)
    _bulk_update(Contact, [r for r in plan.rows if r.action == "update"], progress, done)
    return result_counts(plan, prospects_created=prospects_created)


def write_deals(job: ImportJob, plan: ImportPlan, progress) -> dict:
    now = timezone.now()
    prospect_ids, prospects_created = create_prospects(job, plan)
    insert_dicts(
        Contact,
        [
            {
                "prospect_id": prospect_ids[c["prospect_key"]],
                "name": c["name"],
                "email": c["email"],
                "phone": c["phone"],
            }
            for c in plan.contacts_to_create
        ],
        batch_size=BATCH_SIZE,
    )
    history: dict[str, Any] = {"user_id": job.created_by_id, "reason": CHANGE_REASON}
    done = 0
    touched: list[int] = []
    for batch in in_batches([r for r in plan.rows if r.action == "create"]):
        deals = []
        for r in batch:
            v = r.values
            pricing = v["pricing"] or {}
            deals.append(
                {
                    "team_id": job.team_id,
                    "prospect_id": prospect_ids[r.prospect_key],
                    "owner_id": v["owner_id"],
                    "title": v["title"],
                    "stage": v["stage"],
                    "currency": v["currency"] or job.team.default_currency,
                    "expected_close_date": v["expected_close_date"],
                    "lost_reason": v["lost_reason"] or "",
                    "notes_for_delivery": v["notes_for_delivery"] or "",
                    "external_id": v["external_id"] or "",
                    # The day the old CRM closed it, when the file says; else the import's.
                    "closed_at": (v.get("closed_at") or now)
                    if v["stage"] in Deal.CLOSED_STAGES
                    else None,
                    "imported_from": v.get("imported_from") or "csv",
                    "created_by_id": job.created_by_id,
                    "created_at": now,
                    "stage_changed_at": now,
                    # One "Imported value" item at list = list_total and price = net_total and
                    # no concessions: these totals are exactly what the pricing formulas give.
                    "list_total": pricing.get("list_total", ZERO),
                    "net_total": pricing.get("net_total", ZERO),
                    "cost_total": pricing.get("cost_total", ZERO),
                }
            )
        for deal, pk in zip(deals, insert_dicts(Deal, deals, batch_size=BATCH_SIZE), strict=True):
            deal["id"] = pk
        insert_history(Deal, deals, **history)
        _stage_rows(deals, now, job.created_by_id)
        items = [
            _imported_item(deal["id"], r.values["pricing"])
            for deal, r in zip(deals, batch, strict=True)
            if r.values["pricing"]
        ]
        # The item's creation is recorded in the deal's history ("CSV import"); a history
        # row per item would add a fifth of the import's writes for no extra information.
        insert_dicts(LineItem, items, batch_size=BATCH_SIZE)
        _imported_handoffs(deals, now)
        touched.extend(d["id"] for d in deals)
        done += len(batch)
        progress(done)
    for batch in in_batches([r for r in plan.rows if r.action == "update"]):
        by_id = Deal.objects.in_bulk([r.existing_id for r in batch])
        fields = {"updated_at", "version"}
        repriced = []
        moved = []
        for r in batch:
            existing = by_id[r.existing_id]
            for name, value in r.changes.items():
                if name == "pricing":
                    repriced.append((existing.id, value))
                    continue
                if name == "stage" and value != existing.stage:
                    moved.append({"id": existing.id, "from_stage": existing.stage, "stage": value})
                    existing.stage_changed_at = now
                    fields.add("stage_changed_at")
                setattr(existing, name, value)
                fields.add(name)
                if name == "stage" and value in Deal.CLOSED_STAGES:
                    existing.closed_at = now
                    fields.add("closed_at")
            existing.version += 1
            existing.updated_at = now
        bulk_update_with_history(
            list(by_id.values()),
            Deal,
            sorted(fields),
            batch_size=BATCH_SIZE,
            default_user=job.created_by,
            default_change_reason=CHANGE_REASON,
        )
        _stage_rows(moved, now, job.created_by_id)
        if repriced:
            LineItem.objects.filter(deal_id__in=[d for d, _ in repriced], imported=True).delete()
            items = [_imported_item(d, pr) for d, pr in repriced]
            for item, pk in zip(items, insert_dicts(LineItem, items), strict=True):
                item["id"] = pk
            insert_history(LineItem, items, **history)
            pricing_refresh_bulk(deal_ids=[d for d, _ in repriced])
        touched.extend(by_id)
        done += len(batch)
        progress(done)
    _queue_health(touched)
    return result_counts(
        plan, prospects_created=prospects_created, contacts_created=len(plan.contacts_to_create)
    )


def _stage_rows(deals: list[dict], now, user_id: int | None) -> None:
    """A StageHistory row per imported (or re-staged) deal, as every stage change has."""
    insert_dicts(
        StageHistory,
        [
            {
                "deal_id": d["id"],
                "from_stage": d.get("from_stage", ""),
                "to_stage": d["stage"],
                "changed_at": now,
                "changed_by_id": user_id,
                "reason": CHANGE_REASON,
                "concerns": [],
            }
            for d in deals
        ],
        batch_size=BATCH_SIZE,
    )


def _imported_handoffs(deals: list[dict], now) -> None:
    """Deals won in the old CRM get their handoff as "imported: accepted as is": no sales
    handoff happened here, so there is no package, no SLA and no acceptance to pretend."""
    from handoff.models import Handoff

    insert_dicts(
        Handoff,
        [
            {
                "deal_id": d["id"],
                "rep_id": d["owner_id"],
                "status": Handoff.Status.IMPORTED,
                "notes_for_delivery": d["notes_for_delivery"],
                "created_at": now,
                "updated_at": now,
            }
            for d in deals
            if d["stage"] == Deal.Stage.CLOSED_WON
        ],
        batch_size=BATCH_SIZE,
    )


def _imported_item(deal_id: int, pricing: dict) -> dict:
    return {
        "deal_id": deal_id,
        "name": IMPORTED_ITEM_NAME,
        "imported": True,
        "quantity": Decimal("1.00"),
        "unit_list_price": pricing["list_total"],
        "unit_price": pricing["net_total"],
        "unit_cost": pricing["cost_total"],
    }


def _queue_health(deal_ids: list[int]) -> None:
    """Imported deals need scores. A few: one coalesced recompute each; many: one sweep."""
    if not deal_ids:
        return
    if len(deal_ids) <= HEALTH_PER_DEAL_LIMIT:
        from deals.health import health_recompute_on_commit

        for deal_id in deal_ids:
            health_recompute_on_commit(deal_id=deal_id)
        return
    from deals.tasks import health_sweep_task

    transaction.on_commit(health_sweep_task.delay)
