"""Item 9: an install wired from the command line can hand off: create_crm_user
--delivery-team (or team_link) links the teams, and a refusal offers the one fix."""

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from deals import services as deal_services
from deals.models import Deal
from handoff import services
from tests import factories as f
from tests.handoff.conftest import tick_all
from winwin_crm.accounts.models import Team, User

pytestmark = pytest.mark.django_db


def _won_deal(rep: User) -> Deal:
    team = Team.objects.get(members=rep, kind=Team.Kind.SALES)
    deal = f.DealFactory(owner=rep, team=team, prospect=f.ProspectFactory(team=team))
    f.LineItemFactory(deal=deal)
    # Closing over an open concern (here: nothing disclosed) is confirmed with a reason.
    deal_services.deal_change_stage(
        deal=deal, user=rep, stage=Deal.Stage.CLOSED_WON, confirm=True, reason="Signed"
    )
    return deal


def test_a_rep_created_with_a_delivery_team_can_hand_off_their_first_won_deal():
    call_command("create_crm_user", "dana", role="delivery", team="Onboarding", password="pw")
    call_command(
        "create_crm_user", "rita", role="rep", team="Sales", password="pw",
        delivery_team="Onboarding",
    )  # fmt: skip
    assert Team.objects.get(name="Sales").default_delivery_team.name == "Onboarding"
    rita = User.objects.get(username="rita")
    handoff = _won_deal(rita).handoff
    tick_all(handoff)
    submitted = services.handoff_submit(handoff=handoff, user=rita)
    assert submitted.status == "submitted" and submitted.delivery_team.name == "Onboarding"


def test_without_a_link_the_refusal_names_the_only_delivery_team_and_the_command():
    call_command("create_crm_user", "dana", role="delivery", team="Onboarding", password="pw")
    call_command("create_crm_user", "rita", role="rep", team="Sales", password="pw")
    rita = User.objects.get(username="rita")
    handoff = _won_deal(rita).handoff
    tick_all(handoff)
    with pytest.raises(ValidationError) as refused:
        services.handoff_submit(handoff=handoff, user=rita)
    message = refused.value.message_dict["delivery_team"][0]
    assert "“Onboarding” is the only delivery team" in message
    assert "manage.py team_link Sales Onboarding" in message

    call_command("team_link", "Sales", "Onboarding")  # what the refusal offered
    submitted = services.handoff_submit(handoff=handoff, user=rita)
    assert submitted.delivery_team.name == "Onboarding"


def test_delivery_team_option_and_team_link_refuse_the_wrong_kinds_of_team():
    call_command("create_crm_user", "rita", role="rep", team="Sales", password="pw")
    with pytest.raises(CommandError, match="sales team, not a delivery team"):
        call_command("team_link", "Sales", "Sales")
    with pytest.raises(CommandError, match="for sales roles"):
        call_command(
            "create_crm_user", "dana", role="delivery", team="Ops", password="pw",
            delivery_team="Ops",
        )  # fmt: skip
