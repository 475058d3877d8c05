"""Selectors decide who sees what; API and pages both read through them."""

import pytest
from django.http import Http404

from deals import selectors
from deals.models import Deal
from tests import factories as f


@pytest.fixture
def deal(rep_user, team):
    return f.DealFactory(owner=rep_user, team=team)


def test_rep_lists_only_deals_they_own(deal, rep_user, other_rep, team):
    f.DealFactory(owner=other_rep, team=team)
    assert list(selectors.deal_list(user=rep_user)) == [deal]


def test_manager_lists_their_teams_deals_only(deal, manager_user, other_manager, other_team):
    theirs = f.DealFactory(team=other_team)
    assert list(selectors.deal_list(user=manager_user)) == [deal]
    assert list(selectors.deal_list(user=other_manager)) == [theirs]


def test_delivery_lists_only_won_deals_handed_to_their_team(
    deal, delivery_user, delivery_team, rep_user, team
):
    assert list(selectors.deal_list(user=delivery_user)) == []
    Deal.objects.filter(pk=deal.pk).update(stage="closed_won")
    f.HandoffFactory(deal=deal, delivery_team=delivery_team)
    f.HandoffFactory(deal=f.DealFactory(owner=rep_user, team=team, stage="closed_won"))
    assert list(selectors.deal_list(user=delivery_user)) == [deal]


def test_admin_sees_everything(deal, admin_user, other_team):
    other = f.DealFactory(team=other_team)
    assert set(selectors.deal_list(user=admin_user)) == {deal, other}


def test_deal_get_of_an_invisible_or_malformed_id_is_404(deal, other_rep, rep_user):
    assert selectors.deal_get(user=rep_user, deal_id=deal.id) == deal
    with pytest.raises(Http404):
        selectors.deal_get(user=other_rep, deal_id=deal.id)
    with pytest.raises(Http404):
        selectors.deal_get(user=rep_user, deal_id="12abc")


def test_children_are_visible_exactly_when_their_deal_is(deal, rep_user, other_rep):
    children = {
        selectors.line_item_list: f.LineItemFactory(deal=deal),
        selectors.milestone_list: f.BuyerMilestoneFactory(deal=deal),
        selectors.activity_list: f.ActivityFactory(deal=deal),
        selectors.concession_list: f.ConcessionFactory(deal=deal),
        selectors.commitment_list: f.CommitmentFactory(deal=deal),
        selectors.disclosure_list: f.DisclosureFactory(deal=deal),
        selectors.discovery_call_list: f.DiscoveryCallFactory(deal=deal),
        selectors.need_list: f.NeedFactory(deal=deal),
    }
    for selector, child in children.items():
        assert list(selector(user=rep_user)) == [child], selector.__name__
        assert list(selector(user=other_rep)) == [], selector.__name__


def test_prospects_and_contacts_follow_the_team(rep_user, team, other_team):
    mine = f.ProspectFactory(team=team)
    theirs = f.ProspectFactory(team=other_team)
    contact = f.ContactFactory(prospect=mine)
    f.ContactFactory(prospect=theirs)
    assert list(selectors.prospect_list(user=rep_user)) == [mine]
    assert list(selectors.contact_list(user=rep_user)) == [contact]


def test_prospect_level_need_is_visible_to_the_prospects_team(rep_user, team, other_rep):
    need = f.NeedFactory(deal=None, prospect=f.ProspectFactory(team=team))
    outsider = f.rep(f.TeamFactory(name="Gamma sales"))
    assert list(selectors.need_list(user=rep_user)) == [need]
    assert list(selectors.need_list(user=other_rep)) == [need]  # same team
    assert list(selectors.need_list(user=outsider)) == []


def test_deal_list_is_joined_for_the_list(deal, rep_user, django_assert_num_queries):
    deals = list(selectors.deal_list(user=rep_user))
    with django_assert_num_queries(0):
        assert [(d.prospect.name, d.owner.username, d.team.name) for d in deals] == [
            (deal.prospect.name, rep_user.username, deal.team.name)
        ]


