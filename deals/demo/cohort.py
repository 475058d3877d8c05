"""The past customers: won, handed-off deals old enough for their 90-day check-in.

The small demo's 40 generated deals hold only a handful of deals checked at 90 days, too
few for the calibration page (deals/dashboard/outcomes.py says "too few deals to tell"
below SMALL_SAMPLE deals on either side). So every demo also gets COHORT_DEALS deals won
4 to 11 months ago in mona's team, drawn by the same generator with a few things pinned (deals/demo/
generator.Force): half of them were sold under pressure (a premature close attempt, a
simulated flag active at the close) and a third oversold (an item no need asked for, so
the health engine raises BUYER_OVERSELL). How each one then turned out is drawn by the
outcome simulation (deals/demo/outcomes.py): pressure and oversell make a poor outcome
more likely, not certain, so the page shows a computed difference, not a scripted one.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from deals.models import Deal

from .bulk import _Rows
from .draft import DealWriter
from .generator import Force, _draw_prospect, _Generated, _owner_for
from .vocabulary import DEMO_PREFIX
from .world import NORTHWIND, World

COHORT_DEALS = 30
COHORT_CLOSED_AGO = (120.0, 330.0)  # days: every 90-day check-in has come due
COHORT_PRESSURE_CODE = "PRESSURE_PREMATURE_CLOSE"


@dataclass(frozen=True)
class CohortTraits:
    pressure: bool
    oversell: bool


def cohort_external_id(seed: int, n: int) -> str:
    return f"{DEMO_PREFIX}{seed}:c{n:07d}"


def cohort_traits(n: int) -> CohortTraits:
    """How past customer n was sold: every other one under pressure, every third oversold."""
    return CohortTraits(pressure=n % 2 == 0, oversell=n % 3 == 0)


def cohort_number(external_id: str) -> int | None:
    """n of a past customer's external id, None for any other deal."""
    tail = external_id.rsplit(":", 1)[-1]
    return int(tail[1:]) if tail.startswith("c") and tail[1:].isdigit() else None


def cohort_written(seed: int) -> bool:
    return Deal.objects.filter(external_id__startswith=f"{DEMO_PREFIX}{seed}:c").exists()


def _write_cohort(world: World, *, seed: int) -> list[int]:
    """Write the past customers of `seed`; return their deal ids."""
    rows = _Rows()
    w = DealWriter(rows, world)
    drafts = []
    for n in range(COHORT_DEALS):
        traits = cohort_traits(n)
        # mona's team, so the demo manager's calibration page has them all.
        prospect, contacts = _draw_prospect(w, seed, n, kind="q", team_name=NORTHWIND)
        force = Force(
            closed_ago=COHORT_CLOSED_AGO,
            problems={"oversell": traits.oversell, "no_discovery": False},
        )
        drafts.append(
            _Generated(w, random.Random(f"{seed}:c{n}")).draw(
                i=2 * n,
                seed=seed,
                prospect=prospect,
                contacts=contacts,
                owner=_owner_for(world, prospect, seed, -1 - n),
                force=force,
                external_id=cohort_external_id(seed, n),
            )
        )
    rows.write()
    return [d.deal.pk for d in drafts]
