"""Item 7: only reps with an open deal at a prospect (and admins) change it and its
contacts; managers read; history is kept; a contact the record depends on is kept."""

import pytest

from deals import services
from deals.models import Contact, Deal, Prospect
from handoff.services import handoff_create_for_deal
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def prospect(team):
    return f.ProspectFactory(team=team, name="Acme")


@pytest.fixture
def contact(prospect):
    return f.ContactFactory(prospect=prospect, name="Ann")


@pytest.fixture
def open_deal(rep_user, team, prospect):
    return f.DealFactory(owner=rep_user, team=team, prospect=prospect)


def test_a_rep_of_the_team_without_a_deal_there_reads_but_cannot_change(
    api_as, other_rep, prospect, contact, open_deal
):
    client = api_as(other_rep)
    assert client.get(f"/api/v1/prospects/{prospect.id}/").status_code == 200
    assert client.patch(f"/api/v1/prospects/{prospect.id}/", {"name": "X"}).status_code == 403
    assert client.patch(f"/api/v1/contacts/{contact.id}/", {"name": "X"}).status_code == 403
    assert client.delete(f"/api/v1/contacts/{contact.id}/").status_code == 403
    created = client.post("/api/v1/contacts/", {"prospect": prospect.id, "name": "Spy"})
    assert created.status_code == 403
    prospect.refresh_from_db()
    contact.refresh_from_db()
    assert (prospect.name, contact.name) == ("Acme", "Ann")


def test_managers_are_read_only_on_prospects_and_contacts(
    api_as, manager_user, team, prospect, contact, open_deal
):
    client = api_as(manager_user)
    assert client.get(f"/api/v1/contacts/{contact.id}/").status_code == 200
    assert client.patch(f"/api/v1/prospects/{prospect.id}/", {"name": "X"}).status_code == 403
    assert client.patch(f"/api/v1/contacts/{contact.id}/", {"name": "X"}).status_code == 403
    made = client.post("/api/v1/prospects/", {"name": "New Co", "team": team.id})
    assert made.status_code == 403
    assert not Prospect.objects.filter(name="New Co").exists()


def test_the_rep_with_an_open_deal_and_an_admin_edit_and_history_says_who(
    api_as, rep_user, admin_user, prospect, contact, open_deal
):
    assert (
        api_as(rep_user).patch(f"/api/v1/contacts/{contact.id}/", {"title": "CFO"}).status_code
        == 200
    )
    assert (
        api_as(admin_user)
        .patch(f"/api/v1/prospects/{prospect.id}/", {"industry": "Retail"})
        .status_code
        == 200
    )
    change = contact.history.latest()
    assert (change.history_user, change.title) == (rep_user, "CFO")
    assert change.prev_record.title == "Head of Operations"  # what it was
    assert prospect.history.latest().history_user == admin_user


def test_a_closed_deal_no_longer_lets_its_rep_edit(api_as, rep_user, prospect, contact, open_deal):
    Deal.objects.filter(pk=open_deal.pk).update(stage=Deal.Stage.CLOSED_LOST)
    response = api_as(rep_user).patch(f"/api/v1/contacts/{contact.id}/", {"title": "CFO"})
    assert response.status_code == 403


def test_a_contact_a_call_or_a_handoff_package_names_cannot_be_deleted(
    api_as, rep_user, team, prospect, contact, open_deal, delivery_team
):
    client = api_as(rep_user)
    call = f.DiscoveryCallFactory(deal=open_deal)
    call.attendees.add(contact)
    refused = client.delete(f"/api/v1/contacts/{contact.id}/")
    assert refused.status_code == 400
    assert "1 discovery call" in str(refused.json())
    call.attendees.clear()

    won = f.DealFactory(owner=rep_user, team=team, prospect=prospect, stage="closed_won")
    handoff = handoff_create_for_deal(deal=won, user=rep_user)
    handoff.package = {"contacts": [{"id": contact.id, "name": contact.name}]}
    handoff.snapshot_at = won.created_at
    handoff.save()
    refused = client.delete(f"/api/v1/contacts/{contact.id}/")
    assert refused.status_code == 400 and "handoff package" in str(refused.json())

    free = f.ContactFactory(prospect=prospect, name="Nobody refers to me")
    assert client.delete(f"/api/v1/contacts/{free.id}/").status_code == 204
    assert list(Contact.objects.filter(prospect=prospect).values_list("name", flat=True)) == ["Ann"]
    assert Contact.history.filter(id=free.id, history_type="-").exists()


def test_the_new_deal_form_still_writes_prospect_contact_and_deal(rep_user, team):
    # The page's order: a new prospect, its deal, then its first contact.
    prospect = services.prospect_create(user=rep_user, name="Fresh Co")
    deal = services.deal_create(user=rep_user, prospect=prospect, title="First")
    services.contact_create(user=rep_user, prospect=prospect, name="First Contact")
    assert deal.prospect.contacts.count() == 1
