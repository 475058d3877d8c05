"""Demo and benchmark data: one deterministic generator, split by job.

`seed_demo` (the small default demo of `make run`) and the benchmarks (`python -m bench`,
100,000 deals) both come through `demo_seed()`. Everything is derived from a seed: deal
number `i` of seed `S` is drawn from `random.Random(f"{S}:{i}")`, so the same seed gives the
same deals whether they are written in one run or topped up in several, and a run that
asks for more deals adds only the missing ones.

Modules, one job each:
- vocabulary: names, needs, notes, products and problem rates, as data;
- world: the teams and users (a fixed roster) and "now";
- bulk: COPY on PostgreSQL (`fast_insert`) and a chunk's rows written parents first;
- draft, package: one deal's rows (`DealWriter`) and its frozen handoff package;
- generator: the bulk generator (deal i of seed S);
- cohort: the past customers, won long enough ago for their 90-day check-ins;
- stories, story_data: the named stories, described as data and written by one builder;
- history: health snapshot history (change-only rows over a year);
- outcomes, forecast: simulated check-in outcomes and past forecasts;
- reset: deleting the demo;
- seed: `demo_seed`, the one entry point, its report and progress bar.
"""

from .bulk import _copy_text, _explicit_timestamps, _Rows, copy_tuples, fast_insert
from .cohort import COHORT_DEALS, cohort_traits
from .draft import DealDraft, DealWriter
from .forecast import forecast_history_simulate
from .generator import _generate_range, _Generated
from .history import _balance, deal_history, snapshots_write
from .outcomes import (
    OUTCOME_AFTER_CLOSE_CODES,
    OUTCOME_AT_RISK_BASE,
    OUTCOME_AT_RISK_RISK,
    OUTCOME_LOST_FLAG_RATES,
    OUTCOME_POOR_BASE,
    OUTCOME_POOR_RISK,
    OUTCOME_PRESSURE_RATES,
    _check_in_draw,
    outcomes_simulate,
)
from .reset import _raw_delete, demo_reset
from .seed import Progress, SeedReport, demo_seed, generated_count, health_compute
from .stories import Story, _write_stories
from .story_data import STORIES, STORY_BLURBS, STORY_SPECS
from .vocabulary import (
    BULK_BATCH_SIZE,
    DEALS_PER_CHUNK,
    DEFAULT_SEED,
    DEMO_PREFIX,
    HISTORY_DAYS,
    PROBLEM_RATES,
    SMALL_DEMO_DEALS,
    STORY_PREFIX,
)
from .world import (
    CUSTOMER_SUCCESS,
    DEMO_PASSWORD,
    DEMO_USERS,
    HARBOR,
    NORTHWIND,
    ROSTER,
    World,
    world_ensure,
)

__all__ = [
    "BULK_BATCH_SIZE",
    "COHORT_DEALS",
    "CUSTOMER_SUCCESS",
    "DEALS_PER_CHUNK",
    "DEFAULT_SEED",
    "DEMO_PASSWORD",
    "DEMO_PREFIX",
    "DEMO_USERS",
    "HARBOR",
    "HISTORY_DAYS",
    "NORTHWIND",
    "OUTCOME_AFTER_CLOSE_CODES",
    "OUTCOME_AT_RISK_BASE",
    "OUTCOME_AT_RISK_RISK",
    "OUTCOME_LOST_FLAG_RATES",
    "OUTCOME_POOR_BASE",
    "OUTCOME_POOR_RISK",
    "OUTCOME_PRESSURE_RATES",
    "PROBLEM_RATES",
    "ROSTER",
    "SMALL_DEMO_DEALS",
    "STORIES",
    "STORY_BLURBS",
    "STORY_PREFIX",
    "STORY_SPECS",
    "DealDraft",
    "DealWriter",
    "Progress",
    "SeedReport",
    "Story",
    "World",
    "_Generated",
    "_Rows",
    "_balance",
    "_check_in_draw",
    "_copy_text",
    "_explicit_timestamps",
    "_generate_range",
    "_raw_delete",
    "_write_stories",
    "cohort_traits",
    "copy_tuples",
    "deal_history",
    "demo_reset",
    "demo_seed",
    "fast_insert",
    "forecast_history_simulate",
    "generated_count",
    "health_compute",
    "outcomes_simulate",
    "snapshots_write",
    "world_ensure",
]
