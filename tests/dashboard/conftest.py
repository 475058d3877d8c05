"""Hand-built deals whose dashboard numbers are worked out by hand in the tests.

Alpha (the manager's team), rita and oscar:
  d1 rita  negotiation   80/90  win_win       list 1000 net  900 cost  450  (10% off, 50% margin)
  d2 rita  proposal      50/85  buyer_loses   list 2000 net 1500 cost 1200  (25% off, 20% margin)
  d6 rita  discovery     unscored             list  300 net  300 cost  150  ( 0% off, 50% margin)
  d3 oscar discovery     75/40  seller_loses  list 1000 net  800 cost  700  (20% off, 12.5% margin)
  d4 oscar qualification 30/20  lose_lose     nothing priced
  d5 oscar closed_won    90/90  win_win       net 5000, handoff claimed 4h after its SLA,
                                              check-ins valued 4 and 5
  d9 rita  closed_won    unscored             handoff unclaimed 1h past its SLA
Beta (another team): d7 win_win open net 99999 with an open pressure flag and history.
"""

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.utils import timezone

from deals.models import Deal, Flag, HealthSnapshot
from handoff.models import CheckIn, Handoff
from tests import factories as f

D = Decimal


def make_deal(team, owner, *, stage="discovery", scores=None, list_total=0, net=0, cost=0, **kw):
    buyer, seller, balance = scores if scores else (None, None, "")
    return f.DealFactory(
        team=team,
        owner=owner,
        stage=stage,
        buyer_score=buyer,
        seller_score=seller,
        balance=balance,
        list_total=D(list_total),
        net_total=D(net),
        cost_total=D(cost),
        closed_at=timezone.now() if stage in Deal.CLOSED_STAGES else None,
        **kw,
    )


MESSAGES = {
    "PRESSURE_CHASING": "Five follow-ups in 7 days with no reply from the buyer.",
    "PRESSURE_LANGUAGE": "Notes say “offer expires Friday” — deadline pressure.",
    "PRESSURE_PREMATURE_CLOSE": "Close attempt while the security review is still open.",
    "SELLER_DISCOUNT_OVER_POLICY": "Discount of 22% is above the 15% policy.",
    "BUYER_OVERSELL": "“Premium analytics” serves no recorded need.",
}


def make_flag(deal, code, *, status="open", severity="warning", side="relationship", age_days=0):
    seen = timezone.now() - dt.timedelta(days=age_days)
    return f.FlagFactory(
        deal=deal,
        message=MESSAGES.get(code, "Four follow-ups in a week with no reply."),
        code=code,
        status=status,
        severity=severity,
        side=side,
        first_seen_at=seen,
        last_seen_at=seen,
    )


def snapshot(deal, day, balance, *, net=0, pressure=0, buyer=50, seller=50):
    return HealthSnapshot.objects.create(
        deal=deal,
        day=day,
        buyer_score=buyer,
        seller_score=seller,
        balance=balance,
        net_total=D(net),
        pressure_flag_count=pressure,
        team_id=deal.team_id,
        owner_id=deal.owner_id,
    )


@pytest.fixture
def rita(team):
    return f.rep(team, username="rita_rep", first_name="Rita", last_name="Reyes")


@pytest.fixture
def oscar(team):
    return f.rep(team, username="oscar_rep", first_name="Oscar", last_name="Olsen")


