"""Persistence of health: upsert flags, resolve cleared ones, write scores and snapshots.

One code path serves a single recompute and a sweep batch: the rules' results for a batch
of deals are written in a handful of statements per batch.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import defaultdict

from django.db import connection, transaction
from django.db.models import Case, F, OuterRef, Q, Subquery, Value, When
from django.utils import timezone

from deals.models import Deal, Flag, HealthSnapshot
from winwin_crm.notifications.wiring import flags_opened_on_commit

from ..catalog import flag_sort_key
from ..facts import ActiveFlag, DealRow, LoadedBatch, fetch_rows, ids_param
from ..rules import PRESSURE_CODES, FlagResult
from ..scoring import Scores, score

ACTIVE = Flag.ACTIVE_STATUSES


def evidence_canonical(evidence: dict) -> str:
    """The text a flag's evidence digest is taken over."""
    return json.dumps(evidence, sort_keys=True, separators=(",", ":"), default=str)


def evidence_digest(evidence: dict) -> str:
    return hashlib.sha256(evidence_canonical(evidence).encode()).hexdigest()


def store(
    batch: LoadedBatch,
    results: dict[int, list[FlagResult]],
    now: dt.datetime,
    *,
    touch: bool = True,
) -> dict[int, Scores]:
    """Write flags, scores and snapshots for the batch; call inside its transaction.

    With `touch` (a recompute asked for one deal, a team's or an every-deal sweep) every
    deal gets `health_computed_at = now` and every still-raised flag `last_seen_at = now`.
    Without it (the hourly sweep) only what changed is written: a deal whose scores,
    balance and flag count are unchanged, and a flag whose evidence and wording are, keep
    their rows; the sweep's HealthSweep row says they were checked (deals.health.checked).
    """
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
    if not touch:
        seen_ids = []
    if seen_ids or resolved_ids:
        _touch_flags(seen_ids, resolved_ids, now)

    _write_scores(rows, results, scores, now, touch=touch)
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


def _stored_values(row: DealRow, s: Scores, results: list[FlagResult]) -> tuple[tuple, tuple]:
    """What a deal's health is stored as: (the deal's columns, its snapshot's content)."""
    flag_count = len(results)
    pressure = sum(r.code in PRESSURE_CODES for r in results)
    return (
        (s.buyer_score, s.seller_score, s.balance, flag_count),
        (
            s.buyer_score,
            s.seller_score,
            s.balance,
            flag_count,
            pressure,
            row.net_total,
            row.team_id,
            row.owner_id,
        ),
    )


def _write_scores(
    rows: list[DealRow],
    results: dict[int, list[FlagResult]],
    scores: dict[int, Scores],
    now: dt.datetime,
    *,
    touch: bool,
) -> None:
    # Health is derived data, not an edit by a person: written with UPDATE statements
    # that bypass save(), so Deal.version stays put and no history row is written.
    values = []
    snapshots = {}
    for row in rows:
        deal, snapshots[row.id] = _stored_values(row, scores[row.id], results[row.id])
        values.append((row.id, *deal))
    _update_deal_health(values, now, touch=touch)
    _upsert_snapshots(snapshots, timezone.localdate(now))


def _flags_unchanged(current: dict[str, ActiveFlag], results: list[FlagResult]) -> bool:
    """The rules raise exactly the active flags, with the same evidence and wording."""
    if len(current) != len(results):
        return False
    for result in results:  # a rule raises at most one flag: same count, same codes
        stored = current.get(result.code)
        if stored is None or (stored.message, stored.severity, stored.side) != (
            result.message,
            result.severity,
            result.side,
        ):
            return False
    # The digest last: encoding the evidence is the dear part.
    return all(current[r.code].evidence_digest == evidence_digest(r.evidence) for r in results)


def changed_deal_ids(
    batch: LoadedBatch, results: dict[int, list[FlagResult]], now: dt.datetime
) -> list[int]:
    """The deals of the batch for which `store(..., touch=False)` would write something:
    a flag to open, reopen, reword or resolve, new scores or flag count on the deal, a
    snapshot differing from the deal's latest one, or health never computed. Reads the
    stored health in one query and writes nothing, so the hourly sweep can skip the
    others without locking them."""
    stored = _load_stored_health([row.id for row in batch.rows], timezone.localdate(now))
    changed = []
    # Scores depend only on the flags' (code, side, severity) and the policy: a batch has
    # a few dozen distinct combinations, each scored once.
    scored: dict[tuple, Scores] = {}
    for row in batch.rows:
        deal_results = results[row.id]
        if not _flags_unchanged(batch.flags.get(row.id, {}), deal_results):
            changed.append(row.id)
            continue
        policy = batch.facts[row.id].policy
        key = (id(policy), *((r.code, r.side, r.severity) for r in deal_results))
        s = scored.get(key)
        if s is None:
            s = scored[key] = score(deal_results, policy)
        if stored.get(row.id) != _stored_values(row, s, deal_results):
            changed.append(row.id)
    return changed


