"""Issue 22 through the services: stage history, STAGE_STALLED, the preview, the confirmed
close, reopening, price concessions after the handoff, the catalog and the re-score."""

import datetime as dt
from decimal import Decimal

import pytest
from django.apps import apps as django_apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from deals import services
from deals.health import catalog, rules
from deals.health.preview import close_concerns, health_preview
from deals.health.store import health_recompute
from deals.models import Deal, Flag, HealthPolicy, StageHistory
from handoff.models import Handoff
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def deal(rep_user, team):
    return f.DealFactory(owner=rep_user, team=team, stage=Deal.Stage.NEGOTIATION)


def _clean_for_close(deal):
    """A deal nothing stands against: a served, confirmed need and a disclosure."""
    need = f.NeedFactory(deal=deal, importance=5)
    f.LineItemFactory(deal=deal, needs=[need])
    f.DisclosureFactory(deal=deal)
    return need


def _codes(deal):
    return set(
        Flag.objects.filter(deal=deal, status__in=Flag.ACTIVE_STATUSES).values_list(
            "code", flat=True
        )
    )


# --- stage history -----------------------------------------------------------------------


def test_a_new_deal_and_every_stage_change_leave_a_history_row(rep_user, team):
    prospect = f.ProspectFactory(team=team)
    deal = services.deal_create(user=rep_user, prospect=prospect, title="Fleet")
    services.deal_change_stage(deal=deal, user=rep_user, stage="qualification")
    services.deal_update(deal=deal, user=rep_user, stage="proposal")

    rows = list(deal.stage_history.order_by("changed_at", "id"))
    assert [(r.from_stage, r.to_stage) for r in rows] == [
        ("", "discovery"),
        ("discovery", "qualification"),
        ("qualification", "proposal"),
    ]
    assert all(r.changed_by == rep_user for r in rows)
    deal.refresh_from_db()
    assert deal.stage_changed_at == rows[-1].changed_at


def test_a_stage_unchanged_by_an_edit_writes_no_row(deal, rep_user):
    services.deal_update(deal=deal, user=rep_user, title="Renamed")
    assert not deal.stage_history.exists()


# --- STAGE_STALLED ---------------------------------------------------------------------


def test_a_deal_past_its_stage_days_is_stalled_and_says_for_how_long(deal):
    Deal.objects.filter(pk=deal.pk).update(stage_changed_at=timezone.now() - dt.timedelta(days=25))
    health_recompute(deal_id=deal.pk)

    flag = Flag.objects.get(deal=deal, code="STAGE_STALLED")
    assert flag.side == "relationship" and flag.severity == "warning"
    assert "in negotiation for 25 days (the policy allows 21)" in flag.message
    assert flag.evidence["limit_days"] == 21 and flag.evidence["stage"] == "negotiation"


def test_within_the_stage_days_nothing_is_raised(deal):
    Deal.objects.filter(pk=deal.pk).update(stage_changed_at=timezone.now() - dt.timedelta(days=20))
    health_recompute(deal_id=deal.pk)
    assert "STAGE_STALLED" not in _codes(deal)


def test_the_policy_days_per_stage_decide(deal):
    policy = HealthPolicy.objects.get_or_create(team=None)[0]
    policy.stage_stalled_days = {**policy.stage_stalled_days, "negotiation": 5}
    policy.save()
    Deal.objects.filter(pk=deal.pk).update(stage_changed_at=timezone.now() - dt.timedelta(days=6))
    health_recompute(deal_id=deal.pk)
    assert "STAGE_STALLED" in _codes(deal)


def test_a_closed_deal_never_stalls(deal):
    Deal.objects.filter(pk=deal.pk).update(
        stage="closed_lost", stage_changed_at=timezone.now() - dt.timedelta(days=400)
    )
    health_recompute(deal_id=deal.pk)
    assert "STAGE_STALLED" not in _codes(deal)


