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
        parser.add_argument(
            "--delivery-team",
            default="",
            help="Sales roles: hand this team's won deals to this delivery team (created if "
            "missing).",
        )

    def handle(self, *args, username, role, team, password, email, delivery_team, **options):
        if role not in ROLES:
            raise CommandError(f"Unknown role {role!r}. Choose one of: {', '.join(ROLES)}.")
        try:
            user = crm_user_create(
                username=username,
                role=role,
                team_name=team,
                password=password,
                email=email,
                delivery_team_name=delivery_team,
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        linked = f", handing off to {delivery_team!r}" if delivery_team else ""
        self.stdout.write(self.style.SUCCESS(f"{user.username}: {role} in team {team!r}{linked}"))
