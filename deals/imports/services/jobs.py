"""Who may import, the upload (files, options, stage table), the dry run, queueing the commit."""

from __future__ import annotations

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet

from deals import visibility
from deals.imports import files, profiles
from deals.imports import parsing as p
from deals.imports.services.common import progress_key
from deals.imports.validation import plan_import
from deals.models import ImportJob
from winwin_crm.accounts.models import Team, User
from winwin_crm.accounts.roles import REP


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
    from deals.imports.tasks import import_commit_task

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
        return max(job.processed_rows, cache.get(progress_key(job.id)) or 0)
    return job.processed_rows
