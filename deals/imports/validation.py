"""The dry run: every row of an import checked and planned (create / update / skip / error).

`plan_import` reads the file and the team's existing records (a handful of queries, not
one per row) and returns an `ImportPlan`. The dry-run report is the plan summarised; the
commit writes the same plan, so what the report promised is what happens.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.utils import timezone

from deals.models import Contact, Deal, ImportJob, LineItem, Prospect
from deals.services import CONTACT_FIELDS, PROSPECT_FIELDS
from winwin_crm.accounts.models import User
from winwin_crm.accounts.roles import REP

from . import parsing as p
from . import profiles

IMPORTED_ITEM_NAME = "Imported value"
# Rows of the dry run shown as they will be stored (page and command line).
PREVIEW_ROWS = 10
NOTE_FIELDS = frozenset({"notes", "notes_for_delivery"})
# The report is stored on the job and shown on a page: keep the first problems of each
# kind and count the rest, so a 100,000-row file with a bad column stays readable.
REPORT_LIST_LIMIT = 500
# IN (...) lists are sent in chunks: SQLite allows at most 32,766 parameters per query.
QUERY_CHUNK = 2000
CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
LOST_REASON_MISSING = "Imported as lost; the file gave no reason."


@dataclass
class PlannedRow:
    row: int
    action: str  # create | update | skip | error
    values: dict[str, Any] = field(default_factory=dict)
    existing_id: int | None = None
    changes: dict[str, Any] = field(default_factory=dict)
    prospect_key: str = ""  # lower-cased prospect name, for rows that reference one
    reason: str = ""


@dataclass
class ImportPlan:
    kind: str
    headers: list[str]
    mapping: dict[str, str]
    rows: list[PlannedRow] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)
    duplicates: list[dict] = field(default_factory=list)
    warnings: list[dict] = field(default_factory=list)
    # lower-cased name → (display name, existing id or None) for every prospect referenced.
    prospects: dict[str, tuple[str, int | None]] = field(default_factory=dict)
    contacts_to_create: list[dict] = field(default_factory=list)
    stage_values: dict[str, str] = field(default_factory=dict)
    # File-level notes (recognised CRM, encoding, report footer, joins, default currency).
    notes: list[str] = field(default_factory=list)
    preview: list[dict] = field(default_factory=list)

    def count(self, action: str) -> int:
        return sum(1 for r in self.rows if r.action == action)

    @property
    def error_rows(self) -> int:
        return self.count("error")

    @property
    def new_prospect_count(self) -> int:
        return sum(1 for _name, pk in self.prospects.values() if pk is None)

    def report(self) -> dict:
        def capped(items):
            return items[:REPORT_LIST_LIMIT], max(0, len(items) - REPORT_LIST_LIMIT)

        errors, errors_more = capped(self.errors)
        duplicates, duplicates_more = capped(self.duplicates)
        warnings, warnings_more = capped(self.warnings)
        total = len(self.rows)
        return {
            "kind": self.kind,
            "total": total,
            "valid": total - self.error_rows,
            "error_rows": self.error_rows,
            "actions": {a: self.count(a) for a in ("create", "update", "skip")},
            "prospects_to_create": self.new_prospect_count if self.kind != "prospects" else 0,
            "contacts_to_create": len(self.contacts_to_create),
            "errors": errors,
            "errors_more": errors_more,
            "duplicates": duplicates,
            "duplicates_more": duplicates_more,
            "warnings": warnings,
            "warnings_more": warnings_more,
            "notes": self.notes,
            "preview": self.preview,
        }


class _Row:
    """Collects one row's converted values and its problems."""

    __slots__ = ("number", "cells", "values", "problems", "warnings")

    def __init__(self, number: int, cells: list[str]):
        self.number = number
        self.cells = cells
        self.values: dict[str, Any] = {}
        self.problems: list[dict] = []
        self.warnings: list[dict] = []

    def problem(self, column: str, value: str, reason: str):
        self.problems.append(
            {"row": self.number, "column": column, "value": value[:200], "reason": reason}
        )

    def warn(self, column: str, value: str, message: str):
        self.warnings.append(
            {"row": self.number, "column": column, "value": value[:200], "message": message}
        )


