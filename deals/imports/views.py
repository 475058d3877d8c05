"""Import pages: upload → mapping step → dry-run report → commit → progress (htmx polling)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from deals import visibility
from deals.models import ImportJob

from . import parsing, profiles
from . import services as s
from .forms import CommitForm, MappingForm, UploadForm

NAV = {"nav": "imports"}
SAMPLE_ROWS = 3


def _require_importer(request):
    if not visibility.user_can_import(request.user):
        raise PermissionDenied("Only managers and admins import files.")


def _job(request, pk: int) -> ImportJob:
    _require_importer(request)
    return get_object_or_404(s.import_job_list(user=request.user), pk=pk)


def _add_service_errors(form, exc: ValidationError) -> None:
    errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    for field, messages_ in errors.items():
        target = field if field in form.fields else None
        for message in messages_:
            form.add_error(target, message)


@require_http_methods(["GET", "POST"])
def index(request):
    _require_importer(request)
    form = UploadForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        extras = form.cleaned_data.get("more_files") or []
        try:
            job = s.import_job_create(
                user=request.user,
                file_name=upload.name,
                raw=upload.read(),
                extra_files=[(extra.name, extra.read()) for extra in extras],
                kind=form.cleaned_data["kind"],
                team=form.cleaned_data["team"],
                source=form.cleaned_data.get("source") or profiles.AUTO,
                validate=False,
            )
        except ValidationError as exc:
            _add_service_errors(form, exc)
        else:
            return redirect("imports:mapping", pk=job.pk)
    jobs = s.import_job_list(user=request.user)[:20]
    return render(
        request,
        "imports/index.html",
        {**NAV, "form": form, "jobs": jobs},
        status=400 if form.errors else 200,
    )


def _samples(job: ImportJob, headers: list[str]) -> dict[str, str]:
    """The first few values of each column, shown next to its select."""
    found: dict[str, list[str]] = {h: [] for h in headers}
    for count, (_number, cells) in enumerate(parsing.iter_records(job.content, job.delimiter)):
        if count >= SAMPLE_ROWS:
            break
        for header, cell in zip(headers, cells, strict=False):
            if cell.strip():
                found[header].append(cell.strip()[:40])
    return {h: "e.g. " + ", ".join(v) for h, v in found.items() if v}


@require_http_methods(["GET", "POST"])
def mapping(request, pk: int):
    job = _job(request, pk)
    if job.status not in (
        ImportJob.Status.UPLOADED,
        ImportJob.Status.VALIDATED,
        ImportJob.Status.FAILED,
    ):
        return redirect("imports:progress", pk=job.pk)
    headers = parsing.read_header(job.content, job.delimiter)
    form = MappingForm(
        request.POST or None, job=job, headers=headers, samples=_samples(job, headers)
    )
    if request.method == "POST" and form.is_valid():
        try:
            s.import_job_validate(
                job=job,
                column_mapping=form.column_mapping(),
                stage_mapping=form.stage_mapping(),
                **form.options(),
            )
        except ValidationError as exc:
            _add_service_errors(form, exc)
        else:
            return redirect("imports:report", pk=job.pk)
    return render(
        request,
        "imports/mapping.html",
        {
            **NAV,
            "job": job,
            "form": form,
            "targets": parsing.TARGETS[job.kind],
            "detected": profiles.Detection(profiles.get(job.source)).sentence(job.kind),
        },
        status=400 if form.errors else 200,
    )


def report(request, pk: int):
    job = _job(request, pk)
    if job.status == ImportJob.Status.UPLOADED:
        return redirect("imports:mapping", pk=job.pk)
    if job.status in (ImportJob.Status.QUEUED, ImportJob.Status.RUNNING, ImportJob.Status.DONE):
        return redirect("imports:progress", pk=job.pk)
    form = CommitForm(initial={"on_error": job.on_error})
    return render(
        request, "imports/report.html", {**NAV, "job": job, "report": job.report, "form": form}
    )


@require_POST
def commit(request, pk: int):
    job = _job(request, pk)
    form = CommitForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose what happens when a row has an error.")
        return redirect("imports:report", pk=job.pk)
    try:
        s.import_job_queue_commit(job=job, on_error=form.cleaned_data["on_error"])
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("imports:report", pk=job.pk)
    return redirect("imports:progress", pk=job.pk)


def progress(request, pk: int):
    job = _job(request, pk)
    processed = s.import_job_progress(job)
    total = job.total_rows or 0
    if job.status == ImportJob.Status.DONE:
        percent = 100
    else:
        percent = int(processed * 100 / total) if total else 0
    context = {
        **NAV,
        "job": job,
        "processed": processed,
        "total": total,
        "percent": percent,
        "polling": job.status in (ImportJob.Status.QUEUED, ImportJob.Status.RUNNING),
        "result": (job.report or {}).get("result"),
        "progress_url": reverse("imports:progress", args=[job.pk]),
    }
    template = "imports/_progress.html" if request.htmx else "imports/progress.html"
    return render(request, template, context)
