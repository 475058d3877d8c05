"""One row's cells → planned values: conversion, owners, lengths, the shared decisions."""

from __future__ import annotations

import re
from decimal import Decimal
from functools import lru_cache

from django.core.exceptions import FieldDoesNotExist

from deals.imports import parsing as p
from deals.imports.validation.plan import (
    NOTE_FIELDS,
    QUERY_CHUNK,
    ImportPlan,
    PlanContext,
    PlannedRow,
    SourceRow,
)
from deals.models import Contact, Deal, ImportJob, Prospect


def convert_row(row: SourceRow, columns, job: ImportJob, ctx: PlanContext) -> None:
    cells = row.cells
    for index, header, target in columns:
        raw = cells[index] if index < len(cells) else ""
        stripped = raw.strip()
        if not stripped or set(stripped) == {"-"}:
            continue  # empty; "-" is how many CRMs export an empty cell
        # Fast paths for the common cells (plain text, plain amounts): a 100,000-row file
        # converts a million cells, twice (dry run and commit).
        if target.type == "text" and target.name != "currency":
            if (
                stripped[0] not in _SLOW_TEXT_START
                and (target.max_length is None or len(stripped) <= target.max_length)
                and not (target.name in NOTE_FIELDS and "<" in stripped)
            ):
                row.values[target.name] = stripped
                continue
        elif (
            target.type == "money"
            and target.name not in ctx.divisors
            and _PLAIN_MONEY.fullmatch(stripped)
        ):
            row.values[target.name] = Decimal(stripped).quantize(_CENT)
            continue
        try:
            if target.type in MEMO_TYPES or target.name == "currency":
                key = (target.name, raw)
                found = ctx.memo.get(key)
                if found is None:
                    try:
                        found = ctx.memo[key] = (_convert_cell(target, raw, job, ctx), None)
                    except (p.CellError, _OwnerUnmatched) as exc:
                        found = ctx.memo[key] = (None, exc)
                if found[1] is not None:
                    raise found[1]
                row.values[target.name] = found[0]
            else:
                row.values[target.name] = _convert_cell(target, raw, job, ctx)
            if target.name == "amount" and ctx.currency_from_amount:
                code = _currency_in_amount(stripped, ctx)
                if code:
                    row.values["currency"] = code
        except p.CellError as exc:
            if target.type in LENIENT_TYPES:
                # A status or yes/no column we cannot read only loses its say: the stage
                # column still decides, and the dry run tells.
                row.warn(header, raw, f"{target.label} {exc}; the stage column decides.")
            else:
                row.problem(header, raw, f"{target.label} {exc}.")
        except _OwnerUnmatched:
            if ctx.default_owner_id:
                row.values["owner"] = ctx.default_owner_id
                row.values["owner_defaulted"] = True
                row.warn(
                    header,
                    raw,
                    "No rep of the team matches this owner; the default owner gets the deal.",
                )
            else:
                row.problem(
                    header,
                    raw,
                    f"Owner '{raw.strip()}' is not a rep of team "
                    f"{ctx.team}; choose a default owner for such rows.",
                )


class _OwnerUnmatched(Exception):
    pass


LENIENT_TYPES = frozenset({"status", "bool"})
MEMO_TYPES = {"stage", "owner", "choice", "date", "datetime", "status", "bool"}
# Text starting with these goes through parsing.clean_text (formula check, our escape).
_SLOW_TEXT_START = frozenset([*p.FORMULA_PREFIXES, p.ESCAPE_PREFIX])
_PLAIN_MONEY = re.compile(r"\d{1,12}(\.\d{1,2})?")
_CENT = Decimal("0.01")


def _convert_cell(target: p.Target, raw: str, job: ImportJob, ctx: PlanContext):
    kind = target.type
    if kind == "money":
        divisor = ctx.divisors.get(target.name)
        if divisor:
            return _minor_units(raw, divisor)
        return p.parse_money(raw, delimiter=job.delimiter)
    if kind == "date":
        return p.parse_date(raw, job.date_format)
    if kind == "datetime":
        return p.aware(p.parse_datetime(raw, job.date_format))
    text = p.clean_text(raw, max_length=target.max_length, kind=kind)
    if not text:
        return None
    if kind == "email":
        return p.parse_email(text)
    if kind == "url":
        return p.parse_url(text)
    if kind == "stage":
        return p.map_stage(text, job.stage_mapping or {}, ctx.stage_lookup)
    if kind == "choice":
        return p.parse_choice(target.name, text)
    if kind == "bool":
        return p.parse_bool(text)
    if kind == "status":
        return p.parse_status(text, ctx.status_words)
    if kind == "owner":
        owner_id = ctx.reps.get(text.lower())
        if owner_id is None:
            raise _OwnerUnmatched
        return owner_id
    if target.name == "currency":
        return p.parse_currency(text, default=ctx.default_currency, extra=ctx.currency_ids)
    if target.name in NOTE_FIELDS:
        return p.html_to_text(text)
    return text