class _Context:
    """Everything a row needs that comes from the database, loaded once per plan."""

    def __init__(self, job: ImportJob):
        self.job = job
        self.team = job.team
        self.reps = self._reps()
        self.default_owner_id = job.default_owner_id
        self.profile = profiles.get(job.source)
        self.stage_lookup = p.stage_lookup(
            job.stage_mapping, self.profile.stage_table() if self.profile else None
        )
        self.status_words = self.profile.status_words() if self.profile else {}
        self.currency_ids = self.profile.currency_ids() if self.profile else {}
        self.default_currency = self.team.default_currency or "USD"
        # field → divisor for money columns the CRM writes in minor units (set per plan).
        self.divisors: dict[str, int] = {}
        # No currency column: an amount written "USD 1,200" still names its currency.
        self.currency_from_amount = False
        # Stages, owners, dates and codes repeat down a column: convert each value once.
        self.memo: dict[tuple[str, str], Any] = {}

    def _reps(self) -> dict[str, int]:
        reps = User.objects.filter(teams=self.team, groups__name=REP, is_active=True).distinct()
        lookup: dict[str, int] = {}
        self._usernames: dict[int, str] = {}
        for user in reps.only("id", "username", "email", "first_name", "last_name"):
            self._usernames[user.id] = user.username
            # Owners come as a username, an email, "First Last" or "Last, First"
            # (Salesforce reports in some locales).
            reversed_name = f"{user.last_name}, {user.first_name}" if user.last_name else ""
            for key in (user.username, user.email, user.get_full_name(), reversed_name):
                if key:
                    lookup.setdefault(key.strip().lower(), user.id)
        return lookup

    def usernames(self) -> dict[int, str]:
        if self.default_owner_id and self.default_owner_id not in self._usernames:
            owner = User.objects.filter(id=self.default_owner_id).values_list("username", flat=True)
            self._usernames[self.default_owner_id] = next(iter(owner), "")
        return self._usernames


def plan_import(*, job: ImportJob, progress: Callable[[int], None] | None = None) -> ImportPlan:
    """Check every row of the job's file against its mapping and the team's data."""
    headers = p.read_header(job.content, job.delimiter)
    profile = profiles.get(job.source)
    optional = (
        frozenset({"title"})
        if profile is not None and profile.title_from_organization
        else frozenset()
    )
    mapping = p.check_mapping(job.kind, headers, job.column_mapping or {}, optional)
    plan = ImportPlan(kind=job.kind, headers=headers, mapping=mapping)
    targets = p.targets_for(job.kind)
    columns = [(i, h, targets[mapping[h]]) for i, h in enumerate(headers) if mapping.get(h)]
    ctx = _Context(job)
    if ctx.profile is not None:
        minor = ctx.profile.minor_unit_divisors()
        ctx.divisors = {
            field_name: minor[p.normalise_label(h)]
            for h, field_name in mapping.items()
            if field_name and p.normalise_label(h) in minor
        }
    ctx.currency_from_amount = job.kind == "deals" and "currency" not in mapping.values()
    _file_notes(plan, job, ctx)
    rows: list[_Row] = []
    for number, cells in p.iter_records(job.content, job.delimiter):
        row = _Row(number, cells)
        _convert(row, columns, job, ctx)
        rows.append(row)
        if progress and len(rows) % 5000 == 0:
            progress(len(rows))
    planner = {"prospects": _plan_prospects, "contacts": _plan_contacts, "deals": _plan_deals}
    planner[job.kind](plan, rows, ctx)
    for row in rows:
        plan.warnings.extend(row.warnings)
    plan.preview = build_preview(plan, ctx)
    return plan


