"""The one entry point: `demo_seed()` writes the stories, the generated deals, their
health, simulated outcomes, past forecasts and health history, idempotently."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass

from django.db import connection, transaction

from deals.models import Deal

from .cohort import COHORT_DEALS, _write_cohort, cohort_written
from .forecast import forecast_history_simulate
from .generator import _generate_range
from .history import snapshots_write
from .load import bulk_load
from .outcomes import outcomes_simulate
from .replicate import COPIED, REPLICATE_FROM, TEMPLATE_DEALS, copies_write
from .reset import demo_reset
from .stories import _write_stories
from .vocabulary import DEFAULT_SEED, DEMO_PREFIX, HISTORY_DAYS, SMALL_DEMO_DEALS, STORY_PREFIX
from .world import world_ensure


class Progress:
    """A one-line terminal progress bar: `[#####.....] 45,000/100,000 deals  1,234/s  ETA 40s`."""

    def __init__(self, total: int, stream=None, label: str = "deals"):
        self.total = max(total, 1)
        self.stream = stream or sys.stderr
        self.label = label
        self.started = time.monotonic()

    def __call__(self, done: int) -> None:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        rate = done / elapsed
        eta = (self.total - done) / rate if rate else 0
        filled = int(30 * done / self.total)
        self.stream.write(
            f"\r[{'#' * filled}{'.' * (30 - filled)}] {done:,}/{self.total:,} {self.label}"
            f"  {rate:,.0f}/s  ETA {eta:,.0f}s "
        )
        if done >= self.total:
            self.stream.write("\n")
        self.stream.flush()


def health_compute(deal_ids: list[int], *, out=None, progress: bool = False) -> str:
    """Compute health for freshly written deals: one by one for a small demo, else the
    sweep (open deals and won deals with a handoff), with a progress bar when asked."""
    import deals.health as health

    started = time.monotonic()
    if len(deal_ids) <= 500:
        for deal_id in deal_ids:
            health.health_recompute(deal_id=deal_id)
        return f"health computed for {len(deal_ids):,} deals in {time.monotonic() - started:.1f}s"
    bar = Progress(1, stream=out, label="deals swept") if progress else None

    def tick(done: int, total: int) -> None:
        assert bar is not None
        bar.total = max(total, 1)
        bar(done)

    swept = health.health_sweep(progress=tick if bar else None)
    elapsed = time.monotonic() - started
    rate = f" ({swept / elapsed:,.0f} deals/s)" if isinstance(swept, int) and elapsed else ""
    return f"health sweep: {swept} deals in {elapsed:.1f}s{rate}"


def _analyze() -> None:
    """Refresh PostgreSQL's planner statistics after a bulk load.

    Autovacuum gets to millions of fresh rows only minutes later; until then the planner
    believes the tables are nearly empty and picks plans that make the deal list API and the
    health sweep several times slower. VACUUM also sets the visibility map, so counts become
    index-only scans (figures: bench/RESULTS.md, "Measurements behind design choices").
    VACUUM cannot run in a transaction, so inside one only ANALYZE runs.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE")


def _copies_write(*, seed: int, deals: int, out=None) -> str:
    """Deals TEMPLATE_DEALS..deals-1 as copies of the drawn ones, in one transaction."""
    started = time.monotonic()
    tables = [m._meta.db_table for m in COPIED]
    with transaction.atomic(), bulk_load(deals=deals - TEMPLATE_DEALS, out=out, tables=tables):
        written = copies_write(seed=seed, template_deals=TEMPLATE_DEALS, deals=deals, out=out)
    return (
        f"copied {deals - TEMPLATE_DEALS:,} deals ({sum(written.values()):,} rows) from the first"
        f" {TEMPLATE_DEALS:,} in {time.monotonic() - started:.1f}s"
    )


def generated_count(seed: int) -> int:
    return Deal.objects.filter(external_id__startswith=f"{DEMO_PREFIX}{seed}:d").count()


@dataclass
class SeedReport:
    stories_created: bool
    deals_created: int
    deals_total: int
    seconds: float
    notes: list[str]


