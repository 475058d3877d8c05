"""The demo generator: deterministic, idempotent, and its named stories hold their facts."""

import datetime as dt
from collections import Counter
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from deals import demo
from deals.models import (
    Activity,
    Concession,
    Contact,
    DashboardDayRollup,
    Deal,
    HealthSnapshot,
    LineItem,
    Need,
)
from handoff.models import Handoff
from winwin_crm.accounts.models import User

pytestmark = pytest.mark.django_db


def _snapshot():
    """What a person would compare between two runs: titles in order and row counts."""
    deals = Deal.objects.filter(external_id__startswith=demo.DEMO_PREFIX).order_by("external_id")
    return {
        "titles": list(deals.values_list("external_id", "title", "stage")),
        "totals": list(deals.values_list("list_total", "net_total", "cost_total")),
        "contacts": Contact.objects.count(),
        "needs": Need.objects.count(),
        "line_items": LineItem.objects.count(),
        "activities": Activity.objects.count(),
        "concessions": Concession.objects.count(),
        "handoffs": sorted(Handoff.objects.values_list("status", flat=True)),
    }


def _story(key):
    return Deal.objects.get(external_id=f"{demo.STORY_PREFIX}{key}")


def test_same_seed_draws_the_same_deals_twice():
    demo.demo_seed(deals=30, seed=7, with_health=False)
    first = _snapshot()
    demo.demo_reset()
    assert not Deal.objects.exists()
    demo.demo_seed(deals=30, seed=7, with_health=False)
    assert _snapshot() == first
    assert len(first["titles"]) == 30 + len(demo.STORIES) + demo.COHORT_DEALS


def test_a_different_seed_draws_different_deals():
    demo.demo_seed(deals=20, seed=1, with_health=False)
    one = [t for _, t, _ in _snapshot()["titles"]]
    demo.demo_reset()
    demo.demo_seed(deals=20, seed=2, with_health=False)
    assert [t for _, t, _ in _snapshot()["titles"]] != one


def test_asking_for_more_deals_adds_the_same_deals_a_single_run_would():
    demo.demo_seed(deals=11, seed=5, with_health=False)
    demo.demo_seed(deals=24, seed=5, with_health=False)  # odd start: shares a prospect
    topped_up = _snapshot()
    demo.demo_reset()
    demo.demo_seed(deals=24, seed=5, with_health=False)
    assert _snapshot() == topped_up


def test_running_seed_demo_twice_adds_nothing_the_second_time():
    out = StringIO()
    call_command("seed_demo", "--deals", "12", "--no-health", stdout=out)
    before = _snapshot()
    assert "12" in out.getvalue() or "26" in out.getvalue()
    out = StringIO()
    call_command("seed_demo", "--deals", "12", "--no-health", stdout=out)
    assert "already there" in out.getvalue()
    assert _snapshot() == before
    assert User.objects.filter(username__in=["rita", "sam", "mona", "dana"]).count() == 4
    assert "password: winwin-demo" in out.getvalue()


def test_reset_starts_over_and_keeps_the_demo_users():
    call_command("seed_demo", "--deals", "8", "--no-health", stdout=StringIO())
    rita_id = User.objects.get(username="rita").pk
    call_command("seed_demo", "--deals", "8", "--no-health", "--reset", stdout=StringIO())
    assert Deal.objects.count() == 8 + len(demo.STORIES) + demo.COHORT_DEALS
    assert User.objects.get(username="rita").pk == rita_id
    assert User.objects.get(username="rita").check_password(demo.DEMO_PASSWORD)


def test_every_handoff_state_is_in_the_default_demo():
    demo.demo_seed(with_health=False)
    # "imported" is made only by a CSV import of deals won in another CRM (tests/imports).
    made_here = set(Handoff.Status.values) - {Handoff.Status.IMPORTED}
    assert set(Handoff.objects.values_list("status", flat=True)) == made_here
    assert Deal.objects.count() == demo.SMALL_DEMO_DEALS + len(demo.STORIES) + demo.COHORT_DEALS