def _file_notes(plan: ImportPlan, job: ImportJob, ctx: _Context) -> None:
    """What the dry run says about the file as a whole, before any row."""
    plan.notes.append(profiles.Detection(ctx.profile).sentence(job.kind))
    info = job.files or {}
    if info.get("encoding") in p.ENCODING_NOTE:
        plan.notes.append(p.ENCODING_NOTE[info["encoding"]])
    frame = info.get("frame") or {}
    if frame.get("top"):
        plan.notes.append(f"{frame['top']} title line(s) above the header were left out.")
    if frame.get("bottom"):
        plan.notes.append(
            f"{frame['bottom']} report footer or total line(s) below the table were left out."
        )
    for join in info.get("joins", []):
        plan.notes.append(
            f"Column '{join['column']}' joined with {join['file']}: {join['matched']} of "
            f"{join['rows']} row(s) found their {join['what']}"
            + (f", {join['unmatched']} did not." if join["unmatched"] else ".")
        )
    for name in info.get("ignored", []):
        plan.notes.append(f"{name} was not used: it is not a CSV file this import can join.")
    for divisor_field, divisor in ctx.divisors.items():
        unit = (
            "cents" if divisor == 100 else "millionths" if divisor == 1_000_000 else f"1/{divisor}"
        )
        plan.notes.append(
            f"{_header_for(plan, divisor_field)} holds amounts in {unit}; they are divided by "
            f"{divisor:,}."
        )
    if job.kind == "deals" and "currency" not in plan.mapping.values():
        plan.notes.append(
            f"The file has no currency column: new deals take the currency their amount "
            f"names (USD 1,200, €900), else team {ctx.team}'s currency, "
            f"{ctx.default_currency} (a setting of the team)."
        )
    for entry in info.get("files", []):
        if not entry.get("used"):
            plan.notes.append(
                f"{entry['name']} was read but not needed: the {job.kind} file names what "
                "it would have joined."
            )


def _convert(row: _Row, columns, job: ImportJob, ctx: _Context) -> None:
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


def _convert_cell(target: p.Target, raw: str, job: ImportJob, ctx: _Context):
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


def _check_lengths(plan: ImportPlan, row: _Row, model) -> None:
    for name, value in row.values.items():
        if not isinstance(value, str):
            continue
        found = _column_limit(model, name)
        if found is not None and len(value) > found[0]:
            limit, label = found
            row.problem(
                _header_for(plan, name),
                value,
                f"{label} is {len(value)} characters long; at most {limit} fit.",
            )


_AMOUNT_CURRENCY = re.compile(
    r"^(?P<lead>[A-Z]{3}|[$€£¥₹])\s*[\d.,]|[\d.,]\s*(?P<tail>[A-Z]{3}|[$€£¥₹])$"
)


def _currency_in_amount(text: str, ctx: _Context) -> str | None:
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


def _finish_row(plan: ImportPlan, row: _Row, required: dict[str, str]) -> PlannedRow | None:
    """Report missing required values and values too long for their column; return an
    error PlannedRow when the row is unusable."""
    model = _COLUMN_MODELS.get(plan.kind)
    if model is not None:
        _check_lengths(plan, row, model)
    for name, label in required.items():
        if row.values.get(name) in (None, "") and not any(
            pr["reason"].startswith(label) for pr in row.problems
        ):
            row.problem(_header_for(plan, name), "", f"{label} is empty; it is required.")
    if row.problems:
        plan.errors.extend(row.problems)
        return PlannedRow(row=row.number, action="error", reason=row.problems[0]["reason"])
    return None


def _header_for(plan: ImportPlan, field_name: str) -> str:
    """The file's column for one of our fields; when no column is mapped to it, the
    field's label, said so (never an internal field name)."""
    found = next((h for h, f in plan.mapping.items() if f == field_name), None)
    if found is not None:
        return found
    target = p.targets_for(plan.kind).get(field_name)
    return f"{target.label if target else field_name} (no column)"


def _changes(existing: dict, proposed: dict) -> dict:
    return {k: v for k, v in proposed.items() if v is not None and existing.get(k) != v}


