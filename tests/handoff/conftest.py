"""Handoffs at every stage of the workflow, on a deal with a full package."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from deals.models import BuyerMilestone, Commitment, Concession, Contact, Deal, Disclosure, Need
from handoff import services
from tests import factories as f


@pytest.fixture
def won_deal(team, rep_user, delivery_team):
    deal = f.DealFactory(
        team=team,
        owner=rep_user,
        title="Acme onboarding platform",
        stage=Deal.Stage.CLOSED_WON,
        closed_at=timezone.now(),
        notes_for_delivery="Their champion prefers calls on Tuesdays.",
        list_total=Decimal("1000.00"),
        net_total=Decimal("900.00"),
        cost_total=Decimal("400.00"),
    )
    critical = f.NeedFactory(
        deal=deal, statement="Onboard a customer in a week", importance=5, kind=Need.Kind.GOAL
    )
    f.NeedFactory(
        deal=deal,
        statement="Fewer support tickets",
        importance=2,
        kind=Need.Kind.PROBLEM,
        confirmed_by_buyer=False,
    )
    f.LineItemFactory(deal=deal, name="Platform licence", needs=[critical])
    f.CommitmentFactory(
        deal=deal,
        description="Migrate their historical data",
        due_date=timezone.localdate() + dt.timedelta(days=20),
        owner=rep_user,
    )
    f.CommitmentFactory(
        deal=deal, description="Send the signed contract", status=Commitment.Status.DONE
    )
    f.DisclosureFactory(
        deal=deal, kind=Disclosure.Kind.LIMITATION, description="No on-premise deployment."
    )
    f.ConcessionFactory(
        deal=deal,
        kind=Concession.Kind.VALUE_ADD,
        description="6 extra months of support",
        in_exchange_for="Two-year term",
    )
    f.ContactFactory(
        prospect=deal.prospect, name="Jo Buyer", buying_role=Contact.BuyingRole.DECISION_MAKER
    )
    f.BuyerMilestoneFactory(deal=deal, title="Kickoff workshop", side=BuyerMilestone.Side.SELLER)
    f.BuyerMilestoneFactory(deal=deal, title="Security review", completed_at=timezone.now())
    return deal


def tick_all(handoff):
    handoff.checklist.update(checked_at=timezone.now())


def make_draft(deal):
    return services.handoff_create_for_deal(deal=deal, user=deal.owner)


def make_submitted(deal):
    handoff = make_draft(deal)
    tick_all(handoff)
    return services.handoff_submit(handoff=handoff, user=deal.owner)


def make_claimed(deal, delivery_user):
    return services.handoff_claim(handoff=make_submitted(deal), user=delivery_user)


def make_needs_info(deal, delivery_user):
    return services.handoff_ask(
        handoff=make_claimed(deal, delivery_user),
        user=delivery_user,
        question="Who is the kickoff contact?",
    )


def make_accepted(deal, delivery_user):
    return services.handoff_accept(handoff=make_claimed(deal, delivery_user), user=delivery_user)


@pytest.fixture
def draft(won_deal):
    return make_draft(won_deal)


@pytest.fixture
def submitted(won_deal):
    return make_submitted(won_deal)


@pytest.fixture
def claimed(won_deal, delivery_user):
    return make_claimed(won_deal, delivery_user)


@pytest.fixture
def needs_info(won_deal, delivery_user):
    return make_needs_info(won_deal, delivery_user)


@pytest.fixture
def accepted(won_deal, delivery_user):
    return make_accepted(won_deal, delivery_user)


@pytest.fixture
def teammate(delivery_team):
    """Another member of the same delivery team (did not claim it)."""
    return f.delivery(delivery_team, username="tom_teammate")


@pytest.fixture
def outsider_delivery(db):
    """A delivery user of another delivery team: must not see the handoff."""
    return f.delivery(f.DeliveryTeamFactory(name="Gamma delivery"), username="olga_outsider")
