from django.core.exceptions import ValidationError
from django.urls import reverse

from deals.models import BuyerMilestone, Contact, DiscoveryCall, Need
from deals.services import discovery
from tests import factories as f


def url(deal):
    return reverse("deals:discovery_call_create", args=[deal.pk])


def management(prefix, total):
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def call_data(**extra):
    data = {
        "held_at": "2025-03-04T10:30",
        "summary": "They plan 400 trucks a day in a spreadsheet.",
        "next_step": "Nora books the security review",
        **management("attendees", 0),
        **management("needs", 2),
        **management("milestones", 1),
        "needs-0-kind": "problem",
        "needs-0-statement": "Planning takes three hours",
        "needs-0-importance": "5",
        "needs-0-confirmed_by_buyer": "on",
        "needs-1-kind": "goal",
        "needs-1-statement": "Drivers see routes on their phone",
        "needs-1-importance": "4",
        "milestones-0-title": "Security review",
        "milestones-0-side": "buyer",
        "milestones-0-required_for_decision": "on",
        "milestones-0-due_date": "2025-04-01",
    }
    data.update(extra)
    return data


def test_form_opens_with_now_as_default_and_the_summary_focused(rep_client, deal):
    contact = f.ContactFactory(prospect=deal.prospect, name="Nora Lind")
    response = rep_client.get(url(deal))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'type="datetime-local" name="held_at" value="20' in html
    assert 'name="summary"' in html and "autofocus" in html
    assert f'value="{contact.pk}"' in html and "Nora Lind" in html
    assert 'id="needs-template"' in html and "needs-__prefix__-statement" in html


def test_logging_a_call_saves_needs_milestones_and_attendees_together(rep_client, deal):
    nora = f.ContactFactory(prospect=deal.prospect, name="Nora Lind")
    data = call_data(
        attendees=[nora.pk],
        **management("attendees", 1),
        **{"attendees-0-name": "Piet Jansen", "attendees-0-buying_role": "decision_maker"},
    )
    response = rep_client.post(url(deal), data)
    assert response.status_code == 302
    assert response["Location"] == reverse("deals:deal_detail", args=[deal.pk])
    call = DiscoveryCall.objects.get()
    assert call.next_step == "Nora books the security review"
    assert sorted(c.name for c in call.attendees.all()) == ["Nora Lind", "Piet Jansen"]
    needs = {n.statement: n for n in Need.objects.filter(deal=deal)}
    assert needs["Planning takes three hours"].importance == 5
    assert needs["Planning takes three hours"].confirmed_by_buyer is True
    assert needs["Drivers see routes on their phone"].confirmed_by_buyer is False
    milestone = BuyerMilestone.objects.get(deal=deal)
    assert milestone.required_for_decision and str(milestone.due_date) == "2025-04-01"
    follow = rep_client.get(response["Location"])
    assert "Discovery call logged with 2 needs and 1 milestone." in follow.content.decode()


def test_untouched_blank_rows_are_skipped(rep_client, deal):
    data = call_data(
        **management("needs", 3), **{"needs-2-kind": "problem", "needs-2-importance": "3"}
    )
    data["milestones-0-title"] = ""
    data["milestones-0-due_date"] = ""
    response = rep_client.post(url(deal), data)
    assert response.status_code == 302
    assert Need.objects.filter(deal=deal).count() == 2
    assert not BuyerMilestone.objects.exists()


def test_row_error_is_shown_on_its_row_and_nothing_is_saved(rep_client, deal):
    data = call_data(
        **management("attendees", 1),
        **{"attendees-0-name": "Piet Jansen", "attendees-0-buying_role": "user"},
    )
    data["needs-1-statement"] = ""  # a filled-in row without its statement
    data["held_at"] = "not a date"
    response = rep_client.post(url(deal), data)
    assert response.status_code == 400
    html = response.content.decode()
    assert "Nothing was saved" in html
    assert 'id="id_needs-1-statement_error"' in html
    assert 'id="id_held_at_error"' in html
    # the rep's input is kept
    assert "Planning takes three hours" in html and "Piet Jansen" in html
    assert not DiscoveryCall.objects.exists()
    assert not Need.objects.exists() and not Contact.objects.exists()


def test_an_error_from_the_service_rolls_back_new_contacts_too(rep_client, deal, monkeypatch):
    def refuse(**kwargs):
        raise ValidationError({"needs[1].statement": ["Say it in the buyer's words."]})

    # discovery_call_log calls it from its own module
    monkeypatch.setattr(discovery, "discovery_call_create", refuse)
    data = call_data(
        **management("attendees", 1),
        **{"attendees-0-name": "Piet Jansen", "attendees-0-buying_role": "user"},
    )
    response = rep_client.post(url(deal), data)
    assert response.status_code == 400
    html = response.content.decode()
    error_at = html.index("Say it in the buyer&#x27;s words.")
    assert html.rindex("needs-1-statement", 0, error_at) > html.rindex(
        "needs-0-statement", 0, error_at
    )
    assert not Contact.objects.exists()


def test_a_call_in_the_future_is_refused(rep_client, deal):
    response = rep_client.post(url(deal), call_data(held_at="2999-01-01T09:00"))
    assert response.status_code == 400
    assert "logged after it happens" in response.content.decode()
    assert not DiscoveryCall.objects.exists()


def test_other_rep_gets_404_and_manager_403(client, deal, other_rep, manager_user):
    client.force_login(other_rep)
    assert client.get(url(deal)).status_code == 404
    assert client.post(url(deal), call_data()).status_code == 404
    client.force_login(manager_user)
    assert client.get(url(deal)).status_code == 403
    assert client.post(url(deal), call_data()).status_code == 403
    assert not DiscoveryCall.objects.exists()
