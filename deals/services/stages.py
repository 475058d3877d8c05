"""Stage moves: the stage rules, closing (won opens the handoff), reopening, the history."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from deals import visibility
from deals.models import Deal, StageHistory
from deals.services.common import ensure_can_edit_deal
from deals.services.versioning import deal_save_locked
from winwin_crm.accounts.models import User


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


@dataclass(frozen=True, slots=True)
class StageMove:
    """What apply_stage decided: where the deal came from and what the rep confirmed."""

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


def apply_stage(
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


def record_move(deal: Deal, move: StageMove, user: User | None) -> None:
    if move.moved:
        stage_history_record(
            deal=deal,
            from_stage=move.from_stage,
            user=user,
            reason=move.reason,
            concerns=move.concerns,
        )


def after_won(deal: Deal, user: User) -> None:
    from handoff import services as handoff_services  # handoff.services imports this module

    handoff_services.handoff_create_for_deal(deal=deal, user=user)


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
    ensure_can_edit_deal(user, deal)
    move = apply_stage(deal, stage, lost_reason, confirm=confirm, reason=reason)
    deal_save_locked(deal, user, version, STAGE_FIELDS)
    record_move(deal, move, user)
    if move.won:
        after_won(deal, user)
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
    handed_off = handed_off_status(deal)
    if handed_off:
        if not visibility.user_can_reopen_handed_off_deal(user, deal):
            raise PermissionDenied(
                "Delivery already has this deal's handoff: only its rep or a manager of the "
                "team can reopen it."
            )
    else:
        ensure_can_edit_deal(user, deal)
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
    deal_save_locked(deal, user, version, STAGE_FIELDS)
    stage_history_record(deal=deal, from_stage=from_stage, user=user, reason=reason)
    return deal


def _handoff_status(deal: Deal) -> str | None:
    from handoff.models import Handoff

    return Handoff.objects.filter(deal_id=deal.pk).values_list("status", flat=True).first()


def handed_off_status(deal: Deal) -> str:
    """The handoff's status label when delivery has it (past draft), else ""."""
    status = _handoff_status(deal)
    if status is None or status == "draft":
        return ""
    from handoff.models import Handoff

    return str(Handoff.Status(status).label).lower()
