"""Which thresholds apply to a deal, and the writes managers make to them."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, Subquery

from deals import visibility
from deals.models import Deal, HealthPolicy
from winwin_crm.accounts.models import Team, User

# Fields a manager may change; `team` is fixed when a team policy is created.
EDITABLE_FIELDS = (
    "discount_max_pct",
    "margin_floor_pct",
    "chasing_count",
    "chasing_window_days",
    "escalation_window",
    "escalation_min_senior",
    "stale_days",
    "handoff_sla_hours",
    "unmet_need_min_importance",
    "pressure_phrases",
    "weight_info",
    "weight_warning",
    "weight_critical",
    "win_win_threshold",
    "buyer_room_link_days",
)


def global_policy() -> HealthPolicy:
    """The global policy, created with the defaults of DESIGN.md the first time it is asked for."""
    policy = HealthPolicy.objects.filter(team__isnull=True).first()
    if policy is not None:
        return policy
    try:
        with transaction.atomic():
            return HealthPolicy.objects.create(team=None)
    except IntegrityError:  # another process created it first
        return HealthPolicy.objects.get(team__isnull=True)


def policy_for_team(team: Team | int | None) -> HealthPolicy:
    """The team's own policy, or the global one when the team has none (one query)."""
    team_id = team.pk if isinstance(team, Team) else team
    if team_id is None:
        return global_policy()
    found = {
        p.team_id: p for p in HealthPolicy.objects.filter(Q(team_id=team_id) | Q(team__isnull=True))
    }
    return found.get(team_id) or found.get(None) or global_policy()


def policies_for_deal(deal_id: int) -> dict[int | None, HealthPolicy]:
    """The deal's team policy (if any) and the global one, keyed like policies_by_team:
    one query that looks the team up itself, so it can run before the deal is loaded."""
    team_id = Deal.objects.filter(pk=deal_id).values("team_id")
    policies = {
        p.team_id: p
        for p in HealthPolicy.objects.filter(Q(team__isnull=True) | Q(team_id=Subquery(team_id)))
    }
    if None not in policies:
        policies[None] = global_policy()
    return policies


def policies_by_team() -> dict[int | None, HealthPolicy]:
    """Every policy keyed by team id (None: global), for the sweep: one query."""
    policies = {p.team_id: p for p in HealthPolicy.objects.all()}
    if None not in policies:
        policies[None] = global_policy()
    return policies


def _queue_sweep(team_id: int | None) -> None:
    from deals.tasks import health_sweep_task

    # Thresholds changed: every deal under this policy may gain or lose flags.
    transaction.on_commit(lambda: health_sweep_task.delay(team_id=team_id))


@transaction.atomic
def health_policy_create(*, user: User, team: Team, **fields: Any) -> HealthPolicy:
    """A sales team's own policy (managers of the team, admins); starts from the global values."""
    if HealthPolicy.objects.filter(team=team).exists():  # one policy per team
        raise ValidationError(
            {"team": ["This team already has a policy; change that one instead."]}
        )
    if not visibility.user_can_set_team_policy(user, team):
        raise PermissionDenied("Only the team's manager or an admin can set its health policy.")
    base = global_policy()
    policy = HealthPolicy(team=team, **{name: getattr(base, name) for name in EDITABLE_FIELDS})
    for name, value in fields.items():
        if name in EDITABLE_FIELDS:
            setattr(policy, name, value)
    policy.updated_by = user
    policy.full_clean()
    policy.save()
    _queue_sweep(team.pk)
    return policy


@transaction.atomic
def health_policy_update(*, policy: HealthPolicy, user: User, **fields: Any) -> HealthPolicy:
    if not visibility.user_can_edit_policy(user, policy):
        raise PermissionDenied("Only admins change the global policy; managers their team's.")
    for name, value in fields.items():
        if name in EDITABLE_FIELDS:
            setattr(policy, name, value)
    policy.updated_by = user
    policy.full_clean()
    policy.save()
    _queue_sweep(policy.team_id)
    return policy