def test_moving_the_deal_on_clears_the_stall(deal, rep_user):
    Deal.objects.filter(pk=deal.pk).update(stage_changed_at=timezone.now() - dt.timedelta(days=40))
    deal.refresh_from_db()
    services.deal_change_stage(deal=deal, user=rep_user, stage="proposal")
    health_recompute(deal_id=deal.pk)
    assert "STAGE_STALLED" not in _codes(deal)


def test_policy_refuses_unknown_stages_and_non_positive_days():
    policy = HealthPolicy(stage_stalled_days={"closed_won": 3})
    with pytest.raises(ValidationError):
        policy.clean()
    policy.stage_stalled_days = {"discovery": 0}
    with pytest.raises(ValidationError):
        policy.clean()


# --- preview -------------------------------------------------------------------------------


def test_preview_runs_the_same_rules_with_the_stage_swapped_and_stores_nothing(rep_user, team):
    deal = f.DealFactory(owner=rep_user, team=team, stage="discovery")
    f.NeedFactory(deal=deal, importance=5, statement="Cut dispatch time")
    health_recompute(deal_id=deal.pk)
    before = list(Flag.objects.filter(deal=deal).values_list("id", "code", "status"))

    preview = health_preview(deal_id=deal.pk, stages=["negotiation"])["negotiation"]

    assert {"BUYER_UNMET_NEED", "BUYER_UNDISCLOSED", "BUYER_NO_DISCOVERY"} <= set(preview.new_codes)
    assert all(fl.pk is None for fl in preview.flags)
    assert list(Flag.objects.filter(deal=deal).values_list("id", "code", "status")) == before
    deal.refresh_from_db()
    assert deal.stage == "discovery"


# --- the confirmed close --------------------------------------------------------------------


def test_closing_with_an_open_required_milestone_asks_for_confirmation(deal, rep_user):
    _clean_for_close(deal)
    f.BuyerMilestoneFactory(deal=deal, title="Security review")

    with pytest.raises(services.CloseNeedsConfirmation) as exc:
        services.deal_change_stage(deal=deal, user=rep_user, stage="closed_won")
    assert "“Security review” is still open" in exc.value.message_dict["confirm"][0]
    deal.refresh_from_db()
    assert deal.stage == "negotiation"


def test_an_important_unserved_need_per_the_policy_asks_for_confirmation(deal, rep_user):
    _clean_for_close(deal)
    f.NeedFactory(deal=deal, importance=5, statement="Works offline")
    concerns = close_concerns(deal_id=deal.pk)
    assert [c.code for c in concerns] == ["BUYER_UNMET_NEED"]
    assert "“Works offline” (5/5)" in concerns[0].message


def test_the_unmet_need_minimum_comes_from_the_policy(deal, rep_user):
    _clean_for_close(deal)
    f.NeedFactory(deal=deal, importance=3, statement="Nice reports")
    assert close_concerns(deal_id=deal.pk) == []
    policy = HealthPolicy.objects.get_or_create(team=None)[0]
    policy.unmet_need_min_importance = 3
    policy.save()
    assert [c.code for c in close_concerns(deal_id=deal.pk)] == ["BUYER_UNMET_NEED"]


def test_nothing_disclosed_asks_for_confirmation(deal, rep_user):
    need = f.NeedFactory(deal=deal)
    f.LineItemFactory(deal=deal, needs=[need])
    assert [c.code for c in close_concerns(deal_id=deal.pk)] == ["BUYER_UNDISCLOSED"]


def test_confirming_without_a_reason_is_refused_and_with_one_the_reason_is_kept(deal, rep_user):
    _clean_for_close(deal)
    f.BuyerMilestoneFactory(deal=deal, title="Security review")
    with pytest.raises(ValidationError) as exc:
        services.deal_change_stage(deal=deal, user=rep_user, stage="closed_won", confirm=True)
    assert "reason" in exc.value.message_dict

    services.deal_change_stage(
        deal=deal, user=rep_user, stage="closed_won", confirm=True, reason="CISO signed off"
    )
    row = deal.stage_history.first()
    assert (row.to_stage, row.reason) == ("closed_won", "CISO signed off")
    assert "“Security review” is still open" in row.concerns[0]