def _existing_outcome(changes: dict, update_existing: bool) -> tuple[str, str]:
    """A row matching an existing record: its action and how the report ends the sentence."""
    if not changes:
        return "skip", "; nothing to change."
    if update_existing:
        return "update", "; it will be updated."
    return "skip", "; existing records are not updated."


def _duplicate(plan, row_number, key, action, reason):
    plan.duplicates.append({"row": row_number, "key": key, "action": action, "reason": reason})


def _chunks(items: list, size: int = QUERY_CHUNK):
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --- Prospects -------------------------------------------------------------------------


def _existing_prospects(team, fields=("id", "name", "external_id")) -> list[dict]:
    return list(Prospect.objects.filter(team=team).values(*fields))


def _by_lower_name(prospects: list[dict]) -> dict[str, dict]:
    """Lower-cased name → the first prospect of that name."""
    by_name: dict[str, dict] = {}
    for pr in prospects:
        by_name.setdefault(pr["name"].lower(), pr)
    return by_name


def _plan_prospects(plan: ImportPlan, rows: list[_Row], ctx: _Context) -> None:
    existing = _existing_prospects(ctx.team, ("id", *PROSPECT_FIELDS))
    by_name = _by_lower_name(existing)
    by_ext = {pr["external_id"]: pr for pr in existing if pr["external_id"]}
    seen: dict[tuple, int] = {}
    for row in rows:
        error = _finish_row(plan, row, {"name": "Name"})
        if error:
            plan.rows.append(error)
            continue
        values = row.values
        name = values["name"]
        keys = [("name", name.lower())]
        if values.get("external_id"):
            keys.insert(0, ("ext", values["external_id"]))
        earlier = next((seen[k] for k in keys if k in seen), None)
        if earlier:
            _duplicate(plan, row.number, name, "skip", f"Same prospect as row {earlier}.")
            plan.rows.append(PlannedRow(row.number, "skip", reason=f"duplicate of row {earlier}"))
            continue
        for k in keys:
            seen[k] = row.number
        match = by_ext.get(values.get("external_id")) or by_name.get(name.lower())
        if match is None:
            plan.rows.append(PlannedRow(row.number, "create", values=values))
            continue
        proposed = {f: values.get(f) for f in PROSPECT_FIELDS}
        if match["name"].lower() == name.lower():
            proposed["name"] = None  # matched by name: keep how the team spells it
        changes = _changes(match, proposed)
        action, outcome = _existing_outcome(changes, ctx.job.update_existing)
        _duplicate(
            plan,
            row.number,
            name,
            action,
            f"A prospect named '{match['name']}' already exists in the team{outcome}",
        )
        plan.rows.append(
            PlannedRow(
                row.number,
                action,
                values=values,
                existing_id=match["id"],
                changes=changes if action == "update" else {},
            )
        )


def _resolve_prospect(plan: ImportPlan, by_name: dict[str, dict], name: str) -> str:
    key = name.lower()
    if key not in plan.prospects:
        match = by_name.get(key)
        plan.prospects[key] = (match["name"] if match else name, match["id"] if match else None)
    return key


# --- Contacts --------------------------------------------------------------------------


def _existing_contacts(team) -> tuple[dict, dict]:
    by_email: dict[str, dict] = {}
    by_name: dict[tuple[int, str], dict] = {}
    qs = Contact.objects.filter(prospect__team=team).values("id", "prospect_id", *CONTACT_FIELDS)
    for contact in qs:
        if contact["email"]:
            by_email.setdefault(contact["email"].lower(), contact)
        by_name.setdefault((contact["prospect_id"], contact["name"].lower()), contact)
    return by_email, by_name


