from django.core.management.base import BaseCommand, CommandError

from winwin_crm.accounts.services import team_link


class Command(BaseCommand):
    help = "Hand a sales team's closed-won deals to a delivery team (created if missing)."

    def add_arguments(self, parser):
        parser.add_argument("sales_team")
        parser.add_argument("delivery_team")

    def handle(self, *args, sales_team: str, delivery_team: str, **options) -> None:
        try:
            team_link(sales_team_name=sales_team, delivery_team_name=delivery_team)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(f"{sales_team!r} hands its won deals to {delivery_team!r}.")
        )
