"""Recompute and sweep services: load facts for deals, run the rules, hand the results
to the writer (`writes.store`), one transaction per deal or per sweep batch."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import gc
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TypeVar

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet, Subquery
from django.utils import timezone

from deals.models import Deal, Flag, HealthPolicy, HealthSweep

from ..facts import load_batch
from ..policy import policies_by_team, policies_for_deal
from ..rules import evaluate
from ..scoring import Scores
from .writes import ACTIVE, changed_deal_ids, sort_flags, store

T = TypeVar("T")

# A sweep batch is one transaction holding row locks on its deals. A thousand deals keeps
# the `deal_id IN (...)` lists well under every driver's parameter limit, loads about
# twenty thousand child rows (a few MB) at once, and holds the locks for well under a
# second, so a rep's edit never waits long behind the sweep.
BATCH_SIZE = 1000

# A concurrent recompute may insert the same (deal, code) between our read and our
# insert; the unique constraint rejects ours, and a retry reads and updates theirs.
ATTEMPTS = 3


@dataclass
class HealthResult:
    deal_id: int
    buyer_score: int
    seller_score: int
    balance: str
    computed_at: dt.datetime
    breakdown: dict = field(default_factory=dict, repr=False)
    _flags: list[Flag] | None = field(default=None, repr=False)

    @property
    def flags(self) -> list[Flag]:
        """Active flags, most severe first; read on first use (the Celery task never asks)."""
        if self._flags is None:
            self._flags = sort_flags(
                list(Flag.objects.filter(deal_id=self.deal_id, status__in=ACTIVE))
            )
        return self._flags


def _retrying(work: Callable[[], T]) -> T | None:
    for attempt in range(ATTEMPTS):
        try:
            return work()
        except IntegrityError:
            if attempt == ATTEMPTS - 1:
                raise
    return None  # pragma: no cover


def health_recompute(*, deal_id: int, now: dt.datetime | None = None) -> HealthResult | None:
    """Recompute one deal's flags and scores now; None when the deal no longer exists."""
    now = now or timezone.now()

    def work() -> Scores | None:
        with transaction.atomic():
            # The row lock serialises recomputes of one deal (and the sweep skips it).
            batch = load_batch([deal_id], policies_for_deal(deal_id))
            if not batch.rows:
                return None
            results = {deal_id: evaluate(batch.facts[deal_id], now)}
            return store(batch, results, now)[deal_id]

    scores = _retrying(work)
    if scores is None:
        return None
    return HealthResult(
        deal_id=deal_id,
        buyer_score=scores.buyer_score,
        seller_score=scores.seller_score,
        balance=scores.balance,
        computed_at=now,
        breakdown=scores.breakdown,
    )


def sweep_queryset(*, team_id: int | None = None, all_deals: bool = False) -> QuerySet[Deal]:
    """Deals the sweep visits: open ones, and won ones whose handoff rules can still fire."""
    qs = Deal.objects.all()
    if not all_deals:
        qs = qs.filter(
            Q(stage__in=Deal.OPEN_STAGES) | Q(stage=Deal.Stage.CLOSED_WON, handoff__isnull=False)
        )
    if team_id is not None:
        qs = qs.filter(team_id=team_id)
    return qs


def health_sweep_plan(
    *, batch_size: int = BATCH_SIZE, team_id: int | None = None, all_deals: bool = False
) -> list[tuple[int, int]]:
    """The sweep cut into id ranges of about `batch_size` deals, so several workers (on
    several hosts) can share one sweep: each range is an independent health_sweep call."""
    ids = list(
        sweep_queryset(team_id=team_id, all_deals=all_deals)
        .order_by("id")
        .values_list("id", flat=True)
    )
    return [
        (chunk[0], chunk[-1])
        for chunk in (ids[i : i + batch_size] for i in range(0, len(ids), batch_size))
    ]


# A sweep batch allocates a few hundred thousand small objects (rows, facts) that all
# die together at its end; with the default threshold (700) the collector runs hundreds
# of times per batch to find no cycle, which was a quarter of the sweep's Python time.
SWEEP_GC_THRESHOLD = 50_000


@contextlib.contextmanager
def _fewer_collections() -> Iterator[None]:
    """Run the young generation's collection less often while the sweep runs."""
    thresholds = gc.get_threshold()
    gc.set_threshold(max(thresholds[0], SWEEP_GC_THRESHOLD), *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)