def _plan_contacts(plan: ImportPlan, rows: list[_Row], ctx: _Context) -> None:
    prospects_by_name = _by_lower_name(_existing_prospects(ctx.team))
    by_email, by_name = _existing_contacts(ctx.team)
    seen: dict[tuple, int] = {}
    for row in rows:
        values = row.values
        if not values.get("name"):
            joined = " ".join(v for v in (values.get("first_name"), values.get("last_name")) if v)
            if joined:
                values["name"] = joined
        values.pop("first_name", None)
        values.pop("last_name", None)
        error = _finish_row(plan, row, {"name": "Name", "prospect": "Organization"})
        if error:
            plan.rows.append(error)
            continue
        prospect_key = _resolve_prospect(plan, prospects_by_name, values["prospect"])
        email = values.get("email") or ""
        keys: list[tuple[str, ...]] = (
            [("email", email)] if email else [("name", prospect_key, values["name"].lower())]
        )
        earlier = next((seen[k] for k in keys if k in seen), None)
        label = email or values["name"]
        if earlier:
            _duplicate(plan, row.number, label, "skip", f"Same contact as row {earlier}.")
            plan.rows.append(PlannedRow(row.number, "skip", reason=f"duplicate of row {earlier}"))
            continue
        for k in keys:
            seen[k] = row.number
        prospect_id = plan.prospects[prospect_key][1]
        match = by_email.get(email) if email else None
        if match is None and prospect_id is not None:
            match = by_name.get((prospect_id, values["name"].lower()))
        if match is None:
            plan.rows.append(
                PlannedRow(row.number, "create", values=values, prospect_key=prospect_key)
            )
            continue
        changes = _changes(match, {f: values.get(f) for f in CONTACT_FIELDS})
        action, outcome = _existing_outcome(changes, ctx.job.update_existing)
        what = f"a contact with the email {email}" if email else f"a contact named {label}"
        _duplicate(plan, row.number, label, action, f"The team already has {what}{outcome}")
        plan.rows.append(
            PlannedRow(
                row.number,
                action,
                values=values,
                existing_id=match["id"],
                changes=changes if action == "update" else {},
                prospect_key=prospect_key,
            )
        )


# --- Deals -----------------------------------------------------------------------------

DEAL_FIELDS = (
    "title",
    "stage",
    "owner_id",
    "currency",
    "expected_close_date",
    "lost_reason",
    "notes_for_delivery",
    "external_id",
)
PRICING_FIELDS = ("list_total", "net_total", "cost_total")


def _existing_deals(team, prospect_ids: list[int], external_ids: list[str]) -> list[dict]:
    fields = ("id", "prospect_id", "version", *DEAL_FIELDS, *PRICING_FIELDS)
    found: dict[int, dict] = {}
    for chunk in _chunks(prospect_ids):
        for d in Deal.objects.filter(team=team, prospect_id__in=chunk).values(*fields):
            found[d["id"]] = d
    for chunk in _chunks(external_ids):
        for d in Deal.objects.filter(team=team, external_id__in=chunk).values(*fields):
            found[d["id"]] = d
    return list(found.values())


def _pricing(values: dict) -> dict | None:
    """list/net/cost for the one 'Imported value' item, or None when the row has no money."""
    amount = values.get("amount")
    list_total = values.get("list_total", amount)
    net_total = values.get("net_total", amount if amount is not None else list_total)
    if list_total is None and net_total is None:
        return None
    list_total = list_total if list_total is not None else net_total
    return {
        "list_total": list_total,
        "net_total": net_total,
        "cost_total": values.get("cost_total") or Decimal("0.00"),
    }


