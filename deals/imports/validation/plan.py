"""What the dry run produces (the plan and its rows) and what it reads once per import."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from deals.imports import parsing as p
from deals.imports import profiles
from deals.models import ImportJob
from winwin_crm.accounts.models import User
from winwin_crm.accounts.roles import REP

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


class SourceRow:
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


class PlanContext:
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