def test_a_clean_deal_closes_without_confirmation(deal, rep_user):
    _clean_for_close(deal)
    services.deal_change_stage(deal=deal, user=rep_user, stage="closed_won")
    assert Deal.objects.get(pk=deal.pk).stage == "closed_won"


def test_discovery_cannot_jump_to_closed_won_without_a_proposal_item(rep_user, team):
    deal = f.DealFactory(owner=rep_user, team=team, stage="discovery")
    f.DisclosureFactory(deal=deal)
    with pytest.raises(ValidationError) as exc:
        services.deal_change_stage(
            deal=deal, user=rep_user, stage="closed_won", confirm=True, reason="x"
        )
    assert "proposal item" in exc.value.message_dict["stage"][0]


# --- reopening -----------------------------------------------------------------------------


@pytest.fixture
def handed_off(deal, rep_user, delivery_team):
    _clean_for_close(deal)
    services.deal_change_stage(deal=deal, user=rep_user, stage="closed_won")
    Handoff.objects.filter(deal=deal).update(status="submitted", submitted_at=timezone.now())
    deal.refresh_from_db()
    return deal


def test_reopening_needs_confirmation_and_a_reason(handed_off, rep_user):
    with pytest.raises(ValidationError) as exc:
        services.deal_reopen(deal=handed_off, user=rep_user)
    assert {"confirm", "reason"} <= set(exc.value.message_dict)
    assert "submitted" in exc.value.message_dict["confirm"][0]

    services.deal_reopen(deal=handed_off, user=rep_user, confirm=True, reason="Scope grew")
    row = handed_off.stage_history.first()
    assert (row.from_stage, row.to_stage, row.reason) == ("closed_won", "negotiation", "Scope grew")


def test_a_handed_off_deal_reopens_only_for_its_rep_or_a_manager(
    handed_off, other_rep, manager_user, other_manager
):
    for user in (other_rep, other_manager):
        with pytest.raises(PermissionDenied):
            services.deal_reopen(deal=handed_off, user=user, confirm=True, reason="x")
    services.deal_reopen(deal=handed_off, user=manager_user, confirm=True, reason="Buyer back")
    assert Deal.objects.get(pk=handed_off.pk).stage == "negotiation"
    # The handoff stays where delivery had it.
    assert Handoff.objects.get(deal=handed_off).status == "submitted"


def test_a_handoff_can_be_submitted_only_while_its_deal_is_closed_won(
    deal, rep_user, delivery_team
):
    from handoff import services as handoff_services

    _clean_for_close(deal)
    services.deal_change_stage(deal=deal, user=rep_user, stage="closed_won")
    deal.refresh_from_db()
    services.deal_reopen(deal=deal, user=rep_user, confirm=True, reason="More seats")
    handoff = Handoff.objects.get(deal=deal)
    handoff.checklist.update(checked_at=timezone.now())
    with pytest.raises(handoff_services.HandoffTransitionError) as exc:
        handoff_services.handoff_submit(handoff=handoff, user=rep_user)
    assert "closed won" in str(exc.value)


def test_price_concessions_after_the_handoff_was_submitted_are_refused(handed_off, rep_user):
    services.deal_reopen(deal=handed_off, user=rep_user, confirm=True, reason="Buyer back")
    handed_off.refresh_from_db()
    with pytest.raises(ValidationError) as exc:
        services.concession_add(
            deal=handed_off,
            user=rep_user,
            kind="price",
            description="10 % off",
            amount=Decimal("100"),
        )
    assert "handoff was submitted" in exc.value.message_dict["kind"][0]
    # Adding value is still possible.
    services.concession_add(
        deal=handed_off,
        user=rep_user,
        kind="value_add",
        description="Training",
        amount=Decimal("1"),
    )


def test_price_concessions_on_a_closed_deal_are_refused_like_line_items(handed_off, rep_user):
    with pytest.raises(ValidationError):
        services.concession_add(
            deal=handed_off, user=rep_user, kind="price", description="x", amount=Decimal("1")
        )


