from django.core.management.base import BaseCommand, CommandError

from winwin_crm.accounts.roles import ROLES
from winwin_crm.accounts.services import crm_user_create


class Command(BaseCommand):
    help = "Create a WinWin CRM user in a role (rep, manager, delivery) and a team."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", required=True, help=f"One of: {', '.join(ROLES)}")
        parser.add_argument("--team", required=True, help="Team name; created if missing.")
        parser.add_argument("--password", required=True)
        parser.add_argument("--email", default="")

    def handle(self, *args, username, role, team, password, email, **options):
        if role not in ROLES:
            raise CommandError(f"Unknown role {role!r}. Choose one of: {', '.join(ROLES)}.")
        try:
            user = crm_user_create(
                username=username, role=role, team_name=team, password=password, email=email
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"{user.username}: {role} in team {team!r}"))
