"""The deal page's inline writes, through htmx requests and as plain form posts."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from deals.models import (
    Activity,
    BuyerMilestone,
    Commitment,
    Concession,
    Deal,
    Disclosure,
    LineItem,
    Need,
)
from tests import factories as f


def u(name, deal, *args):
    return reverse(f"deals:{name}", args=[deal.pk, *args])


# --- needs and proposal items ----------------------------------------------------------------


def test_adding_a_need_answers_with_the_section_and_refreshes_health(rep_client, deal, htmx):
    response = rep_client.post(
        u("need_add", deal),
        {"need-kind": "goal", "need-statement": "Halve planning time", "need-importance": "5"},
        **htmx,
    )
    assert response.status_code == 200
    assert response["HX-Trigger"] == "dealChanged"
    html = response.content.decode()
    assert html.startswith('<section class="card" id="section-needs">')
    assert "Halve planning time" in html
    assert 'id="flash"' in html and 'hx-swap-oob="true"' in html and "Need added." in html
    need = Need.objects.get()
    assert (need.deal, need.prospect, need.importance) == (deal, deal.prospect, 5)


def test_invalid_need_shows_field_errors_and_saves_nothing(rep_client, deal, htmx):
    response = rep_client.post(
        u("need_add", deal), {"need-kind": "goal", "need-importance": "9"}, **htmx
    )
    assert response.status_code == 400
    assert "HX-Trigger" not in response
    html = response.content.decode()
    assert 'id="id_need-statement_error"' in html
    assert 'id="id_need-importance_error"' in html
    assert '<details class="add-form" open>' in html
    assert not Need.objects.exists()


def test_editing_a_need_inline(rep_client, deal, htmx):
    need = f.NeedFactory(deal=deal, statement="Old words", importance=2)
    form = rep_client.get(u("need_edit", deal, need.pk), **htmx)
    assert f'name="need-{need.pk}-statement"' in form.content.decode()
    response = rep_client.post(
        u("need_edit", deal, need.pk),
        {
            f"need-{need.pk}-kind": "problem",
            f"need-{need.pk}-statement": "The buyer's own words",
            f"need-{need.pk}-importance": "4",
            f"need-{need.pk}-confirmed_by_buyer": "on",
        },
        **htmx,
    )
    assert response.status_code == 200
    need.refresh_from_db()
    assert (need.statement, need.importance, need.confirmed_by_buyer) == (
        "The buyer's own words", 4, True,
    )  # fmt: skip


def test_line_item_serving_a_need(rep_client, deal, htmx):
    need = f.NeedFactory(deal=deal, statement="Halve planning time", importance=5)
    response = rep_client.post(
        u("line_item_add", deal),
        {
            "item-name": "Planner licence",
            "item-quantity": "20",
            "item-unit_list_price": "100",
            "item-unit_price": "95",
            "item-unit_cost": "30",
            "item-needs": [need.pk],
        },
        **htmx,
    )
    assert response.status_code == 200
    item = LineItem.objects.get()
    assert list(item.needs.all()) == [need]
    deal.refresh_from_db()
    assert deal.net_total == Decimal("1900.00")
    html = response.content.decode()
    assert "Planner licence" in html and ">Unmet<" not in html


def test_line_item_priced_above_list_is_refused(rep_client, deal, htmx):
    response = rep_client.post(
        u("line_item_add", deal),
        {
            "item-name": "Licence",
            "item-quantity": "1",
            "item-unit_list_price": "100",
            "item-unit_price": "120",
            "item-unit_cost": "0",
        },
        **htmx,
    )
    assert response.status_code == 400
    assert "The offered price is above the list price." in response.content.decode()
    assert not LineItem.objects.exists()


def test_line_item_cannot_serve_a_need_of_another_deal(rep_client, deal, rep_user, team, htmx):
    foreign = f.NeedFactory(deal=f.DealFactory(owner=rep_user, team=team))
    response = rep_client.post(
        u("line_item_add", deal),
        {
            "item-name": "Licence",
            "item-quantity": "1",
            "item-unit_list_price": "100",
            "item-unit_price": "100",
            "item-unit_cost": "0",
            "item-needs": [foreign.pk],
        },
        **htmx,
    )
    assert response.status_code == 400
    assert not LineItem.objects.exists()


def test_edit_and_remove_a_line_item(rep_client, deal, htmx):
    need = f.NeedFactory(deal=deal)
    item = f.LineItemFactory(deal=deal, name="Licence")
    response = rep_client.post(
        u("line_item_edit", deal, item.pk),
        {
            f"item-{item.pk}-name": "Licence, 2 years",
            f"item-{item.pk}-quantity": "2",
            f"item-{item.pk}-unit_list_price": "100",
            f"item-{item.pk}-unit_price": "90",
            f"item-{item.pk}-unit_cost": "10",
            f"item-{item.pk}-needs": [need.pk],
        },
        **htmx,
    )
    assert response.status_code == 200
    item.refresh_from_db()
    assert item.name == "Licence, 2 years" and list(item.needs.all()) == [need]
    response = rep_client.post(u("line_item_delete", deal, item.pk), **htmx)
    assert response.status_code == 200
    assert "Removed “Licence, 2 years”." in response.content.decode()
    assert not LineItem.objects.exists()


# --- plan, activities, concessions, commitments, disclosures ---------------------------------


def test_ticking_off_a_milestone_and_back(rep_client, deal, htmx):
    milestone = f.BuyerMilestoneFactory(deal=deal, title="Security review")
    response = rep_client.post(
        u("milestone_toggle", deal, milestone.pk), {"completed": "on"}, **htmx
    )
    assert response.status_code == 200
    milestone.refresh_from_db()
    assert milestone.completed_at is not None
    rep_client.post(u("milestone_toggle", deal, milestone.pk), {}, **htmx)
    milestone.refresh_from_db()
    assert milestone.completed_at is None


def test_adding_a_milestone(rep_client, deal, htmx):
    response = rep_client.post(
        u("milestone_add", deal),
        {"milestone-title": "Legal review", "milestone-side": "buyer",
         "milestone-required_for_decision": "on"},
        **htmx,
    )  # fmt: skip
    assert response.status_code == 200
    assert BuyerMilestone.objects.get().required_for_decision is True


def test_logging_a_close_attempt(rep_client, deal, htmx):
    response = rep_client.post(
        u("activity_add", deal),
        {
            "activity-kind": "call",
            "activity-initiated_by": "rep",
            "activity-occurred_at": "2025-03-04T10:00",
            "activity-notes": "Asked for the signature.",
            "activity-close_attempt": "on",
        },
        **htmx,
    )
    assert response.status_code == 200
    assert "Close attempt" in response.content.decode()
    activity = Activity.objects.get()
    assert activity.close_attempt and not activity.senior_present


def test_buyer_initiated_activity_updates_last_buyer_contact(rep_client, deal, htmx):
    rep_client.post(
        u("activity_add", deal),
        {"activity-kind": "email", "activity-initiated_by": "buyer",
         "activity-occurred_at": "2025-03-04T10:00"},
        **htmx,
    )  # fmt: skip
    deal.refresh_from_db()
    assert deal.last_buyer_contact_at == dt.datetime(2025, 3, 4, 10, 0, tzinfo=dt.UTC)


def test_price_cut_without_anything_in_exchange_asks_for_it(rep_client, deal, htmx):
    f.LineItemFactory(deal=deal)  # 1,000 sold: a cut can never exceed what is sold
    data = {
        "concession-kind": "price",
        "concession-description": "10% off",
        "concession-amount": "500",
        "concession-cost_to_seller": "0",
    }
    response = rep_client.post(u("concession_add", deal), data, **htmx)
    assert response.status_code == 400
    html = response.content.decode()
    assert "A price cut should be traded" in html
    assert 'data-kind="price"' in html  # the value-add nudge stays visible
    assert "Before you cut the price:" in html
    assert not Concession.objects.exists()

    response = rep_client.post(
        u("concession_add", deal), {**data, "concession-in_exchange_for": "Three-year term"}, **htmx
    )
    assert response.status_code == 200
    assert Concession.objects.get().in_exchange_for == "Three-year term"


def test_untraded_price_cut_can_be_recorded_deliberately(rep_client, deal, htmx):
    f.LineItemFactory(deal=deal)
    response = rep_client.post(
        u("concession_add", deal),
        {"concession-kind": "price", "concession-description": "Rounding", "concession-amount": "5",
         "concession-cost_to_seller": "0", "concession-no_exchange": "on"},
        **htmx,
    )  # fmt: skip
    assert response.status_code == 200
    deal.refresh_from_db()
    assert Concession.objects.get().in_exchange_for == ""


def test_value_add_needs_no_exchange(rep_client, deal, htmx):
    response = rep_client.post(
        u("concession_add", deal),
        {"concession-kind": "value_add", "concession-description": "6 months extra support",
         "concession-amount": "3000", "concession-cost_to_seller": "600"},
        **htmx,
    )  # fmt: skip
    assert response.status_code == 200
    assert Concession.objects.get().kind == "value_add"


def test_commitment_added_then_done(rep_client, deal, htmx):
    rep_client.post(
        u("commitment_add", deal),
        {"commitment-description": "Migrate history", "commitment-due_date": "2031-01-31"},
        **htmx,
    )
    commitment = Commitment.objects.get()
    response = rep_client.post(
        u("commitment_status", deal, commitment.pk), {"status": "done"}, **htmx
    )
    assert response.status_code == 200
    commitment.refresh_from_db()
    assert commitment.status == "done" and commitment.completed_at is not None


def test_disclosure_added(rep_client, deal, htmx):
    response = rep_client.post(
        u("disclosure_add", deal),
        {"disclosure-kind": "limitation", "disclosure-description": "No on-premise."},
        **htmx,
    )
    assert response.status_code == 200
    assert Disclosure.objects.get().description == "No on-premise."


def test_without_htmx_a_write_redirects_back_with_a_message(rep_client, deal):
    response = rep_client.post(
        u("disclosure_add", deal),
        {"disclosure-kind": "risk", "disclosure-description": "Migration may take a week."},
    )
    assert response.status_code == 302
    assert response["Location"].endswith(f"/deals/{deal.pk}/#section-disclosures")
    page = rep_client.get(response["Location"])
    assert "Disclosure recorded." in page.content.decode()


def test_without_htmx_errors_rerender_the_whole_page(rep_client, deal):
    response = rep_client.post(u("disclosure_add", deal), {"disclosure-kind": "risk"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "<html" in html and 'id="id_disclosure-description_error"' in html


# --- stage ------------------------------------------------------------------------------------


def test_moving_a_deal_to_proposal(rep_client, deal, htmx):
    response = rep_client.post(
        u("deal_stage", deal), {"action": "advance", "stage": "proposal"}, **htmx
    )
    assert response.status_code == 200
    assert 'id="deal-summary"' in response.content.decode()
    deal.refresh_from_db()
    assert deal.stage == "proposal" and deal.version == 2


def test_closing_lost_needs_a_reason(rep_client, deal, htmx):
    response = rep_client.post(u("deal_stage", deal), {"action": "close_lost"}, **htmx)
    assert response.status_code == 400
    assert "Say why the deal was lost" in response.content.decode()
    deal.refresh_from_db()
    assert deal.stage == "discovery"
    response = rep_client.post(
        u("deal_stage", deal), {"action": "close_lost", "lost_reason": "Chose to build it"}, **htmx
    )
    deal.refresh_from_db()
    assert (deal.stage, deal.lost_reason) == ("closed_lost", "Chose to build it")


def test_close_won_without_proposal_is_refused_with_the_reason(rep_client, deal, htmx):
    response = rep_client.post(u("deal_stage", deal), {"action": "close_won"}, **htmx)
    assert response.status_code == 400
    assert "Add at least one proposal item" in response.content.decode()
    deal.refresh_from_db()
    assert deal.stage == "discovery"


def test_reopening_a_lost_deal(rep_client, deal, htmx):
    Deal.objects.filter(pk=deal.pk).update(stage="closed_lost", lost_reason="Budget")
    refused = rep_client.post(
        u("deal_stage", deal), {"action": "reopen", "stage": "negotiation"}, **htmx
    )
    assert refused.status_code == 400
    assert "Say why the deal is reopened" in refused.content.decode()
    deal.refresh_from_db()
    assert deal.stage == "closed_lost"

    response = rep_client.post(
        u("deal_stage", deal),
        {"action": "reopen", "stage": "negotiation", "confirm": "on", "reason": "New budget"},
        **htmx,
    )
    assert response.status_code == 200
    deal.refresh_from_db()
    assert deal.stage == "negotiation"
    assert deal.stage_history.first().reason == "New budget"


# --- deal edit with optimistic locking --------------------------------------------------------


def edit_data(version, title="Dispatch automation, 40 seats"):
    return {"deal-version": version, "deal-title": title, "deal-currency": "USD",
            "deal-expected_close_date": "2031-06-30", "deal-notes_for_delivery": ""}  # fmt: skip


def test_saving_an_edit_bumps_the_version(rep_client, deal, htmx):
    response = rep_client.post(u("deal_edit", deal), edit_data(deal.version), **htmx)
    assert response.status_code == 200
    assert response["HX-Trigger"] == "dealChanged"
    deal.refresh_from_db()
    assert deal.title == "Dispatch automation, 40 seats"
    assert deal.version == 2


def test_stale_edit_is_refused_with_a_reload_link_and_overwrites_nothing(rep_client, deal, htmx):
    rep_client.post(u("deal_edit", deal), edit_data(1, title="Saved first"), **htmx)
    response = rep_client.post(u("deal_edit", deal), edit_data(1, title="Stale tab"), **htmx)
    assert response.status_code == 409
    html = response.content.decode()
    assert "Not saved: someone changed this deal while you were editing." in html
    assert "Nothing was overwritten." in html
    assert "version" not in html.split('class="conflict"')[1].split("</div>")[0].lower()
    assert f'href="{reverse("deals:deal_detail", args=[deal.pk])}">Reload the deal' in html
    assert "Save changes" not in html
    deal.refresh_from_db()
    assert deal.title == "Saved first" and deal.version == 2


def test_edit_works_as_a_full_page_without_htmx(rep_client, deal):
    page = rep_client.get(u("deal_edit", deal))
    assert page.status_code == 200 and "<html" in page.content.decode()
    response = rep_client.post(u("deal_edit", deal), edit_data(1))
    assert response.status_code == 302
    stale = rep_client.post(u("deal_edit", deal), edit_data(1, title="Stale"))
    assert stale.status_code == 409 and "<html" in stale.content.decode()


# --- who may write ----------------------------------------------------------------------------

WRITES = [
    ("need_add", {"need-kind": "goal", "need-statement": "x", "need-importance": "3"}),
    ("milestone_add", {"milestone-title": "x", "milestone-side": "buyer"}),
    ("disclosure_add", {"disclosure-kind": "risk", "disclosure-description": "x"}),
    ("deal_stage", {"action": "advance", "stage": "proposal"}),
    ("deal_edit", {"deal-version": 1, "deal-title": "Hijacked", "deal-currency": "USD"}),
]


@pytest.mark.parametrize(("name", "data"), WRITES)
def test_another_rep_gets_404_and_changes_nothing(client, deal, other_rep, name, data, htmx):
    client.force_login(other_rep)
    assert client.post(u(name, deal), data, **htmx).status_code == 404
    deal.refresh_from_db()
    assert (deal.stage, deal.title, deal.version) == ("discovery", "Dispatch automation", 1)
    assert not Need.objects.exists() and not BuyerMilestone.objects.exists()
    assert not Disclosure.objects.exists()


@pytest.mark.parametrize(("name", "data"), WRITES)
def test_the_teams_manager_may_read_but_gets_403_on_writes(
    client, deal, manager_user, name, data, htmx
):
    client.force_login(manager_user)
    assert client.post(u(name, deal), data, **htmx).status_code == 403
    deal.refresh_from_db()
    assert (deal.stage, deal.title, deal.version) == ("discovery", "Dispatch automation", 1)
    assert not Need.objects.exists()


def test_a_child_of_another_deal_is_404(rep_client, deal, rep_user, team, htmx):
    other_deal = f.DealFactory(owner=rep_user, team=team)
    milestone = f.BuyerMilestoneFactory(deal=other_deal)
    response = rep_client.post(
        u("milestone_toggle", deal, milestone.pk), {"completed": "on"}, **htmx
    )
    assert response.status_code == 404
    milestone.refresh_from_db()
    assert milestone.completed_at is None


def test_unknown_section_is_404(rep_client, deal):
    assert rep_client.get(u("deal_section", deal, "secrets")).status_code == 404
