"""Import jobs: upload → dry run → commit in one transaction, with bulk writes.

A commit re-plans the file inside its transaction (the data may have changed since the
dry run) and then writes every planned row in batches. With "abort if any row fails" one
bad row means nothing is written; with "import valid rows only" the bad rows are left out.
Re-running a file matches rows to what the first run wrote (external id, else the natural
key), so it creates nothing new.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, connections, transaction
from django.db.models import (
    QuerySet,
)
from django.utils import timezone
from simple_history.utils import bulk_update_with_history

from deals import visibility
from deals.models import Contact, Deal, ImportJob, LineItem, Prospect, StageHistory
from deals.pricing import pricing_refresh_bulk
from deals.services import PROSPECT_FIELDS
from winwin_crm.accounts.models import Team, User
from winwin_crm.accounts.roles import REP

from . import files, profiles
from . import parsing as p
from .bulk import insert_dicts, insert_history
from .validation import IMPORTED_ITEM_NAME, ImportPlan, plan_import

logger = logging.getLogger(__name__)

# Rows per INSERT/UPDATE statement: big enough that 100,000 rows take ~50 round trips,
# small enough to stay far below PostgreSQL's 65,535 parameters (a deal has ~20 columns).
BATCH_SIZE = 2000
# Up to this many imported deals get one queued recompute each; beyond it one health
# sweep is queued instead, so a large import does not flood the broker with tasks.
HEALTH_PER_DEAL_LIMIT = 200
CHANGE_REASON = "CSV import"
ZERO = Decimal("0.00")


# --- Who may import (deals.visibility decides) ------------------------------------------


def import_teams(user: User) -> QuerySet[Team]:
    """Sales teams this user may import into: a manager's own teams, every team for admins."""
    return visibility.managed_teams(user)


def import_job_list(*, user) -> QuerySet[ImportJob]:
    """Jobs of the teams the user may import into (others' jobs do not exist for them)."""
    jobs = ImportJob.objects.select_related("team", "created_by", "default_owner")
    if not visibility.user_can_import(user):
        return jobs.none()
    return jobs.filter(team__in=import_teams(user))


def team_reps(team: Team) -> QuerySet[User]:
    return (
        User.objects.filter(teams=team, groups__name=REP, is_active=True)
        .distinct()
        .order_by("username")
    )


# --- Upload and dry run ---------------------------------------------------------------


def import_job_create(
    *,
    user: User,
    file_name: str,
    raw: bytes,
    kind: str,
    team: Team | None = None,
    column_mapping: dict | None = None,
    stage_mapping: dict | None = None,
    date_format: str | None = None,
    on_error: str = ImportJob.OnError.ABORT,
    update_existing: bool = True,
    default_owner: User | None = None,
    validate: bool = True,
    source: str | None = profiles.AUTO,
    extra_files: list[tuple[str, bytes]] | None = None,
) -> ImportJob:
    """Store an uploaded CSV (or several, or a zip) as a job, recognise the CRM that wrote
    it and its headers, and (by default) dry-run it.

    `source`: "auto" (recognise the CRM from the headers), "generic" (generic aliases
    only) or a profile code. Several files: the one holding `kind` is imported, the
    others are joined to it (organisations and people by id).
    Raises ValidationError with field errors (file, kind, team, mapping, source, …) for
    anything a person must fix; nothing is stored then.
    """
    if not visibility.user_can_import(user):
        raise ValidationError({"detail": ["Only managers and admins import files."]})
    if kind not in p.KINDS:
        raise ValidationError({"kind": [f"Choose one of: {', '.join(p.KINDS)}."]})
    source = source or profiles.AUTO
    if source not in profiles.SOURCE_CHOICES:
        raise ValidationError({"source": [f"Choose one of: {', '.join(profiles.SOURCE_CHOICES)}."]})
    team = _import_team(user, team)
    try:
        uploads, ignored = files.expand([(file_name or "upload.csv", raw), *(extra_files or [])])
        single = len(uploads) == 1
        read = [files.read("" if single else name, data) for name, data in uploads]
        main, profile = _main_file(kind, read, source)
        others = [f for f in read if f is not main]
        main_file = main
        main, joins, joined_fields = files.join(kind, main, others, profile)
    except p.ImportFileError as exc:
        raise exc.as_validation_error() from None
    mapping = p.guess_mapping(kind, main.headers, profile)
    mapping.update(joined_fields)
    mapping.update(column_mapping or {})
    job = ImportJob(
        kind=kind,
        team=team,
        created_by=user,
        file_name=(file_name or "upload.csv")[:255],
        content=main.text,
        delimiter=main.delimiter,
        column_mapping=mapping,
        stage_mapping=dict(stage_mapping or {}),
        source=profile.code if profile else "",
        files={
            "encoding": main.encoding,
            "frame": main.frame,
            "main": main.name,
            "files": [
                {
                    "name": f.name,
                    "columns": len(f.headers),
                    "used": f is main_file or any(j["file"] == f.name for j in joins),
                }
                for f in read
            ]
            if not single
            else [],
            "joins": joins,
            "ignored": ignored,
        },
    )
    if date_format is None:
        date_format = (profile.date_format if profile else None) or "iso"
    _apply_options(
        job,
        date_format=date_format,
        on_error=on_error,
        update_existing=update_existing,
        default_owner=default_owner,
    )
    with transaction.atomic():
        job.save()
        if validate:
            import_job_validate(job=job)
        else:
            job.stage_mapping = _stage_table(job, main.headers)
            job.total_rows = p.count_records(main.text, main.delimiter)
            job.save(update_fields=["stage_mapping", "total_rows"])
    return job