def _plan_deals(plan: ImportPlan, rows: list[_Row], ctx: _Context) -> None:
    prospects_by_name = _by_lower_name(_existing_prospects(ctx.team))
    contacts_by_email, contacts_by_name = _existing_contacts(ctx.team)
    wanted_prospects = set()
    wanted_ext = set()
    for row in rows:
        if row.values.get("prospect"):
            match = prospects_by_name.get(row.values["prospect"].lower())
            if match:
                wanted_prospects.add(match["id"])
        if row.values.get("external_id"):
            wanted_ext.add(row.values["external_id"])
    existing = _existing_deals(ctx.team, sorted(wanted_prospects), sorted(wanted_ext))
    by_ext = {d["external_id"]: d for d in existing if d["external_id"]}
    by_natural: dict[tuple[str, int], dict[str, Any]] = {}
    for d in existing:
        by_natural.setdefault((d["title"].lower(), d["prospect_id"]), d)

    seen: dict[tuple, int] = {}
    contact_keys: set[tuple] = set()
    updates: list[tuple[PlannedRow, dict, dict]] = []
    for row in rows:
        values = row.values
        if (
            not values.get("title")
            and values.get("prospect")
            and ctx.profile
            and ctx.profile.title_from_organization
        ):
            # Frappe CRM and Close deals have no title: they are known by their organisation.
            ext = values.get("external_id")
            values["title"] = f"{values['prospect']} ({ext})" if ext else values["prospect"]
        if _decide_status(plan, row) == "deleted":
            plan.rows.append(
                PlannedRow(row.number, "skip", reason="deleted in the CRM it comes from")
            )
            _duplicate(
                plan,
                row.number,
                values.get("title", ""),
                "skip",
                "The old CRM marks this deal deleted; it is not imported.",
            )
            continue
        if "owner" not in values and not any(
            pr["column"] == _header_for(plan, "owner") for pr in row.problems
        ):
            if ctx.default_owner_id:
                values["owner"] = ctx.default_owner_id
                values["owner_defaulted"] = True
            else:
                row.problem(
                    _header_for(plan, "owner"),
                    "",
                    "The row names no owner; choose a default owner rep.",
                )
        error = _finish_row(plan, row, {"title": "Deal name", "prospect": "Organization"})
        if error:
            plan.rows.append(error)
            continue
        prospect_key = _resolve_prospect(plan, prospects_by_name, values["prospect"])
        prospect_id = plan.prospects[prospect_key][1]
        title = values["title"]
        ext = values.get("external_id") or ""
        keys: list[tuple[str, ...]] = [("title", title.lower(), prospect_key)]
        if ext:
            keys.insert(0, ("ext", ext))
        earlier = next((seen[k] for k in keys if k in seen), None)
        if earlier:
            _duplicate(plan, row.number, title, "skip", f"Same deal as row {earlier}.")
            plan.rows.append(PlannedRow(row.number, "skip", reason=f"duplicate of row {earlier}"))
            continue
        for k in keys:
            seen[k] = row.number
        _plan_deal_contact(
            plan, row, prospect_key, prospect_id, contacts_by_email, contacts_by_name, contact_keys
        )
        proposed = {
            "title": title,
            "stage": values.get("stage"),
            # An existing deal changes owner only when the file names a rep of the team.
            "owner_id": values.get("owner"),
            "currency": values.get("currency"),
            "expected_close_date": values.get("expected_close_date"),
            "lost_reason": values.get("lost_reason"),
            "notes_for_delivery": values.get("notes_for_delivery"),
            "external_id": ext or None,
        }
        pricing = _pricing(values)
        closed_at = values.get("closed_at")
        match = by_ext.get(ext) if ext else None
        if match is None and prospect_id is not None:
            match = by_natural.get((title.lower(), prospect_id))
        if match is None:
            proposed["stage"] = proposed["stage"] or Deal.Stage.DISCOVERY
            if proposed["stage"] == Deal.Stage.CLOSED_LOST and not proposed["lost_reason"]:
                proposed["lost_reason"] = (
                    f"Imported as {values['status_word']}; the file gave no reason."
                    if values.get("status_word") not in (None, "lost")
                    else LOST_REASON_MISSING
                )
            proposed["currency"] = proposed["currency"] or ctx.default_currency
            if proposed["stage"] not in Deal.CLOSED_STAGES:
                closed_at = None
            plan.rows.append(
                PlannedRow(
                    row.number,
                    "create",
                    values={
                        **proposed,
                        "pricing": pricing,
                        "closed_at": closed_at,
                        "imported_from": ctx.profile.code if ctx.profile else "csv",
                    },
                    prospect_key=prospect_key,
                )
            )
            continue
        if values.get("owner_defaulted"):
            proposed["owner_id"] = None
        planned = PlannedRow(
            row.number,
            "update",
            existing_id=match["id"],
            prospect_key=prospect_key,
            values={**proposed, "title": title, "pricing": pricing},
        )
        if match["external_id"] and ext and match["external_id"] != ext:
            proposed["external_id"] = None
        changes = _changes(match, proposed)
        if "stage" in changes and (
            match["stage"] in Deal.CLOSED_STAGES or changes["stage"] in Deal.CLOSED_STAGES
        ):
            del changes["stage"]
            row.warn(
                _header_for(plan, "stage"),
                values.get("stage", ""),
                "Stage not changed: closing or reopening an existing deal is done on the "
                "deal page, where it starts or stops the handoff.",
            )
        if pricing:
            price_changes = _changes(match, pricing)
            if price_changes:
                changes["pricing"] = pricing
        updates.append((planned, changes, match))
        plan.rows.append(planned)

    # Existing deals priced with real proposal items keep them; only a deal priced by an
    # earlier import (or not priced) takes the file's value.
    priced_ids: set[int] = set()
    for chunk in _chunks([m["id"] for _, c, m in updates if "pricing" in c]):
        priced_ids.update(
            LineItem.objects.filter(deal_id__in=chunk)
            .filter(imported=False)
            .values_list("deal_id", flat=True)
        )
    for planned, changes, match in updates:
        if "pricing" in changes and match["id"] in priced_ids:
            del changes["pricing"]
            plan.warnings.append(
                {
                    "row": planned.row,
                    "column": _header_for(plan, "amount"),
                    "value": "",
                    "message": "Value not changed: the deal already has proposal items.",
                }
            )
        action, outcome = _existing_outcome(changes, ctx.job.update_existing)
        planned.action = action
        planned.changes = changes if action == "update" else {}
        _duplicate(
            plan,
            planned.row,
            planned.values["title"],
            action,
            f"This deal already exists in the team{outcome}",
        )


