"""Streamed CSV exports of deals (with pricing, scores and open flags), prospects and contacts.

Each export is one SQL query read through a server-side cursor in chunks, so 100,000 rows
never sit in memory. Cells a spreadsheet would run as formulas are escaped with a leading
single quote; the importer undoes that, so an exported file imports back unchanged.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from decimal import Decimal

from django.db.models import Aggregate, CharField, OuterRef, QuerySet, Subquery
from django.utils import timezone

from deals import pricing
from deals.imports.parsing import ESCAPE_PREFIX, FORMULA_PREFIXES
from deals.models import Contact, Deal, Flag, Prospect

# Rows fetched per round trip from the server-side cursor.
CHUNK_SIZE = 2000

DEAL_HEADER = [
    "ID",
    "External ID",
    "Title",
    "Organization",
    "Stage",
    "Owner",
    "Owner email",
    "Team",
    "Currency",
    "Expected close date",
    "Lost reason",
    "Notes for delivery",
    "List total",
    "Net total",
    "Cost total",
    "Discount %",
    "Margin %",
    "Buyer score",
    "Seller score",
    "Balance",
    "Open flags",
    "Created at",
    "Updated at",
]
PROSPECT_HEADER = [
    "ID",
    "External ID",
    "Name",
    "Team",
    "Industry",
    "Size",
    "Website",
    "Notes",
    "Created at",
]
CONTACT_HEADER = [
    "ID",
    "Name",
    "Organization",
    "Job title",
    "Email",
    "Phone",
    "Buying role",
    "Notes",
]


def escape_cell(value) -> str:
    """A cell as text, with a leading ' when a spreadsheet would read it as a formula."""
    if value is None:
        return ""
    text = str(value)
    if text[:1] in FORMULA_PREFIXES:
        return ESCAPE_PREFIX + text
    return text


class _Line:
    """csv.writer target that hands back the line instead of writing it."""

    def write(self, value: str) -> str:
        return value


def _lines(header: list[str], rows: Iterable[Iterable]) -> Iterator[str]:
    writer = csv.writer(_Line(), lineterminator="\r\n")
    yield writer.writerow(header)
    for row in rows:
        yield writer.writerow([escape_cell(v) for v in row])


class _CodeList(Aggregate):
    """Space-separated codes of a group: GROUP_CONCAT on SQLite, STRING_AGG on PostgreSQL."""

    function = "GROUP_CONCAT"
    template = "%(function)s(%(expressions)s, ' ')"
    output_field = CharField()

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, function="STRING_AGG", **extra_context)


def _pct(value: Decimal | None) -> str:
    return "" if value is None else str(pricing.percent(value))


def _iso(value) -> str:
    if value is None:
        return ""
    if hasattr(value, "tzinfo"):
        return timezone.localtime(value).isoformat(timespec="seconds")
    return value.isoformat()


def stream_deals_csv(queryset: QuerySet[Deal]) -> Iterator[str]:
    """CSV lines of the deals (header first), in one query with their open flag codes."""
    open_codes = (
        Flag.objects.filter(deal=OuterRef("pk"), status=Flag.Status.OPEN)
        .order_by()
        .values("deal")
        .annotate(codes=_CodeList("code"))
        .values("codes")
    )
    rows = (
        queryset.order_by("id")
        .annotate(open_flag_codes=Subquery(open_codes, output_field=CharField()))
        .values_list(
            "id",
            "external_id",
            "title",
            "prospect__name",
            "stage",
            "owner__username",
            "owner__email",
            "team__name",
            "currency",
            "expected_close_date",
            "lost_reason",
            "notes_for_delivery",
            "list_total",
            "net_total",
            "cost_total",
            "buyer_score",
            "seller_score",
            "balance",
            "open_flag_codes",
            "created_at",
            "updated_at",
        )
        .iterator(chunk_size=CHUNK_SIZE)
    )

    def shaped():
        for (
            pk,
            ext,
            title,
            prospect,
            stage,
            owner,
            owner_email,
            team,
            currency,
            close_date,
            lost_reason,
            notes,
            list_total,
            net_total,
            cost_total,
            buyer,
            seller,
            balance,
            codes,
            created,
            updated,
        ) in rows:
            discount = _pct(pricing.discount_pct(list_total, net_total))
            margin = _pct(pricing.margin_pct(net_total, cost_total))
            flags = " ".join(sorted((codes or "").split()))
            yield (
                pk,
                ext,
                title,
                prospect,
                stage,
                owner,
                owner_email,
                team,
                currency,
                _iso(close_date),
                lost_reason,
                notes,
                list_total,
                net_total,
                cost_total,
                discount,
                margin,
                buyer,
                seller,
                balance,
                flags,
                _iso(created),
                _iso(updated),
            )

    return _lines(DEAL_HEADER, shaped())


def stream_prospects_csv(queryset: QuerySet[Prospect]) -> Iterator[str]:
    rows = (
        queryset.order_by("id")
        .values_list(
            "id",
            "external_id",
            "name",
            "team__name",
            "industry",
            "size",
            "website",
            "notes",
            "created_at",
        )
        .iterator(chunk_size=CHUNK_SIZE)
    )
    return _lines(PROSPECT_HEADER, ((*r[:-1], _iso(r[-1])) for r in rows))


def stream_contacts_csv(queryset: QuerySet[Contact]) -> Iterator[str]:
    rows = (
        queryset.order_by("id")
        .values_list(
            "id", "name", "prospect__name", "title", "email", "phone", "buying_role", "notes"
        )
        .iterator(chunk_size=CHUNK_SIZE)
    )
    return _lines(CONTACT_HEADER, rows)
