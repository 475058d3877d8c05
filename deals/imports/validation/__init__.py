"""The dry run: every row of an import checked and planned (create / update / skip / error).

`plan_import` reads the file and the team's existing records (a handful of queries, not
one per row) and returns an `ImportPlan`. The dry-run report is the plan summarised; the
commit writes the same plan, so what the report promised is what happens. One module
per job: `plan` (the result), `convert` (cells), `prospects`, `contacts`, `deals` (one
planner per kind), `preview`, `dry_run` (the whole run).
"""

from deals.imports.validation.convert import LENIENT_TYPES, MEMO_TYPES
from deals.imports.validation.deals import DEAL_FIELDS, PRICING_FIELDS
from deals.imports.validation.dry_run import plan_import
from deals.imports.validation.plan import (
    CURRENCY_RE,
    IMPORTED_ITEM_NAME,
    LOST_REASON_MISSING,
    NOTE_FIELDS,
    PREVIEW_ROWS,
    QUERY_CHUNK,
    REPORT_LIST_LIMIT,
    ImportPlan,
    PlannedRow,
)
from deals.imports.validation.preview import build_preview

__all__ = [
    "CURRENCY_RE",
    "DEAL_FIELDS",
    "IMPORTED_ITEM_NAME",
    "ImportPlan",
    "LENIENT_TYPES",
    "LOST_REASON_MISSING",
    "MEMO_TYPES",
    "NOTE_FIELDS",
    "PREVIEW_ROWS",
    "PRICING_FIELDS",
    "PlannedRow",
    "QUERY_CHUNK",
    "REPORT_LIST_LIMIT",
    "build_preview",
    "plan_import",
]