def test_generated_deals_carry_children_of_every_kind():
    demo.demo_seed(deals=200, seed=3, with_health=False)
    generated = Deal.objects.filter(external_id__startswith=f"{demo.DEMO_PREFIX}3:")
    assert set(generated.values_list("stage", flat=True)) == set(Deal.Stage.values)
    assert set(Need.objects.values_list("kind", flat=True)) == set(Need.Kind.values)
    assert set(Contact.objects.values_list("buying_role", flat=True)) == set(
        Contact.BuyingRole.values
    )
    kinds = Counter(Concession.objects.values_list("kind", flat=True))
    assert kinds["value_add"] > kinds["price"] > 0
    initiated = Counter(Activity.objects.values_list("initiated_by", flat=True))
    assert 0.3 < initiated["buyer"] / sum(initiated.values()) < 0.6
    # A year of history; at most a deal's last 120 days carry activities.
    oldest = Activity.objects.order_by("occurred_at").first().occurred_at
    assert oldest >= timezone.now() - dt.timedelta(days=demo.HISTORY_DAYS + 121)
    for deal in generated.filter(stage__in=["closed_won", "closed_lost"])[:30]:
        first = deal.activities.order_by("occurred_at").first()
        assert first.occurred_at >= deal.closed_at - dt.timedelta(days=121)
    # Most items serve a need; a minority is oversold.
    unserved = LineItem.objects.filter(needs__isnull=True).count()
    assert 0 < unserved < LineItem.objects.count() * 0.2
    # Stored pricing equals the DESIGN.md formulas over the rows.
    for deal in generated.filter(stage="closed_won")[:20]:
        items = deal.line_items.all()
        assert deal.list_total == sum(i.quantity * i.unit_list_price for i in items)


def test_security_review_story_pushes_while_the_review_is_open():
    demo.demo_seed(deals=0, with_health=False)
    deal = _story("security-review")
    review = deal.milestones.get(title="Security review")
    assert review.required_for_decision and review.completed_at is None
    attempts = deal.activities.filter(close_attempt=True, initiated_by="rep")
    assert attempts.count() >= 2
    last_rep_calls = deal.activities.filter(initiated_by="rep", kind__in=["call", "meeting"])
    assert all(a.senior_present for a in last_rep_calls.order_by("-occurred_at")[:3])


def test_support_months_story_trades_value_instead_of_price():
    demo.demo_seed(deals=0, with_health=False)
    deal = _story("support-months")
    (concession,) = deal.concessions.all()
    assert concession.kind == "value_add"
    assert concession.description == "6 extra months of support"
    assert concession.in_exchange_for
    assert deal.discount_pct <= 15 and deal.margin_pct >= 20


def test_sold_at_a_loss_story_has_forty_percent_off_and_negative_margin():
    demo.demo_seed(deals=0, with_health=False)
    deal = _story("sold-at-a-loss")
    assert deal.stage == "closed_won"
    assert deal.discount_pct == 40
    assert deal.margin_pct < 0
    assert deal.concessions.filter(kind="price", in_exchange_for="").exists()


def test_oversold_story_sells_items_no_need_asked_for():
    demo.demo_seed(deals=0, with_health=False)
    deal = _story("oversold")
    assert deal.line_items.filter(needs__isnull=True).count() == 3
    assert deal.needs.filter(importance__gte=4, line_items__isnull=True).exists()


def test_handoff_past_sla_story_waits_unclaimed_in_the_queue():
    demo.demo_seed(deals=0, with_health=False)
    handoff = _story("handoff-past-sla").handoff
    assert handoff.status == "submitted" and handoff.claimed_at is None
    assert handoff.submitted_at < timezone.now() - dt.timedelta(hours=48)
    assert handoff.delivery_team.name == demo.CUSTOMER_SUCCESS
    assert handoff.package["needs"][0]["statement"] == "Pickers work from printed lists"


def test_customer_calls_rep_story_has_support_calls_after_acceptance():
    demo.demo_seed(deals=0, with_health=False)
    deal = _story("customer-calls-rep")
    assert deal.handoff.status == "accepted"
    calls = deal.activities.filter(
        kind="support", initiated_by="buyer", occurred_at__gt=deal.handoff.accepted_at
    )
    assert calls.count() == 3