def health_sweep(
    *,
    batch_size: int = BATCH_SIZE,
    now: dt.datetime | None = None,
    team_id: int | None = None,
    all_deals: bool = False,
    id_range: tuple[int, int] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Recompute every deal the time-based rules may have changed; returns deals processed.

    Safe to run twice at once: each batch locks the deals it writes with SKIP LOCKED, so
    a second sweep (or a recompute holding a deal) makes this one skip those deals
    instead of waiting or double-writing. SQLite has no row locks; there its write lock
    serialises.

    The hourly sweep (every team, the sweep's deals) first reads a batch without locks
    and compares the rules' results with what is stored (writes.changed_deal_ids); only
    the deals that differ are then locked, re-read and stored, so a sweep over
    unchanged deals sends no write and takes no lock. A whole
    sweep records itself once (HealthSweep), a slice (`id_range`) leaves that to
    health_sweep_finished_task. A team's sweep (after a policy change) and an
    every-deal sweep stamp every deal and flag they visit, as a recompute does.
    """
    now = now or timezone.now()
    touch = team_id is not None or all_deals
    policies = policies_by_team()
    qs = sweep_queryset(team_id=team_id, all_deals=all_deals)
    if id_range is not None:
        qs = qs.filter(id__gte=id_range[0], id__lte=id_range[1])
    total = qs.count() if progress else 0
    with _fewer_collections():
        processed, visited, last_id = _sweep_batches(
            qs, policies, now, batch_size, touch, total, progress
        )
    if id_range is None and not touch and visited:
        health_sweep_record(checked_from=now, last_deal_id=last_id, deals=visited)
    return processed


def _sweep_batches(
    qs: QuerySet[Deal],
    policies: dict[int | None, HealthPolicy],
    now: dt.datetime,
    batch_size: int,
    touch: bool,
    total: int,
    progress: Callable[[int, int], None] | None,
) -> tuple[int, int, int]:
    """(deals processed, deals visited, the last id visited)."""
    processed = visited = 0
    last_id = 0
    while True:
        found = list(
            qs.filter(id__gt=last_id)
            .order_by("id")
            .values_list("id", "health_computed_at")[:batch_size]
        )
        if not found:
            break
        ids = [deal_id for deal_id, _ in found]
        last_id = ids[-1]
        # A batch mostly never computed (a first sweep, after a reset) would be read
        # twice by the first look for nothing: it goes straight to the locked pass.
        never = sum(computed_at is None for _, computed_at in found)
        look_first = not touch and 2 * never < len(ids)
        processed += (
            _retrying(
                functools.partial(
                    _sweep_batch, ids, policies, now, touch=touch, look_first=look_first
                )
            )
            or 0
        )
        visited += len(ids)
        if progress:
            progress(visited, total)
    return processed, visited, last_id


def _sweep_batch(
    ids: list[int],
    policies: dict[int | None, HealthPolicy],
    now: dt.datetime,
    *,
    touch: bool = False,
    look_first: bool | None = None,
) -> int:
    """Sweep one batch; `look_first` (default: unless `touch`) reads it without locks
    first and locks and stores only the deals whose health changed."""
    seen = 0
    if look_first if look_first is not None else not touch:
        # The hourly sweep looks first without locking: most deals' health is what is
        # stored, and those are done without a row lock (which is a write: WAL, dirty
        # pages, a commit waiting for the disk). Only the others are locked and stored.
        batch = load_batch(ids, policies, lock=False)
        results = {deal_id: evaluate(f, now) for deal_id, f in batch.facts.items()}
        changed = changed_deal_ids(batch, results, now)
        seen = len(batch.rows) - len(changed)
        if not changed:
            return seen
        ids = changed
    with transaction.atomic():
        batch = load_batch(ids, policies, skip_locked=True)
        if not batch.rows:
            return seen
        results = {deal_id: evaluate(f, now) for deal_id, f in batch.facts.items()}
        store(batch, results, now, touch=touch)
        return seen + len(batch.rows)


# Readers look at the newest sweep only; a few days of them are kept for the record.
SWEEPS_KEPT = 72


def health_sweep_record(*, checked_from: dt.datetime, last_deal_id: int, deals: int) -> HealthSweep:
    """Say that an hourly sweep checked every sweep deal with an id up to `last_deal_id`
    at or after `checked_from`: one row per sweep (older ones beyond SWEEPS_KEPT go)."""
    with transaction.atomic():
        sweep = HealthSweep.objects.create(
            checked_from=checked_from,
            finished_at=timezone.now(),
            last_deal_id=last_deal_id,
            deals=deals,
        )
        old = HealthSweep.objects.order_by("-id").values_list("id", flat=True)[SWEEPS_KEPT:]
        HealthSweep.objects.filter(id__lte=Subquery(old[:1])).delete()
    return sweep
