"""Persist health: upsert flags, resolve cleared ones, write scores and the daily snapshot.

One code path serves a single recompute and a sweep batch: facts for the deals are loaded
in a fixed number of queries, the rules run in memory, and the writes are grouped into a
handful of statements per batch.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Case, F, Q, QuerySet, Value, When
from django.utils import timezone

from deals import visibility
from deals.models import Deal, Flag, HealthPolicy, HealthSnapshot
from winwin_crm.accounts.models import User
from winwin_crm.notifications.wiring import flags_opened_on_commit

from .catalog import flag_sort_key
from .facts import DealRow, LoadedBatch, fetch_rows, ids_param, load_batch
from .policy import policies_by_team, policies_for_deal
from .rules import PRESSURE_CODES, FlagResult, evaluate
from .scoring import Scores, score

T = TypeVar("T")

# A sweep batch is one transaction holding row locks on its deals. A thousand deals keeps
# the `deal_id IN (...)` lists well under every driver's parameter limit, loads about
# twenty thousand child rows (a few MB) at once, and holds the locks for well under a
# second, so a rep's edit never waits long behind the sweep.
BATCH_SIZE = 1000

# A concurrent recompute may insert the same (deal, code) between our read and our
# insert; the unique constraint rejects ours, and a retry reads and updates theirs.
ATTEMPTS = 3

ACTIVE = Flag.ACTIVE_STATUSES


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


class FlagNotActive(Exception):
    """Only an open or acknowledged flag can be acknowledged."""


class FlagAcknowledgedMeanwhile(FlagNotActive):
    """Someone acknowledged the flag after the caller read it: their note is kept, and the
    caller is told (409) instead of silently overwriting it."""


def evidence_digest(evidence: dict) -> str:
    canonical = json.dumps(evidence, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _store(
    batch: LoadedBatch, results: dict[int, list[FlagResult]], now: dt.datetime
) -> dict[int, Scores]:
    """Write flags, scores and snapshots for the batch; call inside its transaction."""
    rows, facts = batch.rows, batch.facts
    to_create: list[Flag] = []
    changed: list[Flag] = []  # evidence changed: reopens an acknowledged flag
    reworded: list[Flag] = []  # same evidence, new message or severity
    seen_ids: list[int] = []
    resolved_ids: list[int] = []
    scores: dict[int, Scores] = {}

    for row in rows:
        current = dict(batch.flags.get(row.id, {}))
        for result in results[row.id]:
            digest = evidence_digest(result.evidence)
            stored = current.pop(result.code, None)
            if stored is None:
                to_create.append(
                    Flag(
                        deal_id=row.id,
                        code=result.code,
                        side=result.side,
                        severity=result.severity,
                        message=result.message,
                        evidence=result.evidence,
                        evidence_digest=digest,
                        status=Flag.Status.OPEN,
                        first_seen_at=now,
                        last_seen_at=now,
                    )
                )
            elif stored.evidence_digest != digest:
                changed.append(
                    Flag(
                        id=stored.id,
                        evidence=result.evidence,
                        evidence_digest=digest,
                        message=result.message,
                        severity=result.severity,
                        side=result.side,
                        status=Flag.Status.OPEN,
                        last_seen_at=now,
                    )
                )
            elif (stored.message, stored.severity, stored.side) != (
                result.message,
                result.severity,
                result.side,
            ):
                reworded.append(
                    Flag(
                        id=stored.id,
                        message=result.message,
                        severity=result.severity,
                        side=result.side,
                        last_seen_at=now,
                    )
                )
            else:
                seen_ids.append(stored.id)
        resolved_ids.extend(stored.id for stored in current.values())
        scores[row.id] = score(results[row.id], facts[row.id].policy)

    if to_create:
        with transaction.atomic():  # a savepoint, so a lost race can be retried cleanly
            Flag.objects.bulk_create(to_create)
            # The deal's owner hears of a new flag after the commit (dropped on rollback).
            flags_opened_on_commit([flag.pk for flag in to_create])
    if changed:
        Flag.objects.bulk_update(
            changed,
            [
                "evidence",
                "evidence_digest",
                "message",
                "severity",
                "side",
                "status",
                "last_seen_at",
            ],
        )
    if reworded:
        Flag.objects.bulk_update(reworded, ["message", "severity", "side", "last_seen_at"])
    if seen_ids or resolved_ids:
        _touch_flags(seen_ids, resolved_ids, now)

    _write_scores(rows, results, scores, now)
    return scores


def _touch_flags(seen_ids: list[int], resolved_ids: list[int], now: dt.datetime) -> None:
    """Still-raised flags get `last_seen_at`; cleared ones are resolved: one UPDATE."""
    resolved = Q(id__in=ids_param(resolved_ids)) if resolved_ids else Q(pk__in=[])
    Flag.objects.filter(id__in=ids_param(seen_ids + resolved_ids)).update(
        last_seen_at=now,
        status=Case(When(resolved, then=Value(Flag.Status.RESOLVED)), default=F("status")),
        resolved_at=Case(When(resolved, then=Value(now)), default=F("resolved_at")),
    )


SNAPSHOT_FIELDS = (
    "buyer_score",
    "seller_score",
    "balance",
    "open_flag_count",
    "pressure_flag_count",
    "net_total",
    "team_id",
    "owner_id",
)


def _write_scores(
    rows: list[DealRow],
    results: dict[int, list[FlagResult]],
    scores: dict[int, Scores],
    now: dt.datetime,
) -> None:
    # Health is derived data, not an edit by a person: written with UPDATE statements
    # that bypass save(), so Deal.version stays put and no history row is written.
    values = []
    snapshots = {}
    for row in rows:
        s = scores[row.id]
        flag_count = len(results[row.id])
        values.append((row.id, s.buyer_score, s.seller_score, s.balance, flag_count))
        pressure = sum(r.code in PRESSURE_CODES for r in results[row.id])
        snapshots[row.id] = (
            s.buyer_score,
            s.seller_score,
            s.balance,
            flag_count,
            pressure,
            row.net_total,
            row.team_id,
            row.owner_id,
        )
    _update_deal_health(values, now)
    _upsert_snapshots(snapshots, timezone.localdate(now))


def _update_deal_health(values: list[tuple], now: dt.datetime) -> None:
    if connection.vendor == "postgresql":
        # One UPDATE ... FROM (VALUES ...) for the whole batch.
        rows_sql = ", ".join(["(%s, %s, %s, %s, %s)"] * len(values))
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                UPDATE {Deal._meta.db_table} AS d
                   SET buyer_score = v.buyer_score, seller_score = v.seller_score,
                       balance = v.balance, open_flag_count = v.open_flag_count,
                       health_computed_at = %s
                  FROM (VALUES {rows_sql})
                       AS v(id, buyer_score, seller_score, balance, open_flag_count)
                 WHERE d.id = v.id
                """,
                [now, *(value for row in values for value in row)],
            )
        return
    # Elsewhere: deals sharing the same scores are updated together, typically a few
    # dozen distinct score tuples in a batch of a thousand.
    groups: dict[tuple, list[int]] = defaultdict(list)
    for deal_id, *health in values:
        groups[tuple(health)].append(deal_id)
    for (buyer, seller, balance, flag_count), ids in groups.items():
        Deal.objects.filter(id__in=ids).update(
            buyer_score=buyer,
            seller_score=seller,
            balance=balance,
            open_flag_count=flag_count,
            health_computed_at=now,
        )