def _decide_status(plan: ImportPlan, row: _Row) -> str | None:
    """Status beside stage: a won/lost status, won/closed flags or an archived record with
    a lost reason close the deal whatever the stage column says. Sets values["stage"]
    and values["closed_at"]; returns the status ("deleted" rows are skipped)."""
    values = row.values
    if not _STATUS_FIELDS.intersection(values):
        # The common row: no status or flag cells, only a stage (the bench's 100,000).
        if values.get("stage") in Deal.CLOSED_STAGES and values.get("expected_close_date"):
            day = values["expected_close_date"]
            values["closed_at"] = p.aware(dt.datetime(day.year, day.month, day.day, 12))
        return None
    status = values.pop("status", None)
    won = values.pop("won_flag", None)
    closed = values.pop("closed_flag", None)
    active = values.pop("active_flag", None)
    won_date = values.pop("won_date", None)
    lost_date = values.pop("lost_date", None)
    closed_date = values.pop("closed_date", None)
    if status == "deleted":
        return status
    outcome = None
    if status in ("won", "lost"):
        outcome = status
        values["status_word"] = p.normalise_label(_raw(plan, row, "status")) or status
    elif won is True:
        outcome = "won"
    elif closed is True and won is False:
        outcome = "lost"
    elif active is False and values.get("lost_reason"):
        outcome = "lost"
        values["status_word"] = "archived with a lost reason"
    elif active is False:
        row.warn(
            _header_for(plan, "active_flag"),
            _raw(plan, row, "active_flag"),
            "Archived in the old CRM without a lost reason; imported at the stage the file gives.",
        )
    if outcome is not None:
        closing: str = Deal.Stage.CLOSED_WON if outcome == "won" else Deal.Stage.CLOSED_LOST
        # The stage column no longer decides: its unknown names are not errors then.
        stage_column = _header_for(plan, "stage")
        row.problems = [pr for pr in row.problems if pr["column"] != stage_column]
        if (
            values.get("stage")
            and values["stage"] != closing
            and values["stage"] in Deal.CLOSED_STAGES
        ):
            row.warn(
                stage_column,
                _raw(plan, row, "stage"),
                f"The stage says {values['stage'].replace('_', ' ')} but the status says "
                f"{outcome}; the status decides.",
            )
        values["stage"] = closing
    elif status == "open" and values.get("stage") in Deal.CLOSED_STAGES:
        row.warn(
            _header_for(plan, "status"),
            _raw(plan, row, "status"),
            "The status says open but the stage is a closed one; the stage is kept.",
        )
    stage = values.get("stage")
    if stage == Deal.Stage.CLOSED_WON:
        moment = won_date or closed_date
    elif stage == Deal.Stage.CLOSED_LOST:
        moment = lost_date or closed_date
    else:
        moment = None
    if moment is None and stage in Deal.CLOSED_STAGES and values.get("expected_close_date"):
        # HubSpot and Salesforce set the close date to the day the deal closed.
        day = values["expected_close_date"]
        moment = p.aware(dt.datetime(day.year, day.month, day.day, 12))
    if moment is not None:
        values["closed_at"] = moment
    return status


