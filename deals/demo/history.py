"""Health history of the demo deals: change-only HealthSnapshot rows over HISTORY_DAYS.

A deal's state on day D is its latest snapshot with day <= D (the store writes a row only
when a deal's content changed), so the history is written the same way: per deal, a first
row on the day it was created (or HISTORY_DAYS back, for older deals) and then one row on
each day its drawn state changed, ending in today's state. No row repeats the one before.

The past is drawn backwards from today's scores, from the deal's own Random (the rest of
the demo does not move): going back, a deal more often had one more open flag and a lower
score on one side (the team has been improving, so trend charts have a shape), and now
and then a different net total (the proposal was revised). Deterministic for the seed and
the deals' current state.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from decimal import Decimal

from django.utils import timezone

from deals import pricing
from deals.models import Deal, Flag, HealthSnapshot

from .bulk import copy_tuples
from .vocabulary import HISTORY_DAYS, SNAPSHOT_DEALS_PER_BATCH

# Average days between two changes of a deal's drawn state.
DAYS_PER_CHANGE = 40
# What a change undid, going back in time: (kind, weight).
CHANGE_KINDS = (("flag_resolved", 55), ("flag_raised", 20), ("price_revised", 25))
COLUMNS = (
    "deal_id",
    "day",
    "buyer_score",
    "seller_score",
    "balance",
    "open_flag_count",
    "pressure_flag_count",
    "net_total",
    "team_id",
    "owner_id",
)


def _balance(buyer: int, seller: int, threshold: int = 70) -> str:
    if buyer >= threshold and seller >= threshold:
        return Deal.Balance.WIN_WIN
    if buyer >= threshold:
        return Deal.Balance.SELLER_LOSES
    if seller >= threshold:
        return Deal.Balance.BUYER_LOSES
    return Deal.Balance.LOSE_LOSE


def deal_history(
    rng: random.Random,
    *,
    first_day: dt.date,
    last_day: dt.date,
    state: tuple[int, int, int, int, Decimal],
) -> list[tuple[dt.date, tuple[int, int, int, int, Decimal]]]:
    """One deal's (day, (buyer, seller, open flags, pressure flags, net total)) rows, oldest
    first: a row on `first_day`, then one per change up to `last_day`, ending in `state`."""
    span = (last_day - first_day).days
    changes = 0
    if span > 0:
        expected = span / DAYS_PER_CHANGE
        changes = min(span, int(expected) + (rng.random() < expected - int(expected)))
    days = sorted(rng.sample(range(1, span + 1), changes)) if changes else []
    kinds = [kind for kind, _ in CHANGE_KINDS]
    weights = [weight for _, weight in CHANGE_KINDS]
    rows = []
    buyer, seller, flags, pressure, net = state
    for offset in reversed(days):
        rows.append((first_day + dt.timedelta(days=offset), (buyer, seller, flags, pressure, net)))
        kind = rng.choices(kinds, weights=weights, k=1)[0]
        if kind == "flag_resolved" or (kind == "flag_raised" and flags == 0):
            # Before this day one more flag was open and one side scored lower.
            flags += 1
            drop = rng.randint(15, 35)
            if rng.random() < 0.5:
                buyer = max(0, buyer - drop)
            else:
                seller = max(0, seller - drop)
            if rng.random() < 0.4:
                pressure += 1
        elif kind == "flag_raised":
            # Before this day one flag fewer was open and one side scored higher.
            flags -= 1
            pressure = min(pressure, flags)
            rise = rng.randint(10, 30)
            if rng.random() < 0.5:
                buyer = min(100, buyer + rise)
            else:
                seller = min(100, seller + rise)
        else:
            net = pricing.money(net * Decimal(rng.randint(85, 125)) / 100)
    rows.append((first_day, (buyer, seller, flags, pressure, net)))
    rows.reverse()
    # Only changes: a drawn change that undid itself leaves no row.
    kept = [rows[0]]
    for day, values in rows[1:]:
        if values != kept[-1][1]:
            kept.append((day, values))
    return kept


def snapshots_write(deal_ids: list[int], *, seed: int, days: int = HISTORY_DAYS) -> int:
    """Change-only HealthSnapshot rows before today over the last `days` days, for deals
    that have health. Only for deals written in this run (nothing to conflict with)."""
    from deals.health import PRESSURE_CODES

    today = timezone.localdate()
    horizon = today - dt.timedelta(days=days)
    yesterday = today - dt.timedelta(days=1)
    written = 0
    for start in range(0, len(deal_ids), SNAPSHOT_DEALS_PER_BATCH):
        batch = deal_ids[start : start + SNAPSHOT_DEALS_PER_BATCH]
        pressure: defaultdict[int, int] = defaultdict(int)
        flagged = Flag.objects.filter(
            deal_id__in=batch, status__in=Flag.ACTIVE_STATUSES, code__in=PRESSURE_CODES
        ).values_list("deal_id", flat=True)
        for deal_id in flagged:
            pressure[deal_id] += 1
        deals = Deal.objects.filter(pk__in=batch, buyer_score__isnull=False).values_list(
            "pk",
            "external_id",
            "created_at",
            "closed_at",
            "buyer_score",
            "seller_score",
            "open_flag_count",
            "net_total",
            "team_id",
            "owner_id",
        )
        rows = []
        for pk, external_id, created_at, closed_at, buyer, seller, flags, net, team, owner in deals:
            assert buyer is not None and seller is not None  # filtered on buyer_score above
            first_day = max(timezone.localdate(created_at), horizon)
            if first_day > yesterday:
                continue
            # A closed deal's content stops changing at its close.
            last_day = min(timezone.localdate(closed_at), yesterday) if closed_at else yesterday
            rng = random.Random(f"{seed}:h:{external_id}")
            state = (buyer, seller, flags, min(pressure[pk], flags), net)
            for day, (b, s, f, p, n) in deal_history(
                rng, first_day=first_day, last_day=max(last_day, first_day), state=state
            ):
                rows.append((pk, day, b, s, _balance(b, s), f, p, n, team, owner))
        copy_tuples(HealthSnapshot, COLUMNS, rows)
        written += len(rows)
    return written
