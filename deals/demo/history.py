"""Health history of the demo deals: HealthSnapshot rows drawn back from today's scores."""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict

from django.utils import timezone

from deals.models import Deal, Flag, HealthSnapshot

from .bulk import fast_insert
from .vocabulary import HISTORY_WEEKS, SNAPSHOT_DEALS_PER_BATCH


def snapshots_write(deal_ids: list[int], *, seed: int, weeks: int = HISTORY_WEEKS) -> int:
    """Weekly HealthSnapshot rows over the last `weeks` weeks for deals that have health.

    Drawn backwards from today's scores: going back in time a win-win deal more often had
    one more flag (the team has been improving), so the trend chart has a shape. Existing
    rows for a (deal, day) are kept. Deterministic for the seed and the deals' current state.
    """
    from deals.health import PRESSURE_CODES as pressure_codes

    today = timezone.localdate()
    written = 0
    for start in range(0, len(deal_ids), SNAPSHOT_DEALS_PER_BATCH):
        batch = deal_ids[start : start + SNAPSHOT_DEALS_PER_BATCH]
        pressure: defaultdict[int, int] = defaultdict(int)
        if pressure_codes:
            flagged = Flag.objects.filter(
                deal_id__in=batch, status__in=Flag.ACTIVE_STATUSES, code__in=pressure_codes
            ).values_list("deal_id", flat=True)
            for deal_id in flagged:
                pressure[deal_id] += 1
        deals = Deal.objects.filter(pk__in=batch, buyer_score__isnull=False).values_list(
            "pk",
            "external_id",
            "created_at",
            "buyer_score",
            "seller_score",
            "open_flag_count",
            "net_total",
            "team_id",
            "owner_id",
        )
        rows = []
        for pk, external_id, created_at, buyer, seller, flags, net, team_id, owner_id in deals:
            assert buyer is not None and seller is not None  # filtered on buyer_score above
            rng = random.Random(f"{seed}:h:{external_id}")
            pressure_count = pressure[pk]
            for week in range(1, weeks + 1):
                day = today - dt.timedelta(weeks=week)
                if day < timezone.localdate(created_at):
                    break
                if rng.random() < 0.04 and buyer >= 70 and seller >= 70:
                    flags += 1
                    if rng.random() < 0.5:
                        buyer = max(0, buyer - 30)
                    else:
                        seller = max(0, seller - 30)
                    if rng.random() < 0.5:
                        pressure_count += 1
                rows.append(
                    HealthSnapshot(
                        deal_id=pk,
                        day=day,
                        buyer_score=buyer,
                        seller_score=seller,
                        balance=_balance(buyer, seller),
                        open_flag_count=flags,
                        pressure_flag_count=pressure_count,
                        net_total=net,
                        team_id=team_id,
                        owner_id=owner_id,
                    )
                )
        # Only days before today, for deals written in this run: nothing to conflict with.
        fast_insert(HealthSnapshot, rows)
        written += len(rows)
    return written


def _balance(buyer: int, seller: int, threshold: int = 70) -> str:
    if buyer >= threshold and seller >= threshold:
        return Deal.Balance.WIN_WIN
    if buyer >= threshold:
        return Deal.Balance.SELLER_LOSES
    if seller >= threshold:
        return Deal.Balance.BUYER_LOSES
    return Deal.Balance.LOSE_LOSE