def test_each_demo_user_has_something_to_open():
    demo.demo_seed(deals=0, with_health=False)
    users = {u.username: u for u in User.objects.filter(username__in=["rita", "sam", "mona"])}
    assert Deal.objects.filter(owner=users["rita"], stage="negotiation").exists()
    assert Handoff.objects.filter(rep=users["sam"], status="needs_info").exists()
    assert Handoff.objects.filter(rep=users["rita"], status="draft").exists()
    stories = Deal.objects.filter(external_id__startswith=demo.STORY_PREFIX)
    assert stories.filter(team__manager=users["mona"]).count() == len(demo.STORIES)
    dana_queue = Handoff.objects.filter(delivery_team__members__username="dana")
    assert dana_queue.filter(status="submitted").count() == 2
    assert dana_queue.filter(assignee__username="dana", status="claimed").exists()


STORY_FLAGS = {
    "security-review": {
        "PRESSURE_PREMATURE_CLOSE",
        "PRESSURE_ESCALATION",
        "BUYER_REPORTED_PRESSURE",  # the buyer room's pulse (deals/buyer_room/demo.py)
    },
    "support-months": set(),
    "sold-at-a-loss": {
        "SELLER_DISCOUNT_OVER_POLICY",
        "SELLER_MARGIN_BELOW_FLOOR",
        "SELLER_UNTRADED_PRICE_CUT",
    },
    "oversold": {"BUYER_OVERSELL", "BUYER_UNMET_NEED", "BUYER_UNDISCLOSED"},
    "handoff-past-sla": {"HANDOFF_OVERDUE"},
    "customer-calls-rep": {"HANDOFF_LEAK"},
    "chasing": {"PRESSURE_CHASING"},
    "pressure-language": {"PRESSURE_LANGUAGE"},
    "gone-quiet": {"RELATIONSHIP_STALE"},
    "win-win": set(),
}


def test_each_story_raises_exactly_its_flags():
    demo.demo_seed(deals=0)
    raised = {
        key: set(_story(key).flags.filter(status="open").values_list("code", flat=True))
        for key in STORY_FLAGS
    }
    assert raised == STORY_FLAGS
    assert _story("support-months").balance == "win_win"
    assert _story("sold-at-a-loss").balance == "seller_loses"
    assert _story("oversold").balance == "buyer_loses"


def test_each_story_raises_the_flags_its_data_names():
    demo.demo_seed(deals=0)
    for story in demo.STORY_SPECS:
        deal = _story(story.key)
        assert set(deal.flags.filter(status="open").values_list("code", flat=True)) == story.flags
        if story.balance:
            assert deal.balance == story.balance


SNAPSHOT_STATE = ("buyer_score", "seller_score", "open_flag_count", "net_total", "team_id")


def test_demo_writes_a_year_of_change_only_health_history():
    demo.demo_seed(deals=40)
    today = timezone.localdate()
    horizon = today - dt.timedelta(days=demo.HISTORY_DAYS)
    deals = Deal.objects.filter(external_id__startswith=demo.DEMO_PREFIX)
    past = HealthSnapshot.objects.filter(day__lt=today)
    assert past.filter(day__lt=today - dt.timedelta(days=300)).exists()
    assert not past.filter(day__lt=horizon).exists()
    changed = 0
    for deal in deals:
        rows = list(
            past.filter(deal=deal)
            .order_by("day")
            .values_list("day", "balance", "pressure_flag_count", *SNAPSHOT_STATE)
        )
        if timezone.localdate(deal.created_at) >= today:
            continue
        # A first row on the day it was created (or a year back), then only changes.
        assert rows[0][0] == max(timezone.localdate(deal.created_at), horizon)
        for before, after in zip(rows, rows[1:], strict=False):
            assert before[1:] != after[1:]
        changed += len(rows) - 1
        # The history ends in the deal's state today.
        assert rows[-1][3:] == tuple(getattr(deal, f) for f in SNAPSHOT_STATE)
    # The history grows with changes, not with days: a few rows per deal, not 365.
    assert 0 < changed < deals.count() * 12
    # The dashboard's day rollups were rebuilt from it.
    assert DashboardDayRollup.objects.filter(day__lt=today).exists()
