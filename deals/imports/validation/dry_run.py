"""The dry run: read the file and the team's records, plan every row, note the rest."""

from __future__ import annotations

from collections.abc import Callable

from deals.imports import parsing as p
from deals.imports import profiles
from deals.imports.validation.contacts import plan_contacts
from deals.imports.validation.convert import convert_row, header_for
from deals.imports.validation.deals import plan_deals
from deals.imports.validation.plan import ImportPlan, PlanContext, SourceRow
from deals.imports.validation.preview import build_preview
from deals.imports.validation.prospects import plan_prospects
from deals.models import ImportJob


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
    ctx = PlanContext(job)
    if ctx.profile is not None:
        minor = ctx.profile.minor_unit_divisors()
        ctx.divisors = {
            field_name: minor[p.normalise_label(h)]
            for h, field_name in mapping.items()
            if field_name and p.normalise_label(h) in minor
        }
    ctx.currency_from_amount = job.kind == "deals" and "currency" not in mapping.values()
    _file_notes(plan, job, ctx)
    rows: list[SourceRow] = []
    for number, cells in p.iter_records(job.content, job.delimiter):
        row = SourceRow(number, cells)
        convert_row(row, columns, job, ctx)
        rows.append(row)
        if progress and len(rows) % 5000 == 0:
            progress(len(rows))
    planner = {"prospects": plan_prospects, "contacts": plan_contacts, "deals": plan_deals}
    planner[job.kind](plan, rows, ctx)
    for row in rows:
        plan.warnings.extend(row.warnings)
    plan.preview = build_preview(plan, ctx)
    return plan


def _file_notes(plan: ImportPlan, job: ImportJob, ctx: PlanContext) -> None:
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
            f"{header_for(plan, divisor_field)} holds amounts in {unit}; they are divided by "
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