def _upsert_snapshots(snapshots: dict[int, tuple], today: dt.date) -> None:
    """Today's snapshot per deal, written only where missing or changed (the hourly sweep
    mostly finds it right, and an unchanged row is not rewritten)."""
    if connection.vendor == "postgresql":
        _upsert_snapshots_sql(snapshots, today)
        return
    stored = {
        row[0]: tuple(row[1:])
        for row in fetch_rows(
            HealthSnapshot.objects.filter(
                deal_id__in=ids_param(list(snapshots)), day=today
            ).values_list("deal_id", *SNAPSHOT_FIELDS)
        )
    }
    changed = [
        HealthSnapshot(
            deal_id=deal_id, day=today, **dict(zip(SNAPSHOT_FIELDS, values, strict=True))
        )
        for deal_id, values in snapshots.items()
        if stored.get(deal_id) != values
    ]
    if changed:
        HealthSnapshot.objects.bulk_create(
            changed,
            update_conflicts=True,
            unique_fields=["deal", "day"],
            update_fields=[name.removesuffix("_id") for name in SNAPSHOT_FIELDS],
        )


def _upsert_snapshots_sql(snapshots: dict[int, tuple], today: dt.date) -> None:
    # One INSERT ... ON CONFLICT whose update is skipped when nothing differs: no read
    # first, and no dead row for an unchanged snapshot.
    columns = ", ".join(SNAPSHOT_FIELDS)
    assign = ", ".join(f"{name} = EXCLUDED.{name}" for name in SNAPSHOT_FIELDS)
    table = HealthSnapshot._meta.db_table
    values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"] * len(snapshots))
    params = [v for deal_id, row in snapshots.items() for v in (deal_id, today, *row)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {table} AS s (deal_id, day, {columns}) VALUES {values}
            ON CONFLICT (deal_id, day) DO UPDATE SET {assign}
            WHERE (s.{", s.".join(SNAPSHOT_FIELDS)})
                  IS DISTINCT FROM (EXCLUDED.{", EXCLUDED.".join(SNAPSHOT_FIELDS)})
            """,
            params,
        )


def _retrying(work: Callable[[], T]) -> T | None:
    for attempt in range(ATTEMPTS):
        try:
            return work()
        except IntegrityError:
            if attempt == ATTEMPTS - 1:
                raise
    return None  # pragma: no cover


def sort_flags(flags: list[Flag]) -> list[Flag]:
    return sorted(flags, key=flag_sort_key)


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
            return _store(batch, results, now)[deal_id]

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

    Safe to run twice at once: each batch locks its deals with SKIP LOCKED, so a second
    sweep (or a recompute holding a deal) makes this one skip those deals instead of
    waiting or double-writing. SQLite has no row locks; there its write lock serialises.
    """
    now = now or timezone.now()
    policies = policies_by_team()
    qs = sweep_queryset(team_id=team_id, all_deals=all_deals)
    if id_range is not None:
        qs = qs.filter(id__gte=id_range[0], id__lte=id_range[1])
    total = qs.count() if progress else 0
    processed = visited = 0
    last_id = 0
    while True:
        ids = list(
            qs.filter(id__gt=last_id).order_by("id").values_list("id", flat=True)[:batch_size]
        )
        if not ids:
            break
        last_id = ids[-1]
        processed += _retrying(functools.partial(_sweep_batch, ids, policies, now)) or 0
        visited += len(ids)
        if progress:
            progress(visited, total)
    return processed


def _sweep_batch(ids: list[int], policies: dict[int | None, HealthPolicy], now: dt.datetime) -> int:
    with transaction.atomic():
        batch = load_batch(ids, policies, skip_locked=True)
        if not batch.rows:
            return 0
        results = {deal_id: evaluate(f, now) for deal_id, f in batch.facts.items()}
        _store(batch, results, now)
        return len(batch.rows)


def health_tables_vacuum() -> bool:
    """VACUUM (ANALYZE) the tables a sweep rewrites, on PostgreSQL; False where it cannot
    run (another database, or inside a transaction, as in tests).

    Every sweep rewrites each swept deal's health row and flag, which clears the pages'
    all-visible bits; until a vacuum sets them again the dashboard's index-only scans
    fetch every row from the heap (3-5 times slower, measured). Autovacuum gets there
    within minutes where it is on; this makes it certain, and cheap, since a vacuum
    visits only the pages changed since the last one.
    """
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return False
    tables = ", ".join(
        connection.ops.quote_name(model._meta.db_table) for model in (Deal, Flag, HealthSnapshot)
    )
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM (ANALYZE) {tables}")
    return True


@transaction.atomic
def flag_acknowledge(*, flag: Flag, user: User, note: str) -> Flag:
    """A manager accepts a flag with a note; it stays acknowledged until its evidence changes."""
    if not visibility.user_can_acknowledge_flags(user, flag.deal):
        raise PermissionDenied("Only a manager of the deal's team can acknowledge its flags.")
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": ["Say why this flag is acceptable for this deal."]})
    seen_acknowledged_at = flag.acknowledged_at
    flag = Flag.objects.select_for_update().get(pk=flag.pk)
    if flag.status not in ACTIVE:
        raise FlagNotActive("This flag is resolved; there is nothing to acknowledge.")
    if flag.acknowledged_at != seen_acknowledged_at:
        by = flag.acknowledged_by.username if flag.acknowledged_by else "someone"
        raise FlagAcknowledgedMeanwhile(
            f"{by} acknowledged this flag meanwhile: “{flag.acknowledge_note}”. "
            "Reload to see it; acknowledge again to replace their note."
        )
    flag.status = Flag.Status.ACKNOWLEDGED
    flag.acknowledged_at = timezone.now()
    flag.acknowledged_by = user
    flag.acknowledge_note = note
    flag.full_clean()
    flag.save(update_fields=["status", "acknowledged_at", "acknowledged_by", "acknowledge_note"])
    return flag
