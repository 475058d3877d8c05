"""Hand-built closed deals with outcomes, shared by the outcome tests and the browser test.

Alpha (manager_user's team):
  w1 rita  won, net 1000 cost 400 (60 % margin), closed win-win; day-90: needs 5 and 4
           (4.50), profitable -> a win-win outcome; promises c1 c2 c3 kept.
  w2 rita  won, net 2000 cost 1800 (10 %), closed buyer-loses; day-90: value 3, at risk;
           promise c4 missed. PRESSURE_CHASING from 10 days before the close, resolved then.
  w3 oscar won, net 500 cost 250 (50 %); only the day-30 check-in recorded (not checked);
           HANDOFF_LEAK raised after the close.
  l1 oscar lost, PRESSURE_CHASING open since 5 days before the close.
  l2 rita  lost, PRESSURE_CHASING resolved 40 days before the close (outside the window).
Beta: b1 won, day-90 value 5, profitable, PRESSURE_CHASING at the close.
"""

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from handoff.models import CheckIn, CheckInNeedValue, CheckInPromise, Handoff
from tests import factories as f

from .conftest import make_deal, snapshot

D = Decimal


def _handoff(deal, delivery_team, accepted_days_ago=100):
    accepted = timezone.now() - dt.timedelta(days=accepted_days_ago)
    return Handoff.objects.create(
        deal=deal,
        rep=deal.owner,
        delivery_team=delivery_team,
        status=Handoff.Status.ACCEPTED,
        accepted_at=accepted,
    )


def _check_in(handoff, offset, *, value, health, customer_value=None):
    return CheckIn.objects.create(
        handoff=handoff,
        day_offset=offset,
        due_date=timezone.localdate() - dt.timedelta(days=5),
        completed_at=timezone.now() - dt.timedelta(days=4),
        customer_value=customer_value or int(value),
        outcome_value=D(value),
        account_health=health,
    )


def _closed(team, owner, stage, *, net=0, cost=0, days_ago=20, balance="win_win", **kw):
    deal = make_deal(
        team, owner, stage=stage, scores=(80, 80, balance), list_total=net, net=net, cost=cost, **kw
    )
    deal.closed_at = timezone.now() - dt.timedelta(days=days_ago)
    deal.save(update_fields=["closed_at"])
    return deal


def _flag(deal, code, *, first_before_close, resolved_before_close=None):
    first = deal.closed_at - dt.timedelta(days=first_before_close)
    resolved = (
        deal.closed_at - dt.timedelta(days=resolved_before_close)
        if resolved_before_close is not None
        else None
    )
    return f.FlagFactory(
        deal=deal,
        code=code,
        status="resolved" if resolved else "open",
        first_seen_at=first,
        last_seen_at=resolved or first,
        resolved_at=resolved,
    )


def build_outcomes_board(*, team, other_team, rita, oscar, delivery_team) -> dict:
    w1 = _closed(team, rita, "closed_won", net=1000, cost=400, title="w1")
    h1 = _handoff(w1, delivery_team)
    ci1 = _check_in(h1, 90, value="4.50", health="profitable", customer_value=5)
    needs = [f.NeedFactory(deal=w1), f.NeedFactory(deal=w1)]
    for need, value in zip(needs, (5, 4), strict=True):
        CheckInNeedValue.objects.create(check_in=ci1, need=need, value=value)
    for _ in range(3):
        c = f.CommitmentFactory(deal=w1, status="done")
        CheckInPromise.objects.create(check_in=ci1, commitment=c, status="kept")
    snapshot(w1, timezone.localdate(w1.closed_at), "win_win")

    w2 = _closed(team, rita, "closed_won", net=2000, cost=1800, title="w2", balance="win_win")
    h2 = _handoff(w2, delivery_team)
    ci2 = _check_in(h2, 90, value="3", health="at_risk")
    c4 = f.CommitmentFactory(deal=w2, status="open")
    CheckInPromise.objects.create(check_in=ci2, commitment=c4, status="missed")
    # Closed buyer-loses (the snapshot of its close day), win-win today.
    snapshot(w2, timezone.localdate(w2.closed_at), "buyer_loses")
    snapshot(w2, timezone.localdate(w2.closed_at) - dt.timedelta(days=3), "win_win")
    _flag(w2, "PRESSURE_CHASING", first_before_close=10, resolved_before_close=0)

    w3 = _closed(team, oscar, "closed_won", net=500, cost=250, title="w3")
    h3 = _handoff(w3, delivery_team)
    _check_in(h3, 30, value="5", health="profitable")
    CheckIn.objects.create(handoff=h3, day_offset=90, due_date=timezone.localdate())
    f.FlagFactory(deal=w3, code="HANDOFF_LEAK")  # raised now, after the close

    l1 = _closed(team, oscar, "closed_lost", net=800, cost=400, title="l1", lost_reason="x")
    _flag(l1, "PRESSURE_CHASING", first_before_close=5)
    l2 = _closed(team, rita, "closed_lost", net=800, cost=400, title="l2", lost_reason="x")
    _flag(l2, "PRESSURE_CHASING", first_before_close=60, resolved_before_close=40)

    beta_rep = f.rep(other_team, username="bert_rep")
    b1 = _closed(other_team, beta_rep, "closed_won", net=9000, cost=1000, title="b1")
    hb = _handoff(b1, delivery_team)
    _check_in(hb, 90, value="5", health="profitable")
    _flag(b1, "PRESSURE_CHASING", first_before_close=3)
    return locals()
