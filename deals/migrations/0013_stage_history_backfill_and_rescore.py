"""Backfill one StageHistory row per existing deal, and re-score the stored verdicts.

- The row says when the deal entered its current stage: the start of the last run of
  that stage in the deal's simple-history rows (else its closing or creation time); the
  deal's `stage_changed_at` gets the same time, so STAGE_STALLED is right on day one.
- Policies still at the old default warning weight (15) move to the new one (20), and
  every computed deal is scored again from its active flags under the new verdict (no
  side wins with a critical flag against it), so the dashboard agrees at once instead of
  after the next sweep. New flags (STAGE_STALLED) come with that sweep.
"""

from django.db import migrations

# Deals handled per round trip: a few thousand keeps memory flat at 100,000+ deals.
CHUNK = 2000
OLD_WARNING_WEIGHT, NEW_WARNING_WEIGHT = 15, 20


def _entered_current_stage(rows, stage):
    """rows: (history_date, stage) oldest first; the time the final run of `stage` began."""
    entered = None
    for when, row_stage in rows:
        if row_stage != stage:
            entered = None
        elif entered is None:
            entered = when
    return entered


def backfill_stage_history(apps, schema_editor):
    Deal = apps.get_model("deals", "Deal")
    HistoricalDeal = apps.get_model("deals", "HistoricalDeal")
    StageHistory = apps.get_model("deals", "StageHistory")
    done = set(StageHistory.objects.values_list("deal_id", flat=True).distinct())
    last_id = 0
    while True:
        deals = list(
            Deal.objects.filter(id__gt=last_id)
            .order_by("id")
            .values_list("id", "stage", "created_at", "closed_at", "owner_id")[:CHUNK]
        )
        if not deals:
            break
        last_id = deals[-1][0]
        ids = [d[0] for d in deals]
        history = {}
        for deal_id, when, stage in (
            HistoricalDeal.objects.filter(id__in=ids)
            .order_by("id", "history_date", "history_id")
            .values_list("id", "history_date", "stage")
        ):
            history.setdefault(deal_id, []).append((when, stage))
        rows, entered_at = [], []
        for deal_id, stage, created_at, closed_at, _owner_id in deals:
            entered = _entered_current_stage(history.get(deal_id, []), stage)
            if entered is None:
                entered = closed_at if closed_at and stage.startswith("closed") else created_at
            entered_at.append(Deal(id=deal_id, stage_changed_at=entered))
            if deal_id not in done:
                rows.append(
                    StageHistory(
                        deal_id=deal_id,
                        from_stage="",
                        to_stage=stage,
                        changed_at=entered,
                        changed_by_id=None,
                        reason="Recorded when stage history began.",
                    )
                )
        Deal.objects.bulk_update(entered_at, ["stage_changed_at"], batch_size=500)
        StageHistory.objects.bulk_create(rows, batch_size=CHUNK)


def rescore_verdicts(apps, schema_editor):
    from deals.health.scoring import score

    HealthPolicy = apps.get_model("deals", "HealthPolicy")
    Deal = apps.get_model("deals", "Deal")
    Flag = apps.get_model("deals", "Flag")
    HealthPolicy.objects.filter(weight_warning=OLD_WARNING_WEIGHT).update(
        weight_warning=NEW_WARNING_WEIGHT
    )
    policies = {p.team_id: p for p in HealthPolicy.objects.all()}
    if not policies:
        return  # no policy yet: no deal was ever scored
    fallback = policies.get(None) or next(iter(policies.values()))
    last_id = 0
    while True:
        deals = list(
            Deal.objects.filter(id__gt=last_id, health_computed_at__isnull=False)
            .order_by("id")
            .values_list("id", "team_id", "buyer_score", "seller_score", "balance")[:CHUNK]
        )
        if not deals:
            break
        last_id = deals[-1][0]
        flags = {}
        for flag in Flag.objects.filter(
            deal_id__in=[d[0] for d in deals], status__in=["open", "acknowledged"]
        ).only("deal_id", "code", "side", "severity"):
            flags.setdefault(flag.deal_id, []).append(flag)
        changed = []
        for deal_id, team_id, buyer, seller, balance in deals:
            scores = score(flags.get(deal_id, []), policies.get(team_id) or fallback)
            if (scores.buyer_score, scores.seller_score, scores.balance) != (buyer, seller, balance):
                changed.append(
                    Deal(
                        id=deal_id,
                        buyer_score=scores.buyer_score,
                        seller_score=scores.seller_score,
                        balance=scores.balance,
                    )
                )
        Deal.objects.bulk_update(
            changed, ["buyer_score", "seller_score", "balance"], batch_size=500
        )


class Migration(migrations.Migration):
    dependencies = [("deals", "0012_stage_history_and_verdict")]

    operations = [
        migrations.RunPython(backfill_stage_history, migrations.RunPython.noop),
        migrations.RunPython(rescore_verdicts, migrations.RunPython.noop),
    ]