def demo_seed(
    *,
    deals: int = SMALL_DEMO_DEALS,
    seed: int = DEFAULT_SEED,
    reset: bool = False,
    progress: bool = False,
    with_health: bool = True,
    out=None,
) -> SeedReport:
    """Make sure the demo has its stories, its past customers (cohort.py) and `deals`
    generated deals for `seed`.

    Idempotent: what is there is kept and only missing deals are added, so a re-run adds
    nothing and a larger `deals` tops up. `reset` deletes the demo data first.
    """
    from deals.dashboard.live_rollup import (
        live_rollup_pause,
        live_rollup_rebuild,
        live_rollup_resume,
    )

    # A load writes no per-deal deltas for the dashboard's sums; they are rebuilt at its
    # end, and the dashboard reads the deals table meanwhile (deals.dashboard.live_rollup).
    live_rollup_pause()
    try:
        report = _demo_seed(
            deals=deals, seed=seed, reset=reset, progress=progress, with_health=with_health, out=out
        )
    finally:
        live_rollup_resume()
    live_rollup_rebuild()
    return report


def _demo_seed(*, deals: int, seed: int, reset: bool, progress: bool, with_health: bool, out):
    started = time.monotonic()
    notes = []
    if reset:
        demo_reset()
        notes.append("removed the previous demo data")
    world = world_ensure()
    new_ids: list[int] = []
    stories_created = False
    if not Deal.objects.filter(external_id__startswith=STORY_PREFIX).exists():
        with transaction.atomic():
            new_ids += [d.deal.pk for d in _write_stories(world)]
        stories_created = True
    if not cohort_written(seed):
        with transaction.atomic():
            new_ids += _write_cohort(world, seed=seed)
        notes.append(f"wrote {COHORT_DEALS} past customers (won 4-11 months ago)")
    existing = generated_count(seed)
    # A large demo draws its first TEMPLATE_DEALS deals and copies the rest (replicate.py).
    copying = (
        connection.vendor == "postgresql"
        and deals >= REPLICATE_FROM
        and existing < deals
        and existing <= TEMPLATE_DEALS
    )
    drawn = TEMPLATE_DEALS if copying else deals
    if existing < drawn:
        bar = Progress(drawn - existing, stream=out) if progress else None
        with transaction.atomic(), bulk_load(deals=drawn - existing, out=out):
            new_ids += _generate_range(world, seed=seed, start=existing, stop=drawn, progress=bar)
        notes.append(
            f"wrote {drawn - existing:,} generated deals in {time.monotonic() - started:.1f}s"
        )
    if len(new_ids) > 1000:
        _analyze()
    # Buyer rooms of two stories (deals/buyer_room/demo.py); their health is computed below.
    from deals.buyer_room.demo import demo_buyer_rooms_ensure

    new_ids += [i for i in demo_buyer_rooms_ensure() if i not in new_ids]
    if new_ids and with_health:
        notes.append(health_compute(new_ids, out=out, progress=progress))
        notes.append(outcomes_simulate(new_ids, seed=seed))
        written = snapshots_write(new_ids, seed=seed)
        notes.append(f"wrote {written:,} health snapshots (change-only, {HISTORY_DAYS} days)")
    if copying:
        notes.append(_copies_write(seed=seed, deals=deals, out=out))
        _analyze()  # the rollup below reads the copied snapshots
    if (new_ids or copying) and with_health:
        notes.append(forecast_history_simulate(seed=seed))
        # The dashboard's day rollups are built from the snapshots just written.
        from deals.dashboard.services import (
            dashboard_history_rollup,
            dashboard_rep_rollup,
            outcomes_rollup_rebuild,
        )

        rolled = time.monotonic()
        days = dashboard_history_rollup(full=True)
        dashboard_rep_rollup()
        outcome_rows = outcomes_rollup_rebuild(full=True)
        notes.append(
            f"rolled up {len(days):,} dashboard days, the rep table and {outcome_rows:,}"
            f" outcome rows in {time.monotonic() - rolled:.1f}s"
        )
        if len(new_ids) > 1000 and not copying:  # a copied load was analysed after the copies
            _analyze()
    return SeedReport(
        stories_created=stories_created,
        deals_created=len(new_ids) + (deals - TEMPLATE_DEALS if copying else 0),
        deals_total=Deal.objects.filter(external_id__startswith=DEMO_PREFIX).count(),
        seconds=time.monotonic() - started,
        notes=notes,
    )
