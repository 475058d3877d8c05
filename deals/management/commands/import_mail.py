"""`manage.py import_mail FILE`: log .eml, .mbox or .ics files as activities."""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from deals.mail.imports import mail_import
from deals.mail.sources import file_kind, raw_messages
from deals.mail.types import MailUnreadable
from winwin_crm.accounts.models import User


class Command(BaseCommand):
    help = (
        "Import mail and calendar files. Each message is matched as its sender's CRM user "
        "(else the first CRM user among its recipients) would see the deals."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", metavar="FILE")
        parser.add_argument("--user", help="import every message as this username")
        parser.add_argument("--deal", type=int, help="log every message on this deal id")
        parser.add_argument(
            "--workers", type=int, default=1, help="threads storing messages in parallel"
        )

    def handle(
        self, *args, files: list[str], user: str | None, deal: int | None, workers: int, **options
    ):
        owner = None
        if user:
            owner = User.objects.filter(username=user, is_active=True).first()
            if owner is None:
                raise CommandError(f"No active user {user!r}.")
        failed = False
        for path in files:
            try:
                kind = file_kind(path)
            except MailUnreadable as exc:
                raise CommandError(str(exc)) from exc
            summary = mail_import(
                messages=raw_messages(path, kind),
                channel="import",
                user=owner,
                deal_id=deal,
                workers=workers,
            )
            counts = ", ".join(f"{k} {v}" for k, v in sorted(summary.counts.items()))
            self.stdout.write(f"{path}: {summary.total} messages ({counts or 'none'})")
            for error in summary.errors:
                self.stderr.write(f"  {error}")
            failed = failed or bool(summary.errors)
        if failed:
            raise CommandError("Some messages were not imported (listed above).")
