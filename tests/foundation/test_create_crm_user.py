import pytest
from django.core.management import CommandError, call_command

from winwin_crm.accounts.models import Team, User
from winwin_crm.accounts.roles import roles_of


@pytest.mark.django_db
def test_creates_user_in_role_and_team_and_the_user_can_log_in(client):
    call_command("create_crm_user", "rita", role="rep", team="Alpha", password="pw-123-long!")
    user = User.objects.get(username="rita")
    assert roles_of(user) == {"rep"}
    team = Team.objects.get(name="Alpha")
    assert team.kind == Team.Kind.SALES
    assert user in team.members.all()
    assert client.login(username="rita", password="pw-123-long!")


@pytest.mark.django_db
def test_manager_becomes_the_teams_manager_and_delivery_gets_a_delivery_team():
    call_command("create_crm_user", "mona", role="manager", team="Alpha", password="pw")
    call_command("create_crm_user", "dana", role="delivery", team="Onboarding", password="pw")
    assert Team.objects.get(name="Alpha").manager.username == "mona"
    assert Team.objects.get(name="Onboarding").kind == Team.Kind.DELIVERY


@pytest.mark.django_db
def test_running_twice_is_harmless():
    for _ in range(2):
        call_command("create_crm_user", "rita", role="rep", team="Alpha", password="pw")
    assert User.objects.filter(username="rita").count() == 1
    assert Team.objects.filter(name="Alpha").count() == 1


@pytest.mark.django_db
def test_unknown_role_is_a_clear_error_and_creates_nothing():
    with pytest.raises(CommandError, match="Unknown role 'boss'"):
        call_command("create_crm_user", "bob", role="boss", team="Alpha", password="pw")
    assert not User.objects.filter(username="bob").exists()
    assert not Team.objects.exists()


@pytest.mark.django_db
def test_bad_role_exits_non_zero_from_the_command_line():
    import subprocess
    import sys

    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "create_crm_user",
            "bob",
            "--role",
            "boss",
            "--team",
            "A",
            "--password",
            "pw",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "Unknown role" in result.stderr


@pytest.mark.django_db
def test_delivery_user_cannot_join_a_sales_team():
    call_command("create_crm_user", "rita", role="rep", team="Alpha", password="pw")
    with pytest.raises(CommandError, match="sales team"):
        call_command("create_crm_user", "dana", role="delivery", team="Alpha", password="pw")
    assert not User.objects.filter(username="dana").exists()