def _main_file(kind: str, read: list[files.SourceFile], source: str):
    """(the file holding `kind`, the profile that applies): by the source asked for, else
    the CRM recognised from the headers."""
    fixed = profiles.get(source) if source not in (profiles.AUTO, profiles.GENERIC) else None
    if len(read) == 1:
        main = read[0]
    else:
        candidates = [
            f
            for f in read
            if files.role_of(f, fixed or profiles.detect(kind, f.headers).profile) == kind
        ]
        if not candidates:
            names = ", ".join(f.name for f in read)
            raise p.ImportFileError(f"None of the files ({names}) holds {kind}.")
        main = candidates[0]
    if source == profiles.GENERIC:
        return main, None
    if fixed is not None:
        return main, fixed
    return main, profiles.detect(kind, main.headers).profile


def _import_team(user: User, team: Team | None) -> Team:
    allowed = import_teams(user)
    if team is None:
        teams = list(allowed[:2])
        if len(teams) != 1:
            raise ValidationError({"team": ["Choose the team to import into."]})
        return teams[0]
    if not allowed.filter(id=team.id).exists():
        raise ValidationError({"team": ["You can import only into a sales team you manage."]})
    return team


def _apply_options(job: ImportJob, **options) -> None:
    if options.get("date_format") is not None:
        if options["date_format"] not in p.DATE_FORMATS:
            raise ValidationError({"date_format": [f"Choose one of: {', '.join(p.DATE_FORMATS)}."]})
        job.date_format = options["date_format"]
    if options.get("on_error") is not None:
        if options["on_error"] not in ImportJob.OnError.values:
            raise ValidationError({"on_error": ["Choose 'abort' or 'skip'."]})
        job.on_error = options["on_error"]
    if options.get("update_existing") is not None:
        job.update_existing = bool(options["update_existing"])
    if "default_owner" in options:
        owner = options["default_owner"]
        if owner is not None and not team_reps(job.team).filter(id=owner.id).exists():
            raise ValidationError({"default_owner": [f"{owner} is not a rep of team {job.team}."]})
        job.default_owner = owner


def _stage_table(job: ImportJob, headers: list[str]) -> dict[str, str]:
    """{stage name in the file: our stage}, prefilled from the defaults; the user edits it."""
    if job.kind != "deals":
        return {}
    column = next((h for h, f in job.column_mapping.items() if f == "stage"), None)
    if column is None or column not in headers:
        return {}
    index = headers.index(column)
    profile = profiles.get(job.source)
    lookup = p.stage_lookup({}, profile.stage_table() if profile else None)
    table = {}
    for _number, cells in p.iter_records(job.content, job.delimiter):
        value = p.unescape_cell(cells[index]).strip() if index < len(cells) else ""
        if value and value not in table:
            try:
                table[value] = p.map_stage(value, {}, lookup)
            except p.CellError:
                table[value] = ""
            if len(table) > 200:
                break
    current = job.stage_mapping or {}
    return {value: current.get(value) or code for value, code in table.items()}


