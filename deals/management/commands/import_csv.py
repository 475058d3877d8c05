"""python manage.py import_csv FILE --kind deals --team "Alpha sales" [--dry-run] …"""

import json
import sys
import time
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from deals.imports import parsing, profiles
from deals.imports import services as s
from deals.models import ImportJob
from winwin_crm.accounts.models import Team, User

BAR_WIDTH = 40


class Command(BaseCommand):
    help = (
        "Import a CSV of prospects, contacts or deals into a sales team: dry run, then one "
        "transaction. Exits non-zero when rows fail validation and nothing was written."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "file",
            nargs="+",
            help="The CSV file (or a zip of an export); more files (organizations, people) "
            "are joined to the first one holding --kind.",
        )
        parser.add_argument("--kind", required=True, choices=parsing.KINDS)
        parser.add_argument("--team", required=True, help="Name of the sales team.")
        parser.add_argument("--dry-run", action="store_true", help="Validate only; write nothing.")
        parser.add_argument(
            "--on-error",
            choices=ImportJob.OnError.values,
            default="abort",
            help="abort: any bad row writes nothing; skip: import valid rows.",
        )
        parser.add_argument(
            "--date-format",
            choices=list(parsing.DATE_FORMATS),
            default=None,
            help="Default: the recognised CRM's date order, else ISO.",
        )
        parser.add_argument(
            "--source",
            choices=profiles.SOURCE_CHOICES,
            default=profiles.AUTO,
            help="The CRM that wrote the file: auto (recognise it from the headers), generic, "
            "or one of the profiles.",
        )
        parser.add_argument(
            "--mapping",
            metavar="FILE.json",
            help='Column mapping {"file header": "our field" or ""}, over the recognised one.',
        )
        parser.add_argument(
            "--stage-map",
            metavar="FILE.json",
            help='Stage table {"stage in the file": "our stage"}, over the defaults.',
        )
        parser.add_argument(
            "--owner",
            help="Default owner (rep username) for deals whose owner matches no rep of the team.",
        )
        parser.add_argument("--user", help="Importing user (default: the team's manager).")
        parser.add_argument(
            "--no-update",
            action="store_true",
            help="Skip rows matching existing records instead of updating them.",
        )

    def handle(self, *args, **opts):
        paths = [Path(name) for name in opts["file"]]
        for path in paths:
            if not path.is_file():
                raise CommandError(f"No such file: {path}")
        path = paths[0]
        mapping = _json_object(opts.get("mapping"), "--mapping")
        stage_map = _json_object(opts.get("stage_map"), "--stage-map")
        bad = [v for v in (stage_map or {}).values() if v and v not in parsing.STAGE_LABELS]
        if bad:
            raise CommandError(
                f"--stage-map: unknown stage {bad[0]!r}; choose one of: "
                f"{', '.join(parsing.STAGE_LABELS)}."
            )
        team = Team.objects.filter(name=opts["team"], kind=Team.Kind.SALES).first()
        if team is None:
            raise CommandError(f"No sales team called {opts['team']!r}.")
        user = self._user(team, opts.get("user"))
        owner = None
        if opts.get("owner"):
            owner = s.team_reps(team).filter(username=opts["owner"]).first()
            if owner is None:
                raise CommandError(f"{opts['owner']!r} is not a rep of team {team}.")
        started = time.monotonic()
        try:
            job = s.import_job_create(
                user=user,
                file_name=path.name,
                raw=path.read_bytes(),
                extra_files=[(extra.name, extra.read_bytes()) for extra in paths[1:]],
                kind=opts["kind"],
                team=team,
                source=opts["source"],
                column_mapping=mapping,
                stage_mapping=stage_map,
                date_format=opts["date_format"],
                on_error=opts["on_error"],
                update_existing=not opts["no_update"],
                default_owner=owner,
            )
        except ValidationError as exc:
            raise CommandError(_messages(exc)) from None
        self._print_report(job.report, dry_run=opts["dry_run"])
        report = job.report
        if opts["dry_run"]:
            self.stdout.write(f"Dry run of job {job.pk}: nothing written.")
            if report["error_rows"]:
                raise CommandError(f"{report['error_rows']} row(s) have errors.")
            return
        if report["error_rows"] and job.on_error == ImportJob.OnError.ABORT:
            job.status = ImportJob.Status.FAILED
            job.error = "Validation failed; nothing was written."
            job.save(update_fields=["status", "error"])
            raise CommandError(
                f"{report['error_rows']} row(s) have errors; nothing was written "
                "(use --on-error skip to import the valid rows)."
            )
        job = s.import_job_commit(job_id=job.pk, progress=self._bar)
        self.stdout.write("")
        if job.status != ImportJob.Status.DONE:
            raise CommandError(job.error or f"Import ended as {job.status}.")
        result = job.report["result"]
        elapsed = time.monotonic() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported job {job.pk} in {elapsed:.1f} s: created {result['created']}, updated "
                f"{result['updated']}, skipped {result['skipped']}, left out {result['failed']}."
            )
        )

    def _user(self, team: Team, username: str | None) -> User:
        if username:
            user = User.objects.filter(username=username).first()
            if user is None:
                raise CommandError(f"No user called {username!r}.")
            return user
        user = team.manager or User.objects.filter(is_superuser=True).order_by("id").first()
        if user is None:
            raise CommandError("The team has no manager; name the importing user with --user.")
        return user

    def _bar(self, processed: int, total: int) -> None:
        fraction = processed / total if total else 1
        filled = int(BAR_WIDTH * fraction)
        bar = "#" * filled + "." * (BAR_WIDTH - filled)
        self.stdout.write(f"\r[{bar}] {fraction:6.1%} {processed:,}/{total:,}", ending="")
        if hasattr(self.stdout, "flush"):
            self.stdout.flush()
        elif sys.stdout.isatty():
            sys.stdout.flush()

    def _print_report(self, report: dict, dry_run: bool = False) -> None:
        for note in report.get("notes", []):
            self.stdout.write(note)
        if dry_run and report.get("preview"):
            self.stdout.write("First rows as they will be stored:")
            for entry in report["preview"]:
                self.stdout.write("  " + _preview_line(entry))
        actions = report["actions"]
        self.stdout.write(
            f"{report['total']} rows: {report['valid']} ok, {report['error_rows']} with errors; "
            f"would create {actions['create']}, update {actions['update']}, "
            f"skip {actions['skip']}."
        )
        for error in report["errors"][:20]:
            value = f" {error['value']!r}" if error["value"] else ""
            self.stderr.write(f"  row {error['row']}, {error['column']}{value}: {error['reason']}")
        more = len(report["errors"]) - 20 + report.get("errors_more", 0)
        if more > 0:
            self.stderr.write(f"  …and {more} more.")


def _messages(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return " ".join(f"{k}: {m}" for k, v in exc.message_dict.items() for m in v)
    return " ".join(exc.messages)


def _json_object(path: str | None, flag: str) -> dict | None:
    if not path:
        return None
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise CommandError(f"{flag}: no such file: {path}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise CommandError(f"{flag}: {path} is not JSON ({exc}).") from None
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, str | None) for k, v in data.items()
    ):
        raise CommandError(f'{flag}: {path} must hold one object {{"name": "name"}}.')
    return {k: v or "" for k, v in data.items()}


PREVIEW_KEYS = {
    "deals": (
        "title",
        "organization",
        "amount",
        "currency",
        "stage",
        "owner",
        "close_date",
        "closed_on",
    ),
    "prospects": ("name", "industry", "size", "website"),
    "contacts": ("name", "organization", "email", "phone"),
}


def _preview_line(entry: dict) -> str:
    kind = "deals" if "stage" in entry else "contacts" if "email" in entry else "prospects"
    parts = [f"row {entry['row']} {entry['action']}:"]
    for key in PREVIEW_KEYS[kind]:
        value = entry.get(key)
        if value:
            parts.append(f"{key.replace('_', ' ')}={value}")
    return " ".join(parts)