# --- the verdict on real facts ---------------------------------------------------------------


def test_chasing_with_pressure_language_on_a_clean_deal_is_not_win_win(deal):
    _clean_for_close(deal)
    f.DiscoveryCallFactory(deal=deal)
    now = timezone.now()
    for i in range(4):
        f.ActivityFactory(
            deal=deal,
            occurred_at=now - dt.timedelta(days=i + 1),
            notes="Last chance to sign today" if i == 0 else "Follow-up",
        )
    f.ActivityFactory(
        deal=deal, initiated_by="buyer", occurred_at=now - dt.timedelta(days=10), notes="Hi"
    )
    result = health_recompute(deal_id=deal.pk)
    assert _codes(deal) == {"PRESSURE_CHASING", "PRESSURE_LANGUAGE"}
    assert result.balance == "lose_lose"


def test_a_critical_premature_close_is_lose_lose(deal):
    _clean_for_close(deal)
    f.DiscoveryCallFactory(deal=deal)
    f.BuyerMilestoneFactory(deal=deal)
    f.ActivityFactory(deal=deal, close_attempt=True, initiated_by="rep")
    f.ActivityFactory(deal=deal, initiated_by="buyer")
    result = health_recompute(deal_id=deal.pk)
    assert _codes(deal) == {"PRESSURE_PREMATURE_CLOSE"}
    assert (result.buyer_score, result.seller_score, result.balance) == (70, 70, "lose_lose")


# --- the catalog -------------------------------------------------------------------------


def test_every_rule_code_has_a_label_advice_and_the_rules_side():
    for code in rules.ALL_CODES:
        info = catalog.CATALOG[code]
        assert info.label and info.advice and info.label != code
        assert rules.SIDE_OF[code] == info.side


def test_buyer_reported_pressure_is_known_to_every_page():
    info = catalog.CATALOG["BUYER_REPORTED_PRESSURE"]
    assert info.label == "The buyer said they felt pushed"
    assert info.side == "relationship" and info.advice


def test_pages_share_the_catalog_instead_of_copies():
    from deals import views
    from deals.dashboard import selectors
    from deals.dashboard import views as dashboard_views
    from deals.health import store

    for module in (views, store, selectors, dashboard_views):
        assert not hasattr(module, "FLAG_ADVICE")
        assert not hasattr(module, "SEVERITY_ORDER")
        assert not hasattr(module, "SEVERITY_RANK")
        assert not hasattr(module, "CODE_LABELS")


# --- the data migration --------------------------------------------------------------------


def test_the_migration_rescores_stored_verdicts_from_the_active_flags(deal):
    import importlib

    migration = importlib.import_module("deals.migrations.0013_stage_history_backfill_and_rescore")
    f.FlagFactory(deal=deal, code="PRESSURE_PREMATURE_CLOSE", severity="critical")
    # As the old verdict stored it: 70/70 read as win-win.
    Deal.objects.filter(pk=deal.pk).update(
        buyer_score=70, seller_score=70, balance="win_win", health_computed_at=timezone.now()
    )
    HealthPolicy.objects.get_or_create(team=None, defaults={"weight_warning": 15})

    migration.rescore_verdicts(django_apps, None)

    deal.refresh_from_db()
    assert deal.balance == "lose_lose"
    assert HealthPolicy.objects.get(team=None).weight_warning == 20


def test_the_backfill_dates_a_deal_from_when_it_entered_its_current_stage(deal, rep_user):
    import importlib

    migration = importlib.import_module("deals.migrations.0013_stage_history_backfill_and_rescore")
    t0 = timezone.now() - dt.timedelta(days=30)
    rows = [
        (t0, "discovery"),
        (t0 + dt.timedelta(days=5), "negotiation"),
        (t0 + dt.timedelta(days=6), "negotiation"),
    ]
    assert migration._entered_current_stage(rows, "negotiation") == t0 + dt.timedelta(days=5)

    StageHistory.objects.all().delete()
    migration.backfill_stage_history(django_apps, None)
    assert StageHistory.objects.filter(deal=deal).count() == 1