@transaction.atomic
def import_job_validate(
    *,
    job: ImportJob,
    column_mapping: dict | None = None,
    stage_mapping: dict | None = None,
    **options,
) -> ImportJob:
    """Dry run: check every row, store the report (ok / errors / duplicates / actions)."""
    if job.status in (ImportJob.Status.RUNNING, ImportJob.Status.DONE, ImportJob.Status.QUEUED):
        raise ValidationError({"status": [f"This import is {job.get_status_display().lower()}."]})
    _apply_options(job, **options)
    headers = p.read_header(job.content, job.delimiter)
    if column_mapping is not None:
        job.column_mapping = {h: column_mapping.get(h, "") for h in headers}
    if stage_mapping is not None:
        job.stage_mapping = {k: v for k, v in stage_mapping.items() if k}
    job.stage_mapping = _stage_table(job, headers)
    try:
        plan = plan_import(job=job)
    except p.ImportFileError as exc:
        raise exc.as_validation_error() from None
    job.column_mapping = plan.mapping
    job.report = plan.report()
    job.total_rows = len(plan.rows)
    job.processed_rows = 0
    job.status = ImportJob.Status.VALIDATED
    job.error = ""
    job.save()
    return job


def import_job_queue_commit(*, job: ImportJob, on_error: str | None = None) -> ImportJob:
    """Queue the commit as a Celery task (run at once when Celery is eager)."""
    from .tasks import import_commit_task

    # A failed job is not committed again as it stands: run the dry run again first (the
    # data or the mapping changed, or it fails the same way).
    if job.status != ImportJob.Status.VALIDATED:
        raise ValidationError(
            {
                "status": [
                    f"This import is {job.get_status_display().lower()}; run the dry run first."
                    if job.status in (ImportJob.Status.UPLOADED, ImportJob.Status.FAILED)
                    else f"This import is {job.get_status_display().lower()}."
                ]
            }
        )
    with transaction.atomic():
        if on_error is not None:
            _apply_options(job, on_error=on_error)
        job.status = ImportJob.Status.QUEUED
        job.processed_rows = 0
        job.save(update_fields=["status", "on_error", "processed_rows"])
        job_id = job.id
        transaction.on_commit(lambda: import_commit_task.delay(job_id))
    job.refresh_from_db()
    return job


def import_job_progress(job: ImportJob) -> int:
    """Rows written so far; while running, the commit's transaction hides them from the
    database, so the figure comes from the cache (or the side connection, on PostgreSQL)."""
    if job.status == ImportJob.Status.RUNNING:
        return max(job.processed_rows, cache.get(_progress_key(job.id)) or 0)
    return job.processed_rows


# --- Commit ---------------------------------------------------------------------------


class _Aborted(Exception):
    def __init__(self, plan: ImportPlan):
        self.plan = plan


