"""The per-rep table: from the rep rollups the hourly sweep refreshes, or live."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import (
    Avg,
    Count,
    Min,
    Q,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from deals.dashboard.expressions import MoneyRatio, sla_missed_q
from deals.models import Deal
from deals.visibility import (
    dashboard_scope_q,
)
from deals.visibility import (
    dashboard_team_scope_q as _team_scope_q,
)
from winwin_crm.accounts.models import User

from .cache import _live_cached
from .scope import (
    PERIOD_DAYS,
    DashboardFilters,
    _apply_deal_filters,
    _open_flags,
    _pct,
    _pct_of_one_minus,
    _round,
    dashboard_deals,
    pressure_codes,
)


@dataclass
class RepRow:
    rep_id: int
    name: str
    open_deals: int = 0
    scored_deals: int = 0
    win_win_deals: int = 0
    win_win_share: float | None = None
    pressure_flags: dict[str, int] = field(default_factory=dict)
    pressure_flags_total: int = 0
    open_flags: int = 0
    avg_discount_pct: float | None = None
    avg_margin_pct: float | None = None
    handoff_sla_misses: int = 0
    customer_value_avg: float | None = None
    check_ins: int = 0


REP_SORT_KEYS = (
    "name",
    "open_deals",
    "win_win_share",
    "pressure_flags_total",
    "avg_discount_pct",
    "avg_margin_pct",
    "handoff_sla_misses",
    "customer_value_avg",
)


# --- Per-rep table -----------------------------------------------------------------------


class RepTable(list):
    """The rep rows, sorted. `as_of`: when the rollup they were read from was built; None
    when they were computed from the live tables for this request."""

    as_of: dt.datetime | None = None


def rep_table(*, user, filters: DashboardFilters, sort: str = "name") -> RepTable:
    data = _rep_rows(user=user, filters=filters)
    table = RepTable(sort_rep_rows(data["rows"], sort))
    table.as_of = data["as_of"]
    return table


# Live, the rep table joins flags, handoffs and check-ins to every deal of the scope (over
# 100 ms a request for a team of 50,000 deals; bench/RESULTS.md). So it reads the rollup
# the hourly sweep refreshes (deals.dashboard.services), summed per team, rep, stage and
# balance: any team, rep and stage filter is a sum of its rows. A creation-period filter
# needs the deals themselves, and a rollup older than this (the sweep has stopped) is not
# trusted: both are computed live.
REP_ROLLUP_MAX_AGE = dt.timedelta(hours=2)


@_live_cached("reps")
def _rep_rows(*, user, filters: DashboardFilters) -> dict:
    """{"rows": one RepRow per rep with deals (or handoff numbers) in the filtered scope,
    "as_of": the rollup's time or None}. Five queries from the rollup, six live.

    Deal columns follow every filter; the handoff columns (SLA misses, post-close customer
    value) are about the rep's closed-won deals, so they ignore the stage filter.
    """
    if filters.period not in PERIOD_DAYS:
        from_rollup = _rep_rows_from_rollup(user, filters)
        if from_rollup is not None:
            rows, as_of = from_rollup
            return {"rows": _named_rep_rows(rows), "as_of": as_of}
    return {"rows": _named_rep_rows(_rep_rows_live(user, filters)), "as_of": None}


def rep_rollup_as_of(user: User, filters: DashboardFilters) -> dt.datetime | None:
    """When the scope's teams were rolled up into DashboardRepDeals/RepFlags, if the rollup
    may answer: None before the first sweep, when older than REP_ROLLUP_MAX_AGE (the sweep
    has stopped) or for a creation-period filter (the rollup has no creation date). One
    query, except for a creation period (none)."""
    from deals.models import DashboardRepDeals

    if filters.period in PERIOD_DAYS:
        return None
    as_of = (
        DashboardRepDeals.objects.filter(_team_scope_q(user))
        .filter(**({"team_id": filters.team_id} if filters.team_id else {}))
        .aggregate(built_at=Min("built_at"))["built_at"]
    )
    if as_of is None or as_of < timezone.now() - REP_ROLLUP_MAX_AGE:
        return None
    return as_of


def _rep_rows_from_rollup(user, filters) -> tuple[dict[int, RepRow], dt.datetime] | None:
    from deals.models import DashboardRepDeals, DashboardRepFlags, DashboardRepHandoffs

    def narrowed(qs, *, stage: bool):
        # Rollup rows name the deal's team, owner and stage as the deal does, and no
        # creation period reaches here, so the deals' filters apply unchanged.
        qs = _apply_deal_filters(qs.filter(_team_scope_q(user)), filters, stage=stage)
        return qs.order_by().values("owner_id")

    # When the scope's teams were rolled up: none yet (before the first sweep) or too long
    # ago (the sweep has stopped) means the live tables answer.
    as_of = rep_rollup_as_of(user, filters)
    if as_of is None:
        return None
    deal_groups = list(
        narrowed(DashboardRepDeals.objects, stage=True).annotate(
            open_deals=Coalesce(Sum("deals", filter=Q(stage__in=Deal.OPEN_STAGES)), Value(0)),
            scored=Coalesce(Sum("deals", filter=~Q(balance="")), Value(0)),
            win_win=Coalesce(Sum("deals", filter=Q(balance=Deal.Balance.WIN_WIN)), Value(0)),
            priced=Sum("priced"),
            net_of_list=Sum("net_of_list"),
            with_net=Sum("with_net"),
            cost_of_net=Sum("cost_of_net"),
        )
    )
    rows = {
        g["owner_id"]: RepRow(
            rep_id=g["owner_id"],
            name="",
            open_deals=g["open_deals"],
            scored_deals=g["scored"],
            win_win_deals=g["win_win"],
            win_win_share=_pct(g["win_win"], g["scored"]),
            avg_discount_pct=_pct_of_one_minus(_mean(g["net_of_list"], g["priced"])),
            avg_margin_pct=_pct_of_one_minus(_mean(g["cost_of_net"], g["with_net"])),
        )
        for g in deal_groups
    }

    _add_flag_counts(
        rows,
        narrowed(DashboardRepFlags.objects, stage=True)
        .values("owner_id", "code")
        .annotate(n=Sum("flags")),
        owner_key="owner_id",
    )
    for g in narrowed(DashboardRepHandoffs.objects, stage=False).annotate(
        misses=Sum("sla_misses"), values=Sum("check_ins"), value_sum=Sum("customer_value_sum")
    ):
        row = _row_for(rows, g["owner_id"])
        row.handoff_sla_misses = g["misses"]
        row.check_ins = g["values"]
        row.customer_value_avg = _round(_mean(g["value_sum"], g["values"]))
    return rows, as_of


def _mean(total, count):
    return total / count if count else None


def _row_for(rows: dict[int, RepRow], owner_id: int) -> RepRow:
    if owner_id not in rows:
        rows[owner_id] = RepRow(rep_id=owner_id, name="")
    return rows[owner_id]


def _add_flag_counts(rows: dict[int, RepRow], groups, *, owner_key: str) -> None:
    """Open flags per rep and code (`n`) into the open-flags and pressure columns."""
    codes = set(pressure_codes())
    for g in groups:
        row = _row_for(rows, g[owner_key])
        row.open_flags += g["n"]
        if g["code"] in codes:
            row.pressure_flags[g["code"]] = g["n"]
            row.pressure_flags_total += g["n"]


def _rep_rows_live(user, filters) -> dict[int, RepRow]:
    from handoff.models import CheckIn, Handoff

    deals = dashboard_deals(user=user, filters=filters)
    rows: dict[int, RepRow] = {}
    for r in (
        deals.order_by()
        .values("owner_id")
        .annotate(
            open_deals=Count(Value(1), filter=Q(stage__in=Deal.OPEN_STAGES)),
            scored=Count(Value(1), filter=~Q(balance="")),
            win_win=Count(Value(1), filter=Q(balance=Deal.Balance.WIN_WIN)),
            # discount = 1 - net/list and margin = 1 - cost/net, averaged over the deals
            avg_net_of_list=Avg(MoneyRatio("net_total", "list_total"), filter=Q(list_total__gt=0)),
            avg_cost_of_net=Avg(MoneyRatio("cost_total", "net_total"), filter=Q(net_total__gt=0)),
        )
    ):
        rows[r["owner_id"]] = RepRow(
            rep_id=r["owner_id"],
            name="",
            open_deals=r["open_deals"],
            scored_deals=r["scored"],
            win_win_deals=r["win_win"],
            win_win_share=_pct(r["win_win"], r["scored"]),
            avg_discount_pct=_pct_of_one_minus(r["avg_net_of_list"]),
            avg_margin_pct=_pct_of_one_minus(r["avg_cost_of_net"]),
        )

    _add_flag_counts(rows, _flag_counts(user, filters), owner_key="deal__owner_id")

    sla_missed = sla_missed_q(timezone.now())
    handoffs = _apply_deal_filters(
        Handoff.objects.filter(dashboard_scope_q(user, "deal__")),
        filters,
        prefix="deal__",
        stage=False,
    )
    # Two plain GROUP BYs: joining check-ins to handoffs would need COUNT(DISTINCT) (a sort
    # of every joined row, measured slower than the two scans).
    for r in (
        handoffs.filter(sla_missed).order_by().values("deal__owner_id").annotate(misses=Count("*"))
    ):
        _row_for(rows, r["deal__owner_id"]).handoff_sla_misses = r["misses"]
    check_ins = _apply_deal_filters(
        CheckIn.objects.filter(
            dashboard_scope_q(user, "handoff__deal__"), customer_value__isnull=False
        ),
        filters,
        prefix="handoff__deal__",
        stage=False,
    )
    for r in (
        check_ins.order_by()
        .values("handoff__deal__owner_id")
        .annotate(value=Avg("customer_value"), n=Count("*"))
    ):
        row = _row_for(rows, r["handoff__deal__owner_id"])
        row.customer_value_avg = _round(r["value"])
        row.check_ins = r["n"]

    return rows


def _named_rep_rows(rows: dict[int, RepRow]) -> list[RepRow]:
    names = (
        {
            u.id: (u.get_full_name() or u.username)
            for u in User.objects.filter(id__in=list(rows)).only(
                "id", "username", "first_name", "last_name"
            )
        }
        if rows
        else {}
    )
    codes = pressure_codes()
    for row in rows.values():
        row.name = names.get(row.rep_id, f"#{row.rep_id}")
        for code in codes:
            row.pressure_flags.setdefault(code, 0)
    return list(rows.values())


def _flag_counts(user, filters):
    """Open flags per rep and code on the filtered deals (the pressure columns and the
    page's "review flags" count come from this one query)."""
    return (
        _open_flags(user, filters)
        .order_by()
        .values("deal__owner_id", "code")
        .annotate(n=Count("*"))
    )


def sort_rep_rows(rows: list[RepRow], sort: str) -> list[RepRow]:
    """Sort by a REP_SORT_KEYS column; "-" first means descending; empty values last."""
    descending = sort.startswith("-")
    key = sort.lstrip("-")
    if key not in REP_SORT_KEYS:
        key, descending = "name", False
    if key == "name":
        return sorted(rows, key=lambda r: r.name.lower(), reverse=descending)
    present = [r for r in rows if getattr(r, key) is not None]
    missing = [r for r in rows if getattr(r, key) is None]
    present.sort(key=lambda r: (getattr(r, key), r.name.lower()), reverse=descending)
    return present + sorted(missing, key=lambda r: r.name.lower())
