"""The commit: re-plan inside one transaction, write in batches, report progress, queue health."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, connections, transaction
from django.utils import timezone

from deals.imports import parsing as p
from deals.imports.services.common import progress_key
from deals.imports.services.writes import write_contacts, write_deals, write_prospects
from deals.imports.validation import ImportPlan, plan_import
from deals.models import ImportJob

logger = logging.getLogger(__name__)


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
                "prospects": write_prospects,
                "contacts": write_contacts,
                "deals": write_deals,
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
        cache.set(progress_key(self.job.id), processed, 60 * 60)
        if self.side is not None:
            with self.side.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {ImportJob._meta.db_table} SET processed_rows = %s WHERE id = %s",
                    [processed, self.job.id],
                )
        if self.callback:
            self.callback(processed, self.job.total_rows)

    def close(self) -> None:
        cache.delete(progress_key(self.job.id))
        if self.side is not None:
            self.side.close()
            self.side = None
