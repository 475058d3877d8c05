"""python manage.py recompute_health --all | --deal ID"""

import sys
import time

from django.core.management.base import BaseCommand, CommandError

from deals.health import health_recompute, health_sweep

BAR_WIDTH = 30


class Command(BaseCommand):
    help = "Recompute deal health now: one deal, or every deal with a progress bar."

    def add_arguments(self, parser):
        group = parser.add_mutually_exclusive_group(required=True)
        group.add_argument("--all", action="store_true", help="Every deal, in batches.")
        group.add_argument("--deal", type=int, metavar="ID", help="One deal by id.")
        parser.add_argument("--batch-size", type=int, default=None, help="Deals per batch.")

    def handle(self, *args, **options):
        if options["deal"] is not None:
            result = health_recompute(deal_id=options["deal"])
            if result is None:
                raise CommandError(f"No deal with id {options['deal']}.")
            codes = ", ".join(f.code for f in result.flags) or "no flags"
            self.stdout.write(
                f"Deal {result.deal_id}: buyer {result.buyer_score}, seller "
                f"{result.seller_score}, {result.balance} ({codes})"
            )
            return

        started = time.monotonic()
        interactive = sys.stdout.isatty()

        def progress(done: int, total: int) -> None:
            if not interactive:
                return
            share = done / total if total else 1
            filled = int(share * BAR_WIDTH)
            rate = done / max(time.monotonic() - started, 1e-6)
            bar = "#" * filled + "." * (BAR_WIDTH - filled)
            self.stdout.write(
                f"\r[{bar}] {share:6.1%} {done}/{total} deals, {rate:,.0f}/s", ending=""
            )
            self.stdout.flush()

        kwargs = {"all_deals": True, "progress": progress}
        if options["batch_size"]:
            kwargs["batch_size"] = options["batch_size"]
        processed = health_sweep(**kwargs)
        if interactive:
            self.stdout.write("")
        elapsed = time.monotonic() - started
        self.stdout.write(self.style.SUCCESS(f"Recomputed {processed} deals in {elapsed:.1f} s."))