def import_job_commit(
    *, job_id: int, progress: Callable[[int, int], None] | None = None
) -> ImportJob:
    """Write the job's file in ONE transaction. Idempotent: a job already running or done
    is left alone, and re-running a file matches what the previous run wrote."""
    claimable = [ImportJob.Status.VALIDATED, ImportJob.Status.QUEUED]
    started = timezone.now()
    # Claimed in its own (committed) statement so a second worker sees it at once.
    claimed = ImportJob.objects.filter(id=job_id, status__in=claimable).update(
        status=ImportJob.Status.RUNNING, processed_rows=0, started_at=started, error=""
    )
    job = ImportJob.objects.select_related("team", "created_by").get(id=job_id)
    if not claimed:
        return job
    reporter = _ProgressReporter(job, progress)
    try:
        with transaction.atomic():
            plan = plan_import(job=job)
            job.total_rows = len(plan.rows)
            if plan.error_rows and job.on_error == ImportJob.OnError.ABORT:
                raise _Aborted(plan)
            writer = {
                "prospects": _write_prospects,
                "contacts": _write_contacts,
                "deals": _write_deals,
            }[job.kind]
            result = writer(job, plan, reporter)
            reporter.close()
            job.status = ImportJob.Status.DONE
            job.processed_rows = job.total_rows
            job.report = {**plan.report(), "result": result}
            job.finished_at = timezone.now()
            job.save()
    except _Aborted as exc:
        first = exc.plan.errors[0]
        _fail(
            job,
            reporter,
            f"Nothing was imported: {exc.plan.error_rows:,} row(s) have errors and you chose "
            f"'abort if any row fails' (first: row {first['row']}, {first['reason']}).",
            report=exc.plan.report(),
        )
    except p.ImportFileError as exc:
        _fail(job, reporter, f"Nothing was imported: {exc.message}")
    except (DatabaseError, ValidationError) as exc:
        logger.exception("Import %s failed while writing", job_id)
        _fail(job, reporter, f"Nothing was imported: the database refused a row ({exc}).")
    except Exception:
        _fail(job, reporter, "Nothing was imported: the import stopped on an unexpected error.")
        raise
    return job


def _fail(job: ImportJob, reporter, message: str, report: dict | None = None) -> None:
    reporter.close()
    job.status = ImportJob.Status.FAILED
    job.error = message
    job.processed_rows = 0
    job.finished_at = timezone.now()
    if report is not None:
        job.report = report
    job.save()


def _progress_key(job_id: int) -> str:
    return f"imports:progress:{job_id}"


class _ProgressReporter:
    """Publishes rows written while the commit's transaction is still open.

    The cache carries it (Redis in production); on PostgreSQL outside an outer transaction
    a second connection also writes ImportJob.processed_rows, committed at once, so the
    page's poll sees it even without a shared cache.
    """

    def __init__(self, job: ImportJob, callback):
        self.job = job
        self.callback = callback
        self.side = None
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            self.side = connections.create_connection(connection.alias)

    def __call__(self, processed: int) -> None:
        cache.set(_progress_key(self.job.id), processed, 60 * 60)
        if self.side is not None:
            with self.side.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {ImportJob._meta.db_table} SET processed_rows = %s WHERE id = %s",
                    [processed, self.job.id],
                )
        if self.callback:
            self.callback(processed, self.job.total_rows)

    def close(self) -> None:
        cache.delete(_progress_key(self.job.id))
        if self.side is not None:
            self.side.close()
            self.side = None


def _batches(items: list, size: int = BATCH_SIZE):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _create_prospects(job: ImportJob, plan: ImportPlan) -> tuple[dict[str, int], int]:
    """Every prospect the rows reference, by lower-cased name → id; creates missing ones."""
    ids = {key: pk for key, (_name, pk) in plan.prospects.items() if pk is not None}
    new = [(key, name) for key, (name, pk) in plan.prospects.items() if pk is None]
    created = insert_dicts(
        Prospect,
        [
            {"team_id": job.team_id, "name": name, "created_by_id": job.created_by_id}
            for _key, name in new
        ],
        batch_size=BATCH_SIZE,
    )
    ids.update({key: pk for (key, _name), pk in zip(new, created, strict=True)})
    return ids, len(new)


def _result(plan: ImportPlan, **extra) -> dict:
    return {
        "created": plan.count("create"),
        "updated": plan.count("update"),
        "skipped": plan.count("skip"),
        "failed": plan.error_rows,
        **extra,
    }


def _write_prospects(job: ImportJob, plan: ImportPlan, progress) -> dict:
    done = 0
    creates = [r for r in plan.rows if r.action == "create"]
    for batch in _batches(creates):
        insert_dicts(
            Prospect,
            [
                {
                    "team_id": job.team_id,
                    "created_by_id": job.created_by_id,
                    **{f: r.values.get(f) or "" for f in PROSPECT_FIELDS},
                }
                for r in batch
            ],
            batch_size=BATCH_SIZE,
        )
        done += len(batch)
        progress(done)
    updates = [r for r in plan.rows if r.action == "update"]
    _bulk_update(Prospect, updates, progress, done)
    return _result(plan)


