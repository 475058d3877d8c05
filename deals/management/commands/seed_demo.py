from django.core.management.base import BaseCommand

from winwin_crm.accounts.services import crm_user_create

DEMO_PASSWORD = "winwin-demo"
DEMO_USERS = [
    ("rita", "rep", "Northwind Sales"),
    ("sam", "rep", "Northwind Sales"),
    ("mona", "manager", "Northwind Sales"),
    ("dana", "delivery", "Customer Success"),
]


class Command(BaseCommand):
    help = "Create demo users for each role (idempotent)."

    def handle(self, *args, **options):
        for username, role, team in DEMO_USERS:
            crm_user_create(username=username, role=role, team_name=team, password=DEMO_PASSWORD)
        self.stdout.write(f"Demo users (password: {DEMO_PASSWORD}):")
        for username, role, team in DEMO_USERS:
            self.stdout.write(f"  {username:<8} {role:<9} {team}")