def test_history_lists_changes_newest_first_with_old_and_new(deal, rep_user):
    from deals import services

    services.deal_update(deal=deal, user=rep_user, title="Renamed")
    entries = selectors.deal_history(deal=deal)
    assert [e["action"] for e in entries] == ["changed", "created"]
    assert entries[0]["username"] == rep_user.username
    assert entries[0]["changes"] == [
        {"field": "title", "old": entries[1]["object_repr"], "new": "Renamed"},
        {"field": "version", "old": 1, "new": 2},
    ]


def test_history_limited_in_sql_shows_the_same_newest_changes(
    deal, rep_user, django_assert_num_queries
):
    from decimal import Decimal

    from deals import services

    for n in range(4):
        services.deal_update(deal=deal, user=rep_user, title=f"Renamed {n}")
    item = services.line_item_create(
        deal=deal,
        user=rep_user,
        name="Licence",
        quantity=Decimal("1"),
        unit_list_price=Decimal("10"),
        unit_price=Decimal("10"),
    )
    services.line_item_update(line_item=item, user=rep_user, quantity=Decimal("2"))
    full = selectors.deal_history(deal=deal)
    with django_assert_num_queries(4):  # one statement per history table, however long
        limited = selectors.deal_history(deal=deal, limit=3)
    assert limited == full[:3]
    # The oldest change shown is still the difference to the record before it.
    assert all(e["changes"] for e in limited)


def test_history_limited_reads_every_table_like_the_full_history(
    deal, rep_user, django_assert_num_queries
):
    """The page's history (limit, one written-out query per table) is the newest part of
    the full history, across all four tables, deletions and edits included."""
    from decimal import Decimal

    from deals import services

    item = services.line_item_create(
        deal=deal,
        user=rep_user,
        name="Licence",
        quantity=Decimal("1"),
        unit_list_price=Decimal("10"),
        unit_price=Decimal("10"),
    )
    services.line_item_update(line_item=item, user=rep_user, unit_price=Decimal("9.50"))
    concession = services.concession_add(
        deal=deal,
        user=rep_user,
        kind="value_add",
        description="Onboarding",
        amount=Decimal("0"),
        cost_to_seller=Decimal("120.00"),
    )
    services.concession_update(concession=concession, user=rep_user, description="Training")
    commitment = services.commitment_add(deal=deal, user=rep_user, description="Call weekly")
    services.commitment_update(commitment=commitment, user=rep_user, description="Call daily")
    services.deal_update(deal=deal, user=rep_user, title="Renamed")
    services.line_item_delete(line_item=item, user=rep_user)
    full = selectors.deal_history(deal=deal)
    assert {e["model"] for e in full} == {"deal", "line_item", "concession", "commitment"}
    assert "deleted" in {e["action"] for e in full}
    for limit in (1, 2, 5, len(full), len(full) + 3):
        with django_assert_num_queries(4):
            limited = selectors.deal_history(deal=deal, limit=limit)
        assert limited == full[:limit]
    price = next(e for e in full if e["action"] == "changed" and e["model"] == "line_item")
    assert {"field": "unit_price", "old": "10.00", "new": "9.50"} in price["changes"]
    assert price["username"] == rep_user.username


def test_deal_page_says_who_may_change_it_and_hides_others_deals(deal, rep_user, other_rep):
    from django.http import Http404

    page = selectors.deal_page(user=rep_user, deal_id=deal.pk)
    assert page.deal == deal and page.can_edit
    with pytest.raises(Http404):
        selectors.deal_page(user=other_rep, deal_id=deal.pk)


def test_deal_list_filters_through_the_api_filterset_and_names_a_bad_parameter(deal, rep_user):
    from django.core.exceptions import ValidationError

    assert list(selectors.deal_list(user=rep_user, filters={"is_open": "true"})) == [deal]
    assert not selectors.deal_list(user=rep_user, filters={"scored": "true"}).exists()
    with pytest.raises(ValidationError) as refused:
        selectors.deal_list(user=rep_user, filters={"stage": ["nonsense"]})
    assert "stage" in refused.value.message_dict
