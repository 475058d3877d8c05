"""Streamed CSV of the dashboard's filtered deals with scores and open flag codes.

The dashboard exports through deals.exports.stream_deals_csv (IMPORT/EXPORT); this is
its fallback, written while that module did not exist yet. Rows are read in keyset pages
of EXPORT_CHUNK deals, so 100,000 deals never sit in memory at once; each page costs two
queries (deals, their open flags).
"""

import csv
from collections import defaultdict
from collections.abc import Iterator

from django.db.models import QuerySet

from deals.models import Deal, Flag

# Big enough that 100,000 deals take 50 round trips, small enough that a page of rows and
# its flags stay a few megabytes.
EXPORT_CHUNK = 2000

HEADER = [
    "id",
    "title",
    "prospect",
    "team",
    "owner",
    "stage",
    "currency",
    "list_total",
    "net_total",
    "cost_total",
    "discount_pct",
    "margin_pct",
    "buyer_score",
    "seller_score",
    "balance",
    "open_flag_count",
    "open_flag_codes",
    "expected_close_date",
    "updated_at",
]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def escape_cell(value: str) -> str:
    """Neutralise spreadsheet formulas: a text cell starting with = + - @ gets a quote."""
    if value and value.startswith(_FORMULA_START):
        return "'" + value
    return value


class _Echo:
    def write(self, value):
        return value


def _owner_name(row) -> str:
    full = f"{row['owner__first_name']} {row['owner__last_name']}".strip()
    return full or row["owner__username"]


def stream_dashboard_deals_csv(queryset: QuerySet[Deal]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(HEADER)
    rows = queryset.order_by("id").values(
        "id",
        "title",
        "prospect__name",
        "team__name",
        "owner__username",
        "owner__first_name",
        "owner__last_name",
        "stage",
        "currency",
        "list_total",
        "net_total",
        "cost_total",
        "buyer_score",
        "seller_score",
        "balance",
        "open_flag_count",
        "expected_close_date",
        "updated_at",
    )
    last_id = 0
    while True:
        chunk = list(rows.filter(id__gt=last_id)[:EXPORT_CHUNK])
        if not chunk:
            return
        ids = [row["id"] for row in chunk]
        codes: dict[int, list[str]] = defaultdict(list)
        for deal_id, code in (
            Flag.objects.filter(deal_id__in=ids, status=Flag.Status.OPEN)
            .order_by("deal_id", "code")
            .values_list("deal_id", "code")
        ):
            codes[deal_id].append(code)
        for row in chunk:
            deal = Deal(
                list_total=row["list_total"],
                net_total=row["net_total"],
                cost_total=row["cost_total"],
            )
            yield writer.writerow(
                [
                    row["id"],
                    escape_cell(row["title"]),
                    escape_cell(row["prospect__name"]),
                    escape_cell(row["team__name"]),
                    escape_cell(_owner_name(row)),
                    row["stage"],
                    row["currency"],
                    row["list_total"],
                    row["net_total"],
                    row["cost_total"],
                    "" if deal.discount_pct is None else deal.discount_pct,
                    "" if deal.margin_pct is None else deal.margin_pct,
                    "" if row["buyer_score"] is None else row["buyer_score"],
                    "" if row["seller_score"] is None else row["seller_score"],
                    row["balance"],
                    row["open_flag_count"],
                    " ".join(codes.get(row["id"], ())),
                    row["expected_close_date"] or "",
                    row["updated_at"].isoformat(),
                ]
            )
        last_id = ids[-1]