# Where each planned value is stored, so the dry run checks every length the database
# enforces (a value built from several cells, like first + last name, included).
_COLUMN_MODELS = {"prospects": Prospect, "contacts": Contact, "deals": Deal}


@lru_cache(maxsize=64)
def _column_limit(model, name: str) -> tuple[int, str] | None:
    try:
        model_field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    limit = getattr(model_field, "max_length", None)
    if limit is None:
        return None
    return limit, str(getattr(model_field, "verbose_name", name)).capitalize()


def _check_lengths(plan: ImportPlan, row: SourceRow, model) -> None:
    for name, value in row.values.items():
        if not isinstance(value, str):
            continue
        found = _column_limit(model, name)
        if found is not None and len(value) > found[0]:
            limit, label = found
            row.problem(
                header_for(plan, name),
                value,
                f"{label} is {len(value)} characters long; at most {limit} fit.",
            )


_AMOUNT_CURRENCY = re.compile(
    r"^(?P<lead>[A-Z]{3}|[$€£¥₹])\s*[\d.,]|[\d.,]\s*(?P<tail>[A-Z]{3}|[$€£¥₹])$"
)


def _currency_in_amount(text: str, ctx: PlanContext) -> str | None:
    """The currency an amount cell carries ("USD 48,000.00" in a multi-currency
    Salesforce report, "€1.200,00") when the file has no currency column."""
    match = _AMOUNT_CURRENCY.search(text)
    if not match:
        return None
    token = match["lead"] or match["tail"]
    try:
        return p.parse_currency(token, default=ctx.default_currency, extra=ctx.currency_ids)
    except p.CellError:
        return None


def _minor_units(raw: str, divisor: int) -> Decimal:
    """An amount the CRM writes in cents or micros (Close's value, Twenty's amountMicros)."""
    text = raw.strip().replace(",", "").replace(" ", "")
    if not re.fullmatch(r"\d+(\.\d+)?", text):
        if text.startswith("-"):
            raise p.CellError("is negative; amounts must be zero or more")
        raise p.CellError("is not a number")
    amount = (Decimal(text) / divisor).quantize(_CENT)
    if amount > p.MAX_AMOUNT:
        raise p.CellError(
            f"is larger than the biggest amount a deal can hold ({p.MAX_AMOUNT:,}); "
            "check that the right column is mapped"
        )
    return amount


def finish_row(plan: ImportPlan, row: SourceRow, required: dict[str, str]) -> PlannedRow | None:
    """Report missing required values and values too long for their column; return an
    error PlannedRow when the row is unusable."""
    model = _COLUMN_MODELS.get(plan.kind)
    if model is not None:
        _check_lengths(plan, row, model)
    for name, label in required.items():
        if row.values.get(name) in (None, "") and not any(
            pr["reason"].startswith(label) for pr in row.problems
        ):
            row.problem(header_for(plan, name), "", f"{label} is empty; it is required.")
    if row.problems:
        plan.errors.extend(row.problems)
        return PlannedRow(row=row.number, action="error", reason=row.problems[0]["reason"])
    return None


def header_for(plan: ImportPlan, field_name: str) -> str:
    """The file's column for one of our fields; when no column is mapped to it, the
    field's label, said so (never an internal field name)."""
    found = next((h for h, f in plan.mapping.items() if f == field_name), None)
    if found is not None:
        return found
    target = p.targets_for(plan.kind).get(field_name)
    return f"{target.label if target else field_name} (no column)"


def changed_values(existing: dict, proposed: dict) -> dict:
    return {k: v for k, v in proposed.items() if v is not None and existing.get(k) != v}


def existing_outcome(changes: dict, update_existing: bool) -> tuple[str, str]:
    """A row matching an existing record: its action and how the report ends the sentence."""
    if not changes:
        return "skip", "; nothing to change."
    if update_existing:
        return "update", "; it will be updated."
    return "skip", "; existing records are not updated."


def mark_duplicate(plan, row_number, key, action, reason):
    plan.duplicates.append({"row": row_number, "key": key, "action": action, "reason": reason})


def in_chunks(items: list, size: int = QUERY_CHUNK):
    for start in range(0, len(items), size):
        yield items[start : start + size]
