"""Writes of the sales side. Every function validates, writes in one transaction and queues
a health recompute of the deal it touched once the transaction commits.

Permissions: callers fetch objects through `deals.selectors` (so invisible objects are a
404 before a service runs); services still refuse writes the user may not make
(`PermissionDenied`, a 403) so pages, the API and scripts cannot bypass the rule.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Model, OuterRef, Subquery
from django.utils import timezone

from deals import limits, visibility
from deals.health.queue import health_recompute_on_commit
from deals.models import (
    Activity,
    BuyerMilestone,
    Commitment,
    Concession,
    Contact,
    Deal,
    Disclosure,
    DiscoveryCall,
    LineItem,
    Need,
    Prospect,
    StageHistory,
)
from deals.pricing import DealTotals, pricing_refresh_bulk
from winwin_crm.accounts.models import Team, User

ZERO = Decimal("0")


class DealVersionConflict(Exception):
    """The deal changed since the caller read it; nothing was written."""

    def __init__(self, current_version: int):
        self.current_version = current_version
        super().__init__(
            f"This deal was changed by someone else (now at version {current_version}). "
            "Reload it and apply your change again."
        )


# --- permissions ---------------------------------------------------------------------------


# The rules are deals.visibility's; a service only turns a "no" into PermissionDenied.


def _ensure_can_edit_deal(user: User, deal: Deal) -> None:
    if not visibility.user_can_edit_deal(user, deal):
        raise PermissionDenied("You can view this deal but not change it.")


def _ensure_can_edit_prospect(user: User, prospect: Prospect) -> None:
    if not visibility.user_can_edit_prospect(user, prospect):
        raise PermissionDenied("You can view this prospect but not change it.")


def _ensure_can_edit_need(user: User, need: Need) -> None:
    if need.deal is not None:
        _ensure_can_edit_deal(user, need.deal)
    else:
        _ensure_can_edit_prospect(user, need.prospect)


# --- helpers -------------------------------------------------------------------------------


def _set_fields(obj: Model, fields: Mapping[str, Any], allowed: Iterable[str]) -> list[str]:
    allowed = set(allowed)
    unknown = sorted(set(fields) - allowed)
    if unknown:
        raise ValidationError(dict.fromkeys(unknown, "This field cannot be changed here."))
    changed = []
    for name, value in fields.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed.append(name)
    return changed


def _history_by(obj: Model, user: User | None) -> None:
    """simple-history records who made the change (API token auth bypasses its middleware)."""
    if user is not None and getattr(user, "is_authenticated", False):
        obj._history_user = user  # type: ignore[attr-defined]  # simple-history's hook


def _save(obj: Model, user: User | None = None) -> None:
    _history_by(obj, user)
    obj.full_clean()
    obj.save()


def _recompute(deal_id: int) -> None:
    health_recompute_on_commit(deal_id=deal_id)


# --- pricing -------------------------------------------------------------------------------


@transaction.atomic  # it locks the deal row; callers outside a transaction get one here
def pricing_refresh(*, deal_id: int) -> DealTotals:
    """Store the deal's totals from its items and concessions (deals.pricing) and queue a
    health recompute. Refuses (rolling back the caller's change) a net total below 0."""
    # Lock the deal row first: two writers refreshing the same deal's totals take turns,
    # and each aggregates after the other committed (READ COMMITTED: a fresh snapshot per
    # statement), so the last one to write has seen every item.
    list(Deal.objects.select_for_update().filter(pk=deal_id).values_list("pk", flat=True))
    totals = pricing_refresh_bulk(deal_ids=[deal_id])[deal_id]
    if totals.net_total < 0:
        raise ValidationError(
            {
                "amount": [
                    f"This would make the deal's net total negative ({totals.net_total:,}): "
                    "price cuts cannot exceed the price of what is sold."
                ]
            }
        )
    _recompute(deal_id)
    return totals


def _refresh_deal_totals(deal: Deal) -> None:
    for name, value in pricing_refresh(deal_id=deal.id).as_dict().items():
        setattr(deal, name, value)


# --- prospects and contacts ----------------------------------------------------------------

PROSPECT_FIELDS = ("name", "industry", "size", "website", "notes", "external_id")
CONTACT_FIELDS = ("name", "title", "email", "phone", "buying_role", "notes")


@transaction.atomic
def prospect_create(*, user: User, team: Team | None = None, **fields: Any) -> Prospect:
    if team is None:
        team_ids = visibility.prospect_team_ids(user)
        if not team_ids:
            raise ValidationError({"team": "You are in no sales team; choose the team."})
        team = Team.objects.get(pk=team_ids[0])
    prospect = Prospect(team=team, created_by=user)
    _set_fields(prospect, fields, PROSPECT_FIELDS)
    if team.kind != Team.Kind.SALES:
        raise ValidationError({"team": "A prospect belongs to a sales team."})
    if not visibility.user_can_create_prospect(user, team):
        raise PermissionDenied("Only the team's reps (and admins) add prospects.")
    _save(prospect, user)
    return prospect


@transaction.atomic
def prospect_update(*, prospect: Prospect, user: User, **fields: Any) -> Prospect:
    _ensure_can_edit_prospect(user, prospect)
    _set_fields(prospect, fields, PROSPECT_FIELDS)
    _save(prospect, user)
    for deal_id in prospect.deals.values_list("id", flat=True):
        _recompute(deal_id)
    return prospect


@transaction.atomic
def contact_create(*, user: User, prospect: Prospect, **fields: Any) -> Contact:
    _ensure_can_edit_prospect(user, prospect)
    contact = Contact(prospect=prospect)
    _set_fields(contact, fields, CONTACT_FIELDS)
    _save(contact, user)
    return contact


@transaction.atomic
def contact_update(*, contact: Contact, user: User, **fields: Any) -> Contact:
    _ensure_can_edit_prospect(user, contact.prospect)
    _set_fields(contact, fields, CONTACT_FIELDS)
    _save(contact, user)
    return contact


@transaction.atomic
def contact_delete(*, contact: Contact, user: User) -> None:
    _ensure_can_edit_prospect(user, contact.prospect)
    refs = visibility.contact_references(contact)
    if refs:
        raise ValidationError(
            {
                "contact": [
                    f"{contact.name} is referred to by {' and '.join(refs)}; a contact "
                    "the record depends on is kept (change their details instead)."
                ]
            }
        )
    _history_by(contact, user)
    contact.delete()


# --- deals ---------------------------------------------------------------------------------

DEAL_FIELDS = (
    "title",
    "currency",
    "language",  # the buyer room's language
    "expected_close_date",
    "notes_for_delivery",
    "external_id",
)


@transaction.atomic
def deal_create(*, user: User, prospect: Prospect, title: str, **fields: Any) -> Deal:
    """A new deal owned by `user` (a rep) in the prospect's team."""
    if not visibility.user_can_create_deal(user):
        raise PermissionDenied("Only sales reps own deals.")
    if not visibility.user_can_use_prospect_for_deal(user, prospect):
        raise ValidationError({"prospect": "This prospect belongs to another team."})
    stage = fields.pop("stage", Deal.Stage.DISCOVERY)
    if stage not in Deal.OPEN_STAGES:
        raise ValidationError({"stage": "A new deal starts in an open stage."})
    deal = Deal(
        prospect=prospect, team_id=prospect.team_id, owner=user, title=title, stage=stage,
        created_by=user,
    )  # fmt: skip
    _set_fields(deal, fields, DEAL_FIELDS)
    if deal.currency:
        deal.currency = deal.currency.upper()
    deal.stage_changed_at = timezone.now()
    _save(deal, user)
    stage_history_record(deal=deal, from_stage="", user=user)
    _recompute(deal.id)
    return deal


def stage_history_record(
    *,
    deal: Deal,
    from_stage: str,
    user: User | None,
    reason: str = "",
    concerns: Sequence[str] = (),
) -> StageHistory:
    """The row of one stage change; the deal's `stage_changed_at` is its time."""
    return StageHistory.objects.create(
        deal=deal,
        from_stage=from_stage,
        to_stage=deal.stage,
        changed_at=deal.stage_changed_at,
        changed_by=user if getattr(user, "is_authenticated", False) else None,
        reason=reason,
        concerns=list(concerns),
    )


# Columns other writers maintain (pricing, the health engine, activities): a deal update
# never writes them from its own, possibly stale, copy.
DEAL_DERIVED_FIELDS = (
    "list_total", "net_total", "cost_total", "buyer_score", "seller_score", "balance",
    "open_flag_count", "health_computed_at", "last_buyer_contact_at",
)  # fmt: skip


def _deal_save_locked(
    deal: Deal, user: User, expected_version: int | None, changed: Iterable[str] = ()
) -> Deal:
    """Save the `changed` fields of `deal` only if nobody changed it since
    `expected_version` (None: the version of the caller's copy; the API always sends one).

    The conditional UPDATE claims the next version and locks the row first, so of two
    concurrent writers with the same version exactly one wins and the other gets
    DealVersionConflict. Under that lock the totals are recomputed and every derived
    column is re-read, and only the changed columns are written: a line item added while
    this request ran keeps its effect on the totals. The save() records history.
    """
    expected = deal.version if expected_version is None else expected_version
    deal.full_clean()
    claimed = (
        Deal.objects.filter(pk=deal.pk, version=expected)
        .update(version=F("version") + 1)
    )  # fmt: skip
    if not claimed:
        current = Deal.objects.filter(pk=deal.pk).values_list("version", flat=True).first()
        raise DealVersionConflict(current_version=current or 0)
    pricing_refresh(deal_id=deal.pk)
    deal.refresh_from_db(fields=DEAL_DERIVED_FIELDS)
    deal.version = expected + 1
    _history_by(deal, user)
    deal.save(update_fields=sorted({*changed, "version", "updated_at"}))
    _recompute(deal.id)
    return deal


@dataclass(frozen=True, slots=True)
class StageMove:
    """What _apply_stage decided: where the deal came from and what the rep confirmed."""

    from_stage: str
    moved: bool
    won: bool
    reason: str = ""
    concerns: tuple[str, ...] = ()


# The message of a close the rep must confirm; pages show the concerns beside it.
CONFIRM_CLOSE = (
    "Closing as won asks you to confirm: {concerns} Send confirm with a reason, or fix it first."
)

# What a stage change writes (the rest of the deal is left as the row has it).
STAGE_FIELDS = ["stage", "lost_reason", "closed_at", "stage_changed_at"]


def _apply_stage(
    deal: Deal, stage: str, lost_reason: str, *, confirm: bool = False, reason: str = ""
) -> StageMove:
    """Check the stage rules and set the new stage."""
    if stage not in Deal.Stage.values:
        raise ValidationError({"stage": f"“{stage}” is not a stage."})
    current = deal.stage
    if current in Deal.CLOSED_STAGES and stage != current:
        raise ValidationError(
            {"stage": "This deal is closed. Reopen it first if the buyer is back at the table."}
        )
    if stage == Deal.Stage.CLOSED_LOST:
        lost_reason = (lost_reason or "").strip()
        if not lost_reason:
            raise ValidationError(
                {"lost_reason": "Say why the deal was lost before closing it as lost."}
            )
        deal.lost_reason = lost_reason
    if stage == current:
        return StageMove(from_stage=current, moved=False, won=False)
    if stage == Deal.Stage.CLOSED_WON and not deal.line_items.exists():
        raise ValidationError(
            {"stage": "Add at least one proposal item before closing the deal as won."}
        )
    reason = (reason or "").strip()
    concerns: tuple[str, ...] = ()
    if stage == Deal.Stage.CLOSED_WON:
        from deals.health.preview import close_concerns

        found = close_concerns(deal_id=deal.pk)
        concerns = tuple(c.message for c in found)
        if found and not confirm:
            raise CloseNeedsConfirmation(found)
        if found and not reason:
            raise ValidationError({"reason": ["Say why you close despite: " + " ".join(concerns)]})
    deal.stage = stage
    deal.stage_changed_at = timezone.now()
    if stage in Deal.CLOSED_STAGES:
        deal.closed_at = deal.stage_changed_at
    return StageMove(
        from_stage=current,
        moved=True,
        won=stage == Deal.Stage.CLOSED_WON,
        reason=reason or (lost_reason if stage == Deal.Stage.CLOSED_LOST else ""),
        concerns=concerns,
    )


class CloseNeedsConfirmation(ValidationError):
    """Closing as won over open concerns: a 400 naming them, unless confirmed with a reason."""

    def __init__(self, concerns: Sequence[Any]):
        self.concerns = list(concerns)
        text = " ".join(c.message for c in self.concerns)
        super().__init__({"confirm": [CONFIRM_CLOSE.format(concerns=text)]})


def _record_move(deal: Deal, move: StageMove, user: User | None) -> None:
    if move.moved:
        stage_history_record(
            deal=deal,
            from_stage=move.from_stage,
            user=user,
            reason=move.reason,
            concerns=move.concerns,
        )


def _after_won(deal: Deal, user: User) -> None:
    from handoff import services as handoff_services  # handoff.services imports this module

    handoff_services.handoff_create_for_deal(deal=deal, user=user)


@transaction.atomic
def deal_create_with_prospect(
    *,
    user: User,
    prospect: Prospect | None,
    new_prospect: Mapping[str, Any] | None = None,
    contact: Mapping[str, Any] | None = None,
    title: str,
    **fields: Any,
) -> Deal:
    """The new-deal page in one transaction: a new prospect (when `prospect` is None, from
    `new_prospect`), its first contact (when given) and the deal; an error saves nothing."""
    if prospect is None:
        prospect = prospect_create(user=user, **(new_prospect or {}))
    # The deal first: it is what lets this rep add contacts at the prospect.
    deal = deal_create(user=user, prospect=prospect, title=title, **fields)
    if contact:
        contact_create(user=user, prospect=prospect, **contact)
    return deal


@transaction.atomic
def deal_update(*, deal: Deal, user: User, version: int | None = None, **fields: Any) -> Deal:
    """Change a deal's fields (and stage, under the stage rules) if `version` is current."""
    _ensure_can_edit_deal(user, deal)
    stage = fields.pop("stage", None)
    lost_reason = fields.pop("lost_reason", None)
    if "currency" in fields and fields["currency"]:
        fields["currency"] = fields["currency"].upper()
    confirm = bool(fields.pop("confirm", False))
    reason = fields.pop("reason", "") or ""
    changed = _set_fields(deal, fields, DEAL_FIELDS)
    move = StageMove(from_stage=deal.stage, moved=False, won=False)
    if stage is not None:
        move = _apply_stage(deal, stage, lost_reason or "", confirm=confirm, reason=reason)
        changed += STAGE_FIELDS
    elif lost_reason is not None:
        if deal.stage == Deal.Stage.CLOSED_LOST and not lost_reason.strip():
            raise ValidationError({"lost_reason": "A deal closed as lost keeps its reason."})
        deal.lost_reason = lost_reason
        changed.append("lost_reason")
    _deal_save_locked(deal, user, version, changed)
    _record_move(deal, move, user)
    if move.won:
        _after_won(deal, user)
    return deal


@transaction.atomic
def deal_change_stage(
    *,
    deal: Deal,
    user: User,
    stage: str,
    lost_reason: str = "",
    version: int | None = None,
    confirm: bool = False,
    reason: str = "",
) -> Deal:
    """Move a deal to `stage`: lost needs a reason, won needs a proposal item (and, over
    open concerns, `confirm` with a `reason`), and a closed deal only moves again through
    deal_reopen. Winning creates the draft handoff. Every move is a StageHistory row."""
    _ensure_can_edit_deal(user, deal)
    move = _apply_stage(deal, stage, lost_reason, confirm=confirm, reason=reason)
    _deal_save_locked(deal, user, version, STAGE_FIELDS)
    _record_move(deal, move, user)
    if move.won:
        _after_won(deal, user)
    return deal


@transaction.atomic
def deal_reopen(
    *,
    deal: Deal,
    user: User,
    stage: str = Deal.Stage.NEGOTIATION,
    version: int | None = None,
    reason: str = "",
    confirm: bool = False,
) -> Deal:
    """Bring a closed deal back to an open stage (the buyer is back at the table).

    Someone must mean it: `confirm` and a `reason`, kept on the stage history. A won deal
    whose handoff delivery already has (submitted, claimed, accepted) reopens only for its
    rep or a manager of its team; the handoff stays with delivery, showing why.
    """
    handed_off = _handed_off(deal)
    if handed_off:
        if not visibility.user_can_reopen_handed_off_deal(user, deal):
            raise PermissionDenied(
                "Delivery already has this deal's handoff: only its rep or a manager of the "
                "team can reopen it."
            )
    else:
        _ensure_can_edit_deal(user, deal)
    if deal.stage not in Deal.CLOSED_STAGES:
        raise ValidationError({"stage": "Only a closed deal can be reopened."})
    if stage not in Deal.OPEN_STAGES:
        raise ValidationError({"stage": "Reopen the deal into an open stage."})
    reason = (reason or "").strip()
    errors = {}
    if not confirm:
        errors["confirm"] = [
            "Reopening a closed deal needs confirm: true"
            + (f" (its handoff is {handed_off} by delivery)." if handed_off else ".")
        ]
    if not reason:
        errors["reason"] = ["Say why the deal is reopened; delivery and the team will see it."]
    if errors:
        raise ValidationError(errors)
    from_stage = deal.stage
    deal.stage = stage
    deal.stage_changed_at = timezone.now()
    deal.closed_at = None
    deal.lost_reason = ""
    _deal_save_locked(deal, user, version, STAGE_FIELDS)
    stage_history_record(deal=deal, from_stage=from_stage, user=user, reason=reason)
    return deal


def _handoff_status(deal: Deal) -> str | None:
    from handoff.models import Handoff

    return Handoff.objects.filter(deal_id=deal.pk).values_list("status", flat=True).first()


def _handed_off(deal: Deal) -> str:
    """The handoff's status label when delivery has it (past draft), else ""."""
    status = _handoff_status(deal)
    if status is None or status == "draft":
        return ""
    from handoff.models import Handoff

    return str(Handoff.Status(status).label).lower()


# --- needs and discovery calls -------------------------------------------------------------

NEED_FIELDS = ("kind", "statement", "importance", "confirmed_by_buyer", "discovery_call")
MILESTONE_FIELDS = ("title", "side", "required_for_decision", "due_date")


def _check_discovery_call(deal: Deal, fields: Mapping[str, Any]) -> None:
    call = fields.get("discovery_call")
    if call is not None and call.deal_id != deal.id:
        raise ValidationError({"discovery_call": "This discovery call is of another deal."})


@transaction.atomic
def need_create(*, user: User, deal: Deal, **fields: Any) -> Need:
    _ensure_can_edit_deal(user, deal)
    _check_discovery_call(deal, fields)
    need = Need(deal=deal, prospect_id=deal.prospect_id)
    _set_fields(need, fields, NEED_FIELDS)
    _save(need, user)
    _recompute(deal.id)
    return need


@transaction.atomic
def need_update(*, need: Need, user: User, **fields: Any) -> Need:
    _ensure_can_edit_need(user, need)
    if need.deal is not None:
        _check_discovery_call(need.deal, fields)
    changed = _set_fields(need, fields, NEED_FIELDS)
    if need.confirmed_by_buyer_at and {"statement", "importance"} & set(changed):
        # The buyer confirmed other words or another importance than these.
        need.confirmed_by_buyer_at = None
        need.confirmed_by_contact = None
    _save(need, user)
    if need.deal_id:
        _recompute(need.deal_id)
    return need


@transaction.atomic
def need_delete(*, need: Need, user: User) -> None:
    _ensure_can_edit_need(user, need)
    deal_id = need.deal_id
    need.delete()
    if deal_id:
        _recompute(deal_id)


def _row_errors(prefix: str, index: int, exc: ValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {
            f"{prefix}[{index}].{'non_field_errors' if f == '__all__' else f}": [
                m for e in errs for m in e.messages
            ]
            for f, errs in exc.error_dict.items()
        }
    return {f"{prefix}[{index}]": exc.messages}


@transaction.atomic
def discovery_call_log(
    *,
    deal: Deal,
    user: User,
    new_attendees: Sequence[Mapping[str, Any]] = (),
    attendee_ids: Sequence[int] = (),
    **call: Any,
) -> DiscoveryCall:
    """The discovery-call page in one transaction: contacts met for the first time are
    added to the prospect and attend with `attendee_ids`; an error anywhere saves nothing."""
    attendee_ids = list(attendee_ids)
    for row in new_attendees:
        attendee_ids.append(contact_create(user=user, prospect=deal.prospect, **row).pk)
    return discovery_call_create(deal=deal, user=user, attendee_ids=attendee_ids, **call)


@transaction.atomic
def discovery_call_create(
    *,
    deal: Deal,
    user: User,
    held_at: dt.datetime,
    summary: str = "",
    next_step: str = "",
    attendee_ids: Sequence[int] = (),
    needs: Sequence[Mapping[str, Any]] = (),
    milestones: Sequence[Mapping[str, Any]] = (),
) -> DiscoveryCall:
    """Log a discovery call with the needs and buyer milestones it uncovered, all or nothing.

    Errors name the row: {"needs[1].importance": [...]}; any error rolls the whole call back.
    """
    _ensure_can_edit_deal(user, deal)
    for rows, limit, field in (
        (needs, limits.MAX_NEEDS_PER_CALL, "needs"),
        (milestones, limits.MAX_MILESTONES_PER_CALL, "milestones"),
    ):
        if len(rows) > limit:
            raise ValidationError({field: [f"At most {limit} in one call."]})
    call = DiscoveryCall(
        deal=deal, held_at=held_at, summary=summary, next_step=next_step, created_by=user
    )
    _save(call, user)
    errors: dict[str, list[str]] = {}
    attendee_ids = _capped(attendee_ids, limits.MAX_ATTENDEES_PER_CALL, "attendee_ids")
    if attendee_ids:
        contact_ids = set(
            Contact.objects.filter(pk__in=attendee_ids, prospect_id=deal.prospect_id).values_list(
                "id", flat=True
            )
        )
        foreign = [i for i in attendee_ids if i not in contact_ids]
        if foreign:
            errors["attendee_ids"] = [
                f"Contact {i} is not a contact of this deal's prospect." for i in foreign
            ]
        else:
            call.attendees.set(attendee_ids)
    for index, row in enumerate(needs):
        need = Need(deal=deal, prospect_id=deal.prospect_id, discovery_call=call)
        try:
            _set_fields(need, row, ("kind", "statement", "importance", "confirmed_by_buyer"))
            need.full_clean()
        except ValidationError as exc:
            errors.update(_row_errors("needs", index, exc))
            continue
        need.save()
    for index, row in enumerate(milestones):
        milestone = BuyerMilestone(deal=deal, discovery_call=call)
        try:
            _set_fields(milestone, row, MILESTONE_FIELDS)
            milestone.full_clean()
        except ValidationError as exc:
            errors.update(_row_errors("milestones", index, exc))
            continue
        milestone.save()
    if errors:
        # Raising inside the atomic block rolls back the call and every row saved above.
        raise ValidationError(errors)
    _recompute(deal.id)
    return call


@transaction.atomic
def discovery_call_update(
    *, discovery_call: DiscoveryCall, user: User, **fields: Any
) -> DiscoveryCall:
    _ensure_can_edit_deal(user, discovery_call.deal)
    attendee_ids = fields.pop("attendee_ids", None)
    _set_fields(discovery_call, fields, ("held_at", "summary", "next_step"))
    _save(discovery_call, user)
    if attendee_ids is not None:
        attendee_ids = _capped(attendee_ids, limits.MAX_ATTENDEES_PER_CALL, "attendee_ids")
        valid = set(
            Contact.objects.filter(
                pk__in=attendee_ids, prospect_id=discovery_call.deal.prospect_id
            ).values_list("id", flat=True)
        )
        if len(valid) != len(attendee_ids):
            raise ValidationError(
                {"attendee_ids": "Every attendee must be a contact of this deal's prospect."}
            )
        discovery_call.attendees.set(attendee_ids)
    _recompute(discovery_call.deal_id)
    return discovery_call


@transaction.atomic
def discovery_call_delete(*, discovery_call: DiscoveryCall, user: User) -> None:
    _ensure_can_edit_deal(user, discovery_call.deal)
    deal_id = discovery_call.deal_id
    discovery_call.delete()
    _recompute(deal_id)


# --- line items ----------------------------------------------------------------------------

LINE_ITEM_FIELDS = ("name", "quantity", "unit_list_price", "unit_price", "unit_cost")


def _capped(ids: Iterable[int], limit: int, field: str) -> list[int]:
    ids = list(dict.fromkeys(int(i) for i in ids))
    if len(ids) > limit:
        raise ValidationError({field: [f"At most {limit} in one request."]})
    return ids


def _needs_for_deal(deal: Deal, need_ids: Iterable[int]) -> list[int]:
    need_ids = _capped(need_ids, limits.MAX_NEEDS_PER_LINE_ITEM, "needs")
    if not need_ids:
        return []
    found = dict(Need.objects.filter(pk__in=need_ids).values_list("id", "prospect_id"))
    wrong = [i for i in need_ids if found.get(i) != deal.prospect_id]
    if wrong:
        raise ValidationError(
            {
                "needs": [
                    f"Need {i} is not a need of this deal's prospect." for i in wrong
                ]
            }
        )  # fmt: skip
    return need_ids


@transaction.atomic
def line_item_create(
    *,
    deal: Deal,
    user: User,
    name: str,
    unit_list_price: Decimal,
    unit_price: Decimal,
    quantity: Decimal = Decimal("1"),  # the model's default: the API may leave it out
    unit_cost: Decimal = ZERO,
    need_ids: Sequence[int] = (),
) -> LineItem:
    _ensure_can_edit_deal(user, deal)
    if deal.stage in Deal.CLOSED_STAGES:
        raise ValidationError({"deal": "This deal is closed; reopen it to change the proposal."})
    need_ids = _needs_for_deal(deal, need_ids)
    item = LineItem(
        deal=deal,
        name=name,
        quantity=quantity,
        unit_list_price=unit_list_price,
        unit_price=unit_price,
        unit_cost=unit_cost,
    )
    _save(item, user)
    if need_ids:
        item.needs.set(need_ids)
    _refresh_deal_totals(deal)
    return item


@transaction.atomic
def line_item_update(*, line_item: LineItem, user: User, **fields: Any) -> LineItem:
    deal = line_item.deal
    _ensure_can_edit_deal(user, deal)
    if deal.stage in Deal.CLOSED_STAGES:
        raise ValidationError({"deal": "This deal is closed; reopen it to change the proposal."})
    need_ids = fields.pop("need_ids", None)
    _set_fields(line_item, fields, LINE_ITEM_FIELDS)
    _save(line_item, user)
    if need_ids is not None:
        line_item.needs.set(_needs_for_deal(deal, need_ids))
    _refresh_deal_totals(deal)
    return line_item


@transaction.atomic
def line_item_delete(*, line_item: LineItem, user: User) -> None:
    deal = line_item.deal
    _ensure_can_edit_deal(user, deal)
    if deal.stage in Deal.CLOSED_STAGES:
        raise ValidationError({"deal": "This deal is closed; reopen it to change the proposal."})
    _history_by(line_item, user)
    line_item.delete()
    _refresh_deal_totals(deal)


# --- milestones ----------------------------------------------------------------------------


@transaction.atomic
def milestone_create(*, deal: Deal, user: User, **fields: Any) -> BuyerMilestone:
    _ensure_can_edit_deal(user, deal)
    milestone = BuyerMilestone(deal=deal)
    _set_fields(milestone, fields, MILESTONE_FIELDS)
    _save(milestone, user)
    _recompute(deal.id)
    return milestone


@transaction.atomic
def milestone_update(*, milestone: BuyerMilestone, user: User, **fields: Any) -> BuyerMilestone:
    _ensure_can_edit_deal(user, milestone.deal)
    completed = fields.pop("completed", None)
    _set_fields(milestone, fields, MILESTONE_FIELDS)
    if completed is not None and completed != (milestone.completed_at is not None):
        milestone.completed_at = timezone.now() if completed else None
    _save(milestone, user)
    _recompute(milestone.deal_id)
    return milestone


@transaction.atomic
def milestone_set_completed(
    *, milestone: BuyerMilestone, user: User, completed: bool
) -> BuyerMilestone:
    return milestone_update(milestone=milestone, user=user, completed=completed)


@transaction.atomic
def milestone_delete(*, milestone: BuyerMilestone, user: User) -> None:
    _ensure_can_edit_deal(user, milestone.deal)
    deal_id = milestone.deal_id
    milestone.delete()
    _recompute(deal_id)


# --- activities ----------------------------------------------------------------------------

ACTIVITY_FIELDS = (
    "kind",
    "initiated_by",
    "occurred_at",
    "notes",
    "close_attempt",
    "senior_present",
)


def _refresh_last_buyer_contact(deal_id: int) -> None:
    # Denormalised for the deal list and the stale rule: the latest buyer-initiated touch.
    latest = (
        Activity.objects.filter(
            deal_id=OuterRef("pk"), initiated_by=Activity.InitiatedBy.BUYER, auto_reply=False
        )
        .order_by("-occurred_at")
        .values("occurred_at")[:1]
    )
    Deal.objects.filter(pk=deal_id).update(last_buyer_contact_at=Subquery(latest))


@transaction.atomic
def activity_log(
    *,
    deal: Deal,
    user: User,
    kind: str,
    initiated_by: str,
    occurred_at: dt.datetime,
    notes: str = "",
    close_attempt: bool = False,
    senior_present: bool = False,
) -> Activity:
    _ensure_can_edit_deal(user, deal)
    activity = Activity(
        deal=deal,
        kind=kind,
        initiated_by=initiated_by,
        occurred_at=occurred_at,
        notes=notes,
        close_attempt=close_attempt,
        senior_present=senior_present,
        created_by=user,
    )
    _save(activity, user)
    if activity.initiated_by == Activity.InitiatedBy.BUYER:
        _refresh_last_buyer_contact(deal.id)
    _recompute(deal.id)
    return activity


@transaction.atomic
def activity_update(*, activity: Activity, user: User, **fields: Any) -> Activity:
    _ensure_can_edit_deal(user, activity.deal)
    _set_fields(activity, fields, ACTIVITY_FIELDS)
    _save(activity, user)
    _refresh_last_buyer_contact(activity.deal_id)
    _recompute(activity.deal_id)
    return activity


@transaction.atomic
def activity_delete(*, activity: Activity, user: User) -> None:
    _ensure_can_edit_deal(user, activity.deal)
    deal_id = activity.deal_id
    activity.delete()
    _refresh_last_buyer_contact(deal_id)
    _recompute(deal_id)


# --- concessions ---------------------------------------------------------------------------

CONCESSION_FIELDS = ("kind", "description", "amount", "cost_to_seller", "in_exchange_for")


def _ensure_price_open(deal: Deal) -> None:
    """The price is settled once the deal is closed or delivery has its package, like the
    proposal items: a later price cut would silently disagree with the handoff."""
    if deal.stage in Deal.CLOSED_STAGES:
        raise ValidationError({"kind": "This deal is closed; reopen it to change the price."})
    if _handed_off(deal):
        raise ValidationError(
            {"kind": "The handoff was submitted to delivery; the price can no longer be cut."}
        )


@transaction.atomic
def concession_add(
    *,
    deal: Deal,
    user: User,
    kind: str,
    description: str,
    amount: Decimal,
    cost_to_seller: Decimal = ZERO,
    in_exchange_for: str = "",
) -> Concession:
    _ensure_can_edit_deal(user, deal)
    if kind == Concession.Kind.PRICE:
        _ensure_price_open(deal)
    concession = Concession(
        deal=deal,
        kind=kind,
        description=description,
        amount=amount,
        cost_to_seller=cost_to_seller,
        in_exchange_for=in_exchange_for,
        created_by=user,
    )
    _save(concession, user)
    _refresh_deal_totals(deal)
    return concession


@transaction.atomic
def concession_update(*, concession: Concession, user: User, **fields: Any) -> Concession:
    _ensure_can_edit_deal(user, concession.deal)
    if Concession.Kind.PRICE in (concession.kind, fields.get("kind")):
        _ensure_price_open(concession.deal)
    _set_fields(concession, fields, CONCESSION_FIELDS)
    _save(concession, user)
    _refresh_deal_totals(concession.deal)
    return concession


@transaction.atomic
def concession_delete(*, concession: Concession, user: User) -> None:
    deal = concession.deal
    _ensure_can_edit_deal(user, deal)
    if concession.kind == Concession.Kind.PRICE:
        _ensure_price_open(deal)
    _history_by(concession, user)
    concession.delete()
    _refresh_deal_totals(deal)


# --- commitments ---------------------------------------------------------------------------


def _ensure_can_set_commitment_status(user: User, commitment: Commitment) -> None:
    if not visibility.user_can_set_commitment_status(user, commitment):
        raise PermissionDenied("You can view this commitment but not change it.")


@transaction.atomic
def commitment_add(
    *, deal: Deal, user: User, description: str, due_date: dt.date | None = None
) -> Commitment:
    _ensure_can_edit_deal(user, deal)
    commitment = Commitment(deal=deal, description=description, due_date=due_date, owner=user)
    _save(commitment, user)
    _recompute(deal.id)
    return commitment


@transaction.atomic
def commitment_update(*, commitment: Commitment, user: User, **fields: Any) -> Commitment:
    status = fields.pop("status", None)
    if fields:
        _ensure_can_edit_deal(user, commitment.deal)
        _set_fields(commitment, fields, ("description", "due_date"))
    if status is not None:
        return commitment_set_status(commitment=commitment, user=user, status=status)
    _save(commitment, user)
    _recompute(commitment.deal_id)
    return commitment


@transaction.atomic
def commitment_set_status(*, commitment: Commitment, user: User, status: str) -> Commitment:
    _ensure_can_set_commitment_status(user, commitment)
    if status not in Commitment.Status.values:
        raise ValidationError({"status": f"“{status}” is not a commitment status."})
    commitment.status = status
    commitment.completed_at = timezone.now() if status == Commitment.Status.DONE else None
    _save(commitment, user)
    _recompute(commitment.deal_id)
    return commitment


# --- disclosures ---------------------------------------------------------------------------


@transaction.atomic
def disclosure_add(*, deal: Deal, user: User, kind: str, description: str) -> Disclosure:
    _ensure_can_edit_deal(user, deal)
    disclosure = Disclosure(
        deal=deal,
        kind=kind,
        description=description,
        disclosed_at=timezone.now(),
        created_by=user,
    )
    _save(disclosure, user)
    _recompute(deal.id)
    return disclosure


@transaction.atomic
def disclosure_update(*, disclosure: Disclosure, user: User, **fields: Any) -> Disclosure:
    _ensure_can_edit_deal(user, disclosure.deal)
    _set_fields(disclosure, fields, ("kind", "description"))
    _save(disclosure, user)
    _recompute(disclosure.deal_id)
    return disclosure


@transaction.atomic
def disclosure_delete(*, disclosure: Disclosure, user: User) -> None:
    _ensure_can_edit_deal(user, disclosure.deal)
    deal_id = disclosure.deal_id
    disclosure.delete()
    _recompute(deal_id)