_STATUS_FIELDS = frozenset(
    {"status", "won_flag", "closed_flag", "active_flag", "won_date", "lost_date", "closed_date"}
)


def _raw(plan: ImportPlan, row: _Row, field_name: str) -> str:
    header = next((h for h, f in plan.mapping.items() if f == field_name), None)
    if header is None:
        return ""
    index = plan.headers.index(header)
    return row.cells[index].strip() if index < len(row.cells) else ""


def build_preview(plan: ImportPlan, ctx: _Context, limit: int = PREVIEW_ROWS) -> list[dict]:
    """The first rows as they will be stored: organisation, amount, currency, stage,
    owner, close date (deals), or the record's main fields (prospects, contacts)."""
    owners = ctx.usernames()
    out: list[dict] = []
    for planned in plan.rows:
        if len(out) >= limit:
            break
        if planned.action == "error":
            continue
        v = planned.values
        entry: dict[str, Any] = {"row": planned.row, "action": planned.action}
        if planned.action == "skip" and planned.reason and not v:
            entry["reason"] = planned.reason
            out.append(entry)
            continue
        if plan.kind == "deals":
            pricing = v.get("pricing") or {}
            name = plan.prospects.get(planned.prospect_key, ("", None))[0]
            closed_at = v.get("closed_at")
            entry.update(
                {
                    "title": v.get("title", ""),
                    "organization": name,
                    "amount": str(pricing["net_total"])
                    if pricing.get("net_total") is not None
                    else "",
                    "currency": v.get("currency") or "",
                    "stage": p.STAGE_LABELS.get(v.get("stage") or "", ""),
                    "owner": owners.get(v.get("owner_id") or 0, ""),
                    "close_date": v["expected_close_date"].isoformat()
                    if v.get("expected_close_date")
                    else "",
                    "closed_on": timezone.localtime(closed_at).date().isoformat()
                    if closed_at
                    else "",
                    "lost_reason": v.get("lost_reason") or "",
                }
            )
        elif plan.kind == "prospects":
            entry.update(
                {k: v.get(k) or "" for k in ("name", "industry", "size", "website", "external_id")}
            )
        else:
            name = plan.prospects.get(planned.prospect_key, ("", None))[0]
            entry.update({k: v.get(k) or "" for k in ("name", "title", "email", "phone")})
            entry["organization"] = name
        out.append(entry)
    return out


def _plan_deal_contact(plan, row, prospect_key, prospect_id, by_email, by_name, keys):
    name = row.values.get("contact_name")
    email = row.values.get("contact_email") or ""
    if not (name or email):
        return
    key = ("email", email) if email else ("name", prospect_key, name.lower())
    if key in keys:
        return
    keys.add(key)
    if email and email in by_email:
        return
    if not email and prospect_id is not None and (prospect_id, name.lower()) in by_name:
        return
    plan.contacts_to_create.append(
        {
            "prospect_key": prospect_key,
            "name": name or email.split("@")[0],
            "email": email,
            "phone": row.values.get("contact_phone") or "",
        }
    )