def _load_stored_health(ids: list[int], today: dt.date) -> dict[int, tuple[tuple, tuple]]:
    """(deal columns, latest snapshot on or before `today`) per deal whose health was
    computed, in the shape of `_stored_values`."""
    if not ids:
        return {}
    deal_columns = ("buyer_score", "seller_score", "balance", "open_flag_count")
    width = len(deal_columns)
    if connection.vendor == "postgresql":
        # One probe of the (deal, day) unique index per deal for its latest snapshot.
        table = HealthSnapshot._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                SELECT d.id, {", ".join(f"d.{c}" for c in deal_columns)},
                       {", ".join(f"p.{c}" for c in SNAPSHOT_FIELDS)}
                  FROM {Deal._meta.db_table} d
                  LEFT JOIN LATERAL (
                       SELECT {", ".join(SNAPSHOT_FIELDS)} FROM {table} p
                        WHERE p.deal_id = d.id AND p.day <= %s
                        ORDER BY p.day DESC LIMIT 1
                  ) p ON true
                 WHERE d.id = ANY(%s) AND d.health_computed_at IS NOT NULL
                """,
                [today, list(ids)],
            )
            rows = cursor.fetchall()
    else:
        latest = {
            name: Subquery(
                HealthSnapshot.objects.filter(deal_id=OuterRef("id"), day__lte=today)
                .order_by("-day")
                .values(name)[:1]
            )
            for name in SNAPSHOT_FIELDS
        }
        rows = list(
            Deal.objects.filter(id__in=ids, health_computed_at__isnull=False)
            .annotate(**{f"snapshot_{name}": value for name, value in latest.items()})
            .values_list("id", *deal_columns, *(f"snapshot_{name}" for name in SNAPSHOT_FIELDS))
        )
    return {row[0]: (tuple(row[1 : 1 + width]), tuple(row[1 + width :])) for row in rows}


def _update_deal_health(values: list[tuple], now: dt.datetime, *, touch: bool) -> None:
    if connection.vendor == "postgresql":
        # Without `touch`, a deal whose health is what it was is not rewritten.
        unchanged = (
            ""
            if touch
            else """
                   AND (d.health_computed_at IS NULL
                        OR (d.buyer_score, d.seller_score, d.balance, d.open_flag_count)
                           IS DISTINCT FROM
                           (v.buyer_score, v.seller_score, v.balance, v.open_flag_count))
            """
        )
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
                 WHERE d.id = v.id {unchanged}
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
        deals = Deal.objects.filter(id__in=ids)
        if not touch:
            deals = deals.exclude(
                buyer_score=buyer,
                seller_score=seller,
                balance=balance,
                open_flag_count=flag_count,
                health_computed_at__isnull=False,
            )
        deals.update(
            buyer_score=buyer,
            seller_score=seller,
            balance=balance,
            open_flag_count=flag_count,
            health_computed_at=now,
        )


def _upsert_snapshots(snapshots: dict[int, tuple], today: dt.date) -> None:
    """History that grows with change, not days: a deal gets a snapshot for today only
    when its content differs from its latest snapshot (of any earlier day, or today's,
    which is then updated). The state of a deal on a day is its latest snapshot on or
    before it (deals.health.history)."""
    if connection.vendor == "postgresql":
        _upsert_snapshots_sql(snapshots, today)
        return
    latest: dict[int, tuple] = {}
    for row in fetch_rows(
        HealthSnapshot.objects.filter(deal_id__in=ids_param(list(snapshots)), day__lte=today)
        .order_by("deal_id", "day")
        .values_list("deal_id", *SNAPSHOT_FIELDS)
    ):
        latest[row[0]] = tuple(row[1:])  # ordered by day: the last one stays
    changed = [
        HealthSnapshot(
            deal_id=deal_id, day=today, **dict(zip(SNAPSHOT_FIELDS, values, strict=True))
        )
        for deal_id, values in snapshots.items()
        if latest.get(deal_id) != values
    ]
    if changed:
        HealthSnapshot.objects.bulk_create(
            changed,
            update_conflicts=True,
            unique_fields=["deal", "day"],
            update_fields=[name.removesuffix("_id") for name in SNAPSHOT_FIELDS],
        )


def _upsert_snapshots_sql(snapshots: dict[int, tuple], today: dt.date) -> None:
    # One INSERT ... SELECT: each deal's latest snapshot is one probe of the (deal, day)
    # unique index; only differing content is inserted, and today's row, if there is one
    # already, is updated only when it differs (no dead row for an unchanged snapshot).
    columns = ", ".join(SNAPSHOT_FIELDS)
    assign = ", ".join(f"{name} = EXCLUDED.{name}" for name in SNAPSHOT_FIELDS)
    table = HealthSnapshot._meta.db_table
    values = ", ".join(
        [
            "(%s::bigint, %s::date, %s::smallint, %s::smallint, %s::varchar, %s::smallint, "
            "%s::smallint, %s::numeric, %s::bigint, %s::bigint)"
        ]
        * len(snapshots)
    )
    params = [v for deal_id, row in snapshots.items() for v in (deal_id, today, *row)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {table} AS s (deal_id, day, {columns})
            SELECT v.* FROM (VALUES {values}) AS v (deal_id, day, {columns})
            LEFT JOIN LATERAL (
                SELECT {columns} FROM {table} p
                WHERE p.deal_id = v.deal_id AND p.day <= v.day
                ORDER BY p.day DESC LIMIT 1
            ) p ON true
            WHERE (p.{", p.".join(SNAPSHOT_FIELDS)})
                  IS DISTINCT FROM (v.{", v.".join(SNAPSHOT_FIELDS)})
            ON CONFLICT (deal_id, day) DO UPDATE SET {assign}
            WHERE (s.{", s.".join(SNAPSHOT_FIELDS)})
                  IS DISTINCT FROM (EXCLUDED.{", EXCLUDED.".join(SNAPSHOT_FIELDS)})
            """,
            params,
        )


def sort_flags(flags: list[Flag]) -> list[Flag]:
    return sorted(flags, key=flag_sort_key)
