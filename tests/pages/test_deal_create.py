from django.urls import reverse

from deals.models import Contact, Deal, Prospect
from tests import factories as f

URL = reverse("deals:deal_create")


def test_new_prospect_contact_and_deal_in_one_go(rep_client, rep_user, team):
    response = rep_client.post(
        URL,
        {
            "prospect_name": "Northwind Logistics",
            "prospect_industry": "Logistics",
            "contact_name": "Nora Lind",
            "contact_role": "champion",
            "title": "Dispatch automation",
            "expected_close_date": "2031-03-01",
            "currency": "eur",
        },
    )
    deal = Deal.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("deals:deal_detail", args=[deal.pk])
    assert deal.title == "Dispatch automation"
    assert deal.owner == rep_user and deal.team == team
    assert deal.currency == "EUR"
    assert deal.prospect.name == "Northwind Logistics" and deal.prospect.team == team
    assert Contact.objects.get().name == "Nora Lind"


def test_create_and_go_straight_to_the_discovery_call(rep_client):
    response = rep_client.post(
        URL, {"prospect_name": "Acme", "title": "Scanners", "currency": "USD", "then": "discovery"}
    )
    deal = Deal.objects.get()
    assert response["Location"] == reverse("deals:discovery_call_create", args=[deal.pk])


def test_deal_for_an_existing_prospect_of_my_team(rep_client, team):
    prospect = f.ProspectFactory(team=team, name="Existing Co")
    response = rep_client.post(
        URL, {"prospect": prospect.pk, "title": "Renewal", "currency": "USD"}
    )
    assert response.status_code == 302
    assert Deal.objects.get().prospect == prospect
    assert Prospect.objects.count() == 1


def test_prospect_of_another_team_cannot_be_picked(rep_client, other_team):
    foreign = f.ProspectFactory(team=other_team, name="Not yours")
    response = rep_client.post(URL, {"prospect": foreign.pk, "title": "Sneaky", "currency": "USD"})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert not Deal.objects.exists()
    assert "Not yours" not in rep_client.get(URL).content.decode()


def test_missing_fields_show_errors_and_save_nothing(rep_client):
    response = rep_client.post(URL, {"currency": "US1", "contact_email": "nora@example.com"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Nothing was saved" in html
    assert "Name the new prospect, or pick an existing one." in html
    assert "Use a three-letter ISO code" in html
    assert "Give the contact&#x27;s name." in html
    assert "This field is required." in html  # the deal title
    assert not Prospect.objects.exists() and not Deal.objects.exists()


def test_page_renders_with_the_prospect_name_focused(rep_client):
    html = rep_client.get(URL).content.decode()
    assert 'name="prospect_name"' in html
    assert "autofocus" in html


def test_managers_do_not_own_deals(client, manager_user):
    client.force_login(manager_user)
    assert client.get(URL).status_code == 403
    assert (
        client.post(URL, {"prospect_name": "X", "title": "Y", "currency": "USD"}).status_code == 403
    )
    assert not Deal.objects.exists()