def _bulk_update(model, updates, progress, done: int) -> None:
    now = timezone.now()
    for batch in _batches(updates):
        objs = model.objects.in_bulk([r.existing_id for r in batch])
        fields = set()
        for r in batch:
            obj = objs[r.existing_id]
            for name, value in r.changes.items():
                setattr(obj, name, value)
                fields.add(name)
            obj.updated_at = now
        if fields:
            model.objects.bulk_update(list(objs.values()), [*sorted(fields), "updated_at"])
        done += len(batch)
        progress(done)


def _write_contacts(job: ImportJob, plan: ImportPlan, progress) -> dict:
    prospect_ids, prospects_created = _create_prospects(job, plan)
    done = 0
    creates = [r for r in plan.rows if r.action == "create"]
    for batch in _batches(creates):
        insert_dicts(
            Contact,
            [
                {
                    "prospect_id": prospect_ids[r.prospect_key],
                    "buying_role": r.values.get("buying_role") or Contact.BuyingRole.INFLUENCER,
                    **{
                        f: r.values.get(f) or ""
                        for f in ("name", "title", "email", "phone", "notes")
                    },
                }
                for r in batch
            ],
            batch_size=BATCH_SIZE,
        )
        done += len(batch)
        progress(done)
    _bulk_update(Contact, [r for r in plan.rows if r.action == "update"], progress, done)
    return _result(plan, prospects_created=prospects_created)


def _write_deals(job: ImportJob, plan: ImportPlan, progress) -> dict:
    now = timezone.now()
    prospect_ids, prospects_created = _create_prospects(job, plan)
    insert_dicts(
        Contact,
        [
            {
                "prospect_id": prospect_ids[c["prospect_key"]],
                "name": c["name"],
                "email": c["email"],
                "phone": c["phone"],
            }
            for c in plan.contacts_to_create
        ],
        batch_size=BATCH_SIZE,
    )
    history: dict[str, Any] = {"user_id": job.created_by_id, "reason": CHANGE_REASON}
    done = 0
    touched: list[int] = []
    for batch in _batches([r for r in plan.rows if r.action == "create"]):
        deals = []
        for r in batch:
            v = r.values
            pricing = v["pricing"] or {}
            deals.append(
                {
                    "team_id": job.team_id,
                    "prospect_id": prospect_ids[r.prospect_key],
                    "owner_id": v["owner_id"],
                    "title": v["title"],
                    "stage": v["stage"],
                    "currency": v["currency"] or job.team.default_currency,
                    "expected_close_date": v["expected_close_date"],
                    "lost_reason": v["lost_reason"] or "",
                    "notes_for_delivery": v["notes_for_delivery"] or "",
                    "external_id": v["external_id"] or "",
                    # The day the old CRM closed it, when the file says; else the import's.
                    "closed_at": (v.get("closed_at") or now)
                    if v["stage"] in Deal.CLOSED_STAGES
                    else None,
                    "imported_from": v.get("imported_from") or "csv",
                    "created_by_id": job.created_by_id,
                    "created_at": now,
                    "stage_changed_at": now,
                    # One "Imported value" item at list = list_total and price = net_total and
                    # no concessions: these totals are exactly what the pricing formulas give.
                    "list_total": pricing.get("list_total", ZERO),
                    "net_total": pricing.get("net_total", ZERO),
                    "cost_total": pricing.get("cost_total", ZERO),
                }
            )
        for deal, pk in zip(deals, insert_dicts(Deal, deals, batch_size=BATCH_SIZE), strict=True):
            deal["id"] = pk
        insert_history(Deal, deals, **history)
        _stage_rows(deals, now, job.created_by_id)
        items = [
            _imported_item(deal["id"], r.values["pricing"])
            for deal, r in zip(deals, batch, strict=True)
            if r.values["pricing"]
        ]
        # The item's creation is recorded in the deal's history ("CSV import"); a history
        # row per item would add a fifth of the import's writes for no extra information.
        insert_dicts(LineItem, items, batch_size=BATCH_SIZE)
        _imported_handoffs(deals, now)
        touched.extend(d["id"] for d in deals)
        done += len(batch)
        progress(done)
    for batch in _batches([r for r in plan.rows if r.action == "update"]):
        by_id = Deal.objects.in_bulk([r.existing_id for r in batch])
        fields = {"updated_at", "version"}
        repriced = []
        moved = []
        for r in batch:
            existing = by_id[r.existing_id]
            for name, value in r.changes.items():
                if name == "pricing":
                    repriced.append((existing.id, value))
                    continue
                if name == "stage" and value != existing.stage:
                    moved.append({"id": existing.id, "from_stage": existing.stage, "stage": value})
                    existing.stage_changed_at = now
                    fields.add("stage_changed_at")
                setattr(existing, name, value)
                fields.add(name)
                if name == "stage" and value in Deal.CLOSED_STAGES:
                    existing.closed_at = now
                    fields.add("closed_at")
            existing.version += 1
            existing.updated_at = now
        bulk_update_with_history(
            list(by_id.values()),
            Deal,
            sorted(fields),
            batch_size=BATCH_SIZE,
            default_user=job.created_by,
            default_change_reason=CHANGE_REASON,
        )
        _stage_rows(moved, now, job.created_by_id)
        if repriced:
            LineItem.objects.filter(deal_id__in=[d for d, _ in repriced], imported=True).delete()
            items = [_imported_item(d, pr) for d, pr in repriced]
            for item, pk in zip(items, insert_dicts(LineItem, items), strict=True):
                item["id"] = pk
            insert_history(LineItem, items, **history)
            pricing_refresh_bulk(deal_ids=[d for d, _ in repriced])
        touched.extend(by_id)
        done += len(batch)
        progress(done)
    _queue_health(touched)
    return _result(
        plan, prospects_created=prospects_created, contacts_created=len(plan.contacts_to_create)
    )


