"""`python manage.py seed_demo [--deals N] [--seed S] [--reset]`: the demo, idempotently."""

from django.core.management.base import BaseCommand, CommandError

from deals import demo
from winwin_crm.accounts.services import crm_user_create

# Kept here too: other code and docs refer to them by these names.
DEMO_PASSWORD = demo.DEMO_PASSWORD
DEMO_USERS = demo.DEMO_USERS


class Command(BaseCommand):
    help = (
        "Create the demo users and the demo: the named stories plus generated deals "
        "(default 40; --deals 100000 for a benchmark-sized database). Idempotent: what is "
        "there is kept, a larger --deals adds only the missing deals; --reset starts over."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--deals",
            type=int,
            default=demo.SMALL_DEMO_DEALS,
            help=f"Generated deals on top of the stories (default {demo.SMALL_DEMO_DEALS}).",
        )
        parser.add_argument("--seed", type=int, default=demo.DEFAULT_SEED)
        parser.add_argument(
            "--reset", action="store_true", help="Delete the demo deals and prospects first."
        )
        parser.add_argument(
            "--no-health",
            action="store_true",
            help="Skip computing health and writing its history after generating.",
        )

    def handle(self, *args, deals, seed, reset, no_health, **options):
        if deals < 0:
            raise CommandError("--deals must be zero or more.")
        for username, role, team in DEMO_USERS:
            crm_user_create(username=username, role=role, team_name=team, password=DEMO_PASSWORD)
        report = demo.demo_seed(
            deals=deals,
            seed=seed,
            reset=reset,
            progress=deals > 1000,
            with_health=not no_health,
            out=self.stderr._out,
        )
        if not report.deals_created:
            self.stdout.write(
                f"Demo data is already there ({report.deals_total:,} deals); nothing added. "
                "Use --reset to start over or a larger --deals to add more."
            )
        else:
            self.stdout.write(
                f"Demo: {report.deals_created:,} deals added "
                f"({report.deals_total:,} in total) in {report.seconds:.1f}s."
            )
        for note in report.notes:
            self.stdout.write(f"  {note}")
        self.stdout.write(f"Demo users (password: {DEMO_PASSWORD}):")
        for username, role, team in DEMO_USERS:
            self.stdout.write(f"  {username:<8} {role:<9} {team}")
        self.stdout.write("Stories to open:")
        for key, title in demo.STORIES.items():
            self.stdout.write(f"  {title:<52} {demo.STORY_BLURBS[key]}")
