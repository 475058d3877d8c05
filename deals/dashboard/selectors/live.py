"""Today's deals per group from the sums and deltas of deals.dashboard.live_rollup.

`live_groups` answers "deals and money per <keys> in this scope" in one statement whose
branches are gated on whether the sums are built: sums + deltas (a few thousand rows
whatever the number of deals) when they are, the deals table itself when they are not (a
fresh database before its first build, after a truncate or during a bulk load). Either way
the figures are exact as of the statement. On SQLite, the deals table.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from decimal import Decimal
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Count, Model, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce

from deals.visibility import dashboard_team_scope_q

from .scope import PERIOD_DAYS, ZERO, DashboardFilters, _apply_deal_filters

Group = dict[str, Any]


def _sums(qs: QuerySet, keys: tuple[str, ...], *, count: bool) -> QuerySet:
    tally = Count("*") if count else Coalesce(Sum("deals"), Value(0))
    return (
        qs.order_by()
        .values(*keys)
        .annotate(n=tally, money=Coalesce(Sum("net_total"), Value(ZERO)))
        .order_by()
    )


def live_groups(
    *,
    user,
    filters: DashboardFilters,
    deals: QuerySet,
    table: type[Model],
    keys: tuple[str, ...],
    where: Q | None = None,
) -> list[Group]:
    """[{key: value…, "n": deals, "money": net total}] per group of `keys`, over `deals`
    (the scope's filtered deals, for the branch that reads them) — or, once built, over
    `table`'s sums plus the deltas, narrowed by the same scope, filters and `where` (which
    must name columns both the deals and the sums have). `user` None: every deal (the
    sweep's own summaries). Groups that sum to no deal are left out. One query."""
    where = where or Q()
    live = _sums(deals.filter(where), keys, count=True)
    if connection.vendor != "postgresql" or filters.period in PERIOD_DAYS:
        return _merged(live, keys)  # no trigger, or a creation date the sums lack

    from deals.models import DashboardDealDelta

    def narrowed(model: type[Model]) -> QuerySet:
        qs = model.objects.filter(where)  # type: ignore[attr-defined]
        if user is not None:
            qs = qs.filter(dashboard_team_scope_q(user))
        return _sums(_apply_deal_filters(qs, filters), keys, count=False)

    built_sql, built_params = _built_sql()
    columns = ", ".join(connection.ops.quote_name(k) for k in (*keys, "n", "money"))
    parts, params = [], []
    for qs, gate in ((narrowed(table), ""), (narrowed(DashboardDealDelta), ""), (live, "NOT ")):
        try:
            sql, qs_params = qs.query.sql_with_params()
        except EmptyResultSet:  # a scope of nothing (a rep, delivery): no rows
            continue
        parts.append(f"SELECT {columns} FROM ({sql}) AS g WHERE {gate}EXISTS ({built_sql})")
        params += [*qs_params, *built_params]
    if not parts:
        return []
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        rows = cursor.fetchall()
    named = (
        {**dict(zip(keys, row[:-2], strict=True)), "n": row[-2], "money": row[-1]} for row in rows
    )
    return _merged(named, keys)


# Compiled count statements by the caller's key (a scope and filters), so a list paged
# through compiles its count once; bounded, as keys come from query strings.
_COUNT_STATEMENTS: dict[Hashable, tuple[str, list] | None] = {}
_COUNT_STATEMENTS_MAX = 512
_UNCOMPILED: Any = object()


def live_deal_count(
    narrow: Callable[[QuerySet], QuerySet], *, key: Hashable | None = None
) -> int | None:
    """How many deals the sums and deltas hold in the rows `narrow` keeps (a scope and
    filters over team_id, owner_id, stage and balance), exact as of the statement; None
    when the sums are not built (or on SQLite), where only the deals table can tell. One
    query, a few thousand rows whatever the number of deals: the deal list's exact count
    of a long list (deals.api.views). `key`, when given, names what `narrow` keeps: the
    statement is compiled once per key."""
    if connection.vendor != "postgresql":
        return None
    cache_key = (connection.alias, key)
    # .get, not `in` then [...]: another thread may clear the dict in between
    statement = _COUNT_STATEMENTS.get(cache_key, _UNCOMPILED) if key is not None else _UNCOMPILED
    if statement is _UNCOMPILED:
        statement = _count_statement(narrow)
        if key is not None:
            if len(_COUNT_STATEMENTS) >= _COUNT_STATEMENTS_MAX:
                _COUNT_STATEMENTS.clear()
            _COUNT_STATEMENTS[cache_key] = statement
    if statement is None:  # a scope of nothing
        return None
    sql, params = statement
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        built, totals, deltas = cursor.fetchone()
    return int(totals + deltas) if built else None


def _count_statement(narrow: Callable[[QuerySet], QuerySet]) -> tuple[str, list] | None:
    from deals.models import DashboardDealDelta, DashboardDealTotals

    try:
        parts = [
            # id with the count: a filter that adds DISTINCT must not merge equal counts
            narrow(model.objects.all()).order_by().values("id", "deals").query.sql_with_params()
            for model in (DashboardDealTotals, DashboardDealDelta)
        ]
    except EmptyResultSet:
        return None
    built_sql, built_params = _built_sql()
    sql = f"SELECT EXISTS ({built_sql}), " + ", ".join(
        f"(SELECT COALESCE(SUM(g.deals), 0) FROM ({part}) AS g)" for part, _ in parts
    )
    return sql, [*built_params, *(p for _, params in parts for p in params)]


def _built_sql() -> tuple[str, tuple]:
    """The build marker's row (DashboardDealsBuilt), for `EXISTS (...)`: whether the sums
    hold every deal, so a statement's branches can be gated on it."""
    from deals.models import DashboardDealsBuilt

    return DashboardDealsBuilt.objects.values("id").query.sql_with_params()


def _merged(rows, keys: tuple[str, ...]) -> list[Group]:
    groups: dict[tuple, Group] = {}
    for row in rows:
        key = tuple(row[k] for k in keys)
        group = groups.setdefault(key, {**{k: row[k] for k in keys}, "n": 0, "money": ZERO})
        group["n"] += row["n"]
        group["money"] += row["money"] if row["money"] is not None else Decimal("0")
    return [g for g in groups.values() if g["n"]]