def _stage_rows(deals: list[dict], now, user_id: int | None) -> None:
    """A StageHistory row per imported (or re-staged) deal, as every stage change has."""
    insert_dicts(
        StageHistory,
        [
            {
                "deal_id": d["id"],
                "from_stage": d.get("from_stage", ""),
                "to_stage": d["stage"],
                "changed_at": now,
                "changed_by_id": user_id,
                "reason": CHANGE_REASON,
                "concerns": [],
            }
            for d in deals
        ],
        batch_size=BATCH_SIZE,
    )


def _imported_handoffs(deals: list[dict], now) -> None:
    """Deals won in the old CRM get their handoff as "imported: accepted as is": no sales
    handoff happened here, so there is no package, no SLA and no acceptance to pretend."""
    from handoff.models import Handoff

    insert_dicts(
        Handoff,
        [
            {
                "deal_id": d["id"],
                "rep_id": d["owner_id"],
                "status": Handoff.Status.IMPORTED,
                "notes_for_delivery": d["notes_for_delivery"],
                "created_at": now,
                "updated_at": now,
            }
            for d in deals
            if d["stage"] == Deal.Stage.CLOSED_WON
        ],
        batch_size=BATCH_SIZE,
    )


def _imported_item(deal_id: int, pricing: dict) -> dict:
    return {
        "deal_id": deal_id,
        "name": IMPORTED_ITEM_NAME,
        "imported": True,
        "quantity": Decimal("1.00"),
        "unit_list_price": pricing["list_total"],
        "unit_price": pricing["net_total"],
        "unit_cost": pricing["cost_total"],
    }


def _queue_health(deal_ids: list[int]) -> None:
    """Imported deals need scores. A few: one coalesced recompute each; many: one sweep."""
    if not deal_ids:
        return
    if len(deal_ids) <= HEALTH_PER_DEAL_LIMIT:
        from deals.health import health_recompute_on_commit

        for deal_id in deal_ids:
            health_recompute_on_commit(deal_id=deal_id)
        return
    from deals.tasks import health_sweep_task

    transaction.on_commit(health_sweep_task.delay)
