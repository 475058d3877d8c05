"""A deal with a buyer contact and a live buyer-room link, and helpers to use it."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from deals.buyer_room import services
from deals.models import Activity, BuyerMilestone, Contact, Deal
from tests import factories as f


@pytest.fixture
def room_deal(team, rep_user):
    deal = f.DealFactory(
        team=team,
        owner=rep_user,
        title="Northwind onboarding",
        stage=Deal.Stage.PROPOSAL,
        list_total=Decimal("1000.00"),
        net_total=Decimal("900.00"),
        cost_total=Decimal("400.00"),
    )
    need = f.NeedFactory(deal=deal, statement="Onboard a customer in a week", importance=5)
    f.NeedFactory(deal=deal, statement="Fewer tickets", importance=2, confirmed_by_buyer=False)
    f.LineItemFactory(
        deal=deal,
        name="Platform licence",
        quantity=Decimal("10"),
        unit_list_price=Decimal("100.00"),
        unit_price=Decimal("90.00"),
        unit_cost=Decimal("40.00"),
        needs=[need],
    )
    f.BuyerMilestoneFactory(deal=deal, title="Security review", side=BuyerMilestone.Side.BUYER)
    f.BuyerMilestoneFactory(deal=deal, title="Send the contract", side=BuyerMilestone.Side.SELLER)
    f.DisclosureFactory(deal=deal, description="No on-premise deployment.")
    f.CommitmentFactory(deal=deal, description="Migrate their historical data")
    f.DiscoveryCallFactory(deal=deal, next_step="They share the security questionnaire.")
    return deal


@pytest.fixture
def buyer(room_deal):
    return f.ContactFactory(
        prospect=room_deal.prospect,
        name="Bea Buyer",
        email="bea@buyer.example.com",
        buying_role=Contact.BuyingRole.CHAMPION,
    )


@pytest.fixture
def share_and_token(room_deal, buyer, rep_user):
    return services.buyer_share_create(deal=room_deal, contact=buyer, user=rep_user)


@pytest.fixture
def token(share_and_token):
    return share_and_token[1]


@pytest.fixture
def share(share_and_token):
    return share_and_token[0]


@pytest.fixture
def meeting(room_deal):
    return f.ActivityFactory(
        deal=room_deal,
        kind=Activity.Kind.MEETING,
        occurred_at=timezone.now() - dt.timedelta(hours=3),
        notes="Demo of the onboarding flow.",
    )


def room_url(token: str, name: str = "room", *args) -> str:
    return reverse(f"buyer_room:{name}", args=[token, *args])


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """`with committed():` runs what the block queued on commit (emails, the health
    recompute) at its end, as a real commit would."""

    def run():
        return django_capture_on_commit_callbacks(execute=True)

    return run


@pytest.fixture
def post(client, committed):
    """post(url, data) as the buyer's browser, with the on-commit work run."""

    def do(url, data=None):
        with committed():
            return client.post(url, data or {})

    return do