@pytest.fixture
def board(team, other_team, rita, oscar, manager_user, other_manager):
    """The hand-built data set above; returns its objects by name."""
    today = timezone.localdate()
    now = timezone.now()
    d1 = make_deal(
        team,
        rita,
        stage="negotiation",
        scores=(80, 90, "win_win"),
        list_total=1000,
        net=900,
        cost=450,
        title="Acme rollout",
    )
    d2 = make_deal(
        team,
        rita,
        stage="proposal",
        scores=(50, 85, "buyer_loses"),
        list_total=2000,
        net=1500,
        cost=1200,
        title="Globex upsell",
    )
    d6 = make_deal(
        team, rita, stage="discovery", list_total=300, net=300, cost=150, title="Initech pilot"
    )
    d3 = make_deal(
        team,
        oscar,
        stage="discovery",
        scores=(75, 40, "seller_loses"),
        list_total=1000,
        net=800,
        cost=700,
        title="=HYPERLINK(evil)",
    )
    d4 = make_deal(
        team, oscar, stage="qualification", scores=(30, 20, "lose_lose"), title="Umbrella renewal"
    )
    d5 = make_deal(
        team,
        oscar,
        stage="closed_won",
        scores=(90, 90, "win_win"),
        list_total=5000,
        net=5000,
        cost=1000,
        title="Hooli platform",
    )
    d9 = make_deal(team, rita, stage="closed_won", title="Stark services")
    beta_rep = f.rep(other_team, username="bert_rep")
    d7 = make_deal(
        other_team,
        beta_rep,
        stage="proposal",
        scores=(95, 95, "win_win"),
        list_total=99999,
        net=99999,
        cost=1,
        title="Beta secret deal",
    )

    flags = SimpleNamespace(
        d1_chasing=make_flag(d1, "PRESSURE_CHASING", age_days=10),
        d2_language=make_flag(d2, "PRESSURE_LANGUAGE", severity="critical", age_days=2),
        d2_oversell=make_flag(d2, "BUYER_OVERSELL", side="buyer", severity="info"),
        d3_chasing_ack=make_flag(d3, "PRESSURE_CHASING", status="acknowledged"),
        d5_chasing=make_flag(d5, "PRESSURE_CHASING"),
        d7_chasing=make_flag(d7, "PRESSURE_CHASING"),
    )

    delivery_team = f.DeliveryTeamFactory(name="Board delivery")
    h5 = Handoff.objects.create(
        deal=d5,
        rep=oscar,
        delivery_team=delivery_team,
        status="accepted",
        sla_due_at=now - dt.timedelta(hours=5),
        claimed_at=now - dt.timedelta(hours=1),
    )
    CheckIn.objects.create(
        handoff=h5, day_offset=30, due_date=today, customer_value=4, completed_at=now
    )
    CheckIn.objects.create(
        handoff=h5, day_offset=90, due_date=today, customer_value=5, completed_at=now
    )
    CheckIn.objects.create(handoff=h5, day_offset=180, due_date=today)  # not done yet
    Handoff.objects.create(
        deal=d9,
        rep=rita,
        delivery_team=delivery_team,
        status="submitted",
        sla_due_at=now - dt.timedelta(hours=1),
    )
    beta_handoff_deal = make_deal(other_team, beta_rep, stage="closed_won")
    bh = Handoff.objects.create(
        deal=beta_handoff_deal,
        rep=beta_rep,
        delivery_team=delivery_team,
        status="accepted",
        sla_due_at=now - dt.timedelta(days=3),
        claimed_at=now,
    )
    CheckIn.objects.create(handoff=bh, day_offset=30, due_date=today, customer_value=1)

    week_ago = today - dt.timedelta(days=7)
    month_ago = today - dt.timedelta(days=30)
    snapshot(d1, week_ago, "buyer_loses", net=900, pressure=2)
    snapshot(d2, week_ago, "buyer_loses", net=1000, pressure=1)
    snapshot(d3, week_ago, "win_win", net=800)
    snapshot(d7, week_ago, "lose_lose", net=99999, pressure=7)
    snapshot(d1, month_ago, "lose_lose", net=100, pressure=1)
    snapshot(d7, month_ago, "win_win", net=99999, pressure=3)

    return SimpleNamespace(
        d1=d1,
        d2=d2,
        d3=d3,
        d4=d4,
        d5=d5,
        d6=d6,
        d7=d7,
        d9=d9,
        flags=flags,
        rita=rita,
        oscar=oscar,
        manager=manager_user,
        other_manager=other_manager,
        today=today,
        week_ago=week_ago,
        month_ago=month_ago,
    )


def flag_status(flag) -> str:
    return Flag.objects.get(pk=flag.pk).status
