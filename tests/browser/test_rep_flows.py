"""A rep's day in a real browser: new deal, discovery call, proposal, health flags, locking."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from deals.models import Deal, Need
from tests import factories as f
from tests.browser_support import CHROMIUM

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM, reason="no chromium binary (set CHROMIUM_PATH)"),
]


@pytest.fixture
def rep(team):
    return f.rep(team, username="rita_rep", first_name="Rita", last_name="Reyes")


def test_rep_creates_deal_logs_call_adds_item_and_sees_unmet_need(page, login, screenshot, rep):
    login(page, rep)
    expect(page.get_by_role("heading", name="My deals")).to_be_visible()
    screenshot(page, "01-my-deals-empty")

    page.get_by_role("link", name="+ New deal").first.click()
    page.fill("#id_prospect_name", "Northwind Logistics")
    page.fill("#id_prospect_industry", "Logistics")
    page.fill("#id_contact_name", "Nora Lind")
    page.fill("#id_contact_title", "Head of Operations")
    page.fill("#id_title", "Dispatch automation")
    screenshot(page, "02-new-deal")
    page.get_by_role("button", name="Create and log discovery call").click()

    expect(page.get_by_role("heading", name="Log a discovery call")).to_be_visible()
    page.get_by_label("Nora Lind").check()
    page.get_by_role("button", name="+ Add a person").click()  # a repeatable row, added by JS
    expect(page.locator("#id_attendees-0-name")).to_be_focused()
    page.fill("#id_attendees-0-name", "Piet Jansen")
    page.select_option("#id_attendees-0-buying_role", "decision_maker")
    page.fill("#id_summary", "They dispatch 400 trucks a day by spreadsheet.")
    page.fill("#id_needs-0-statement", "Cut dispatch planning from 3 hours to 30 minutes")
    page.select_option("#id_needs-0-importance", "5")
    page.check("#id_needs-0-confirmed_by_buyer")
    page.fill("#id_needs-1-statement", "Drivers see their route on their phone")
    page.select_option("#id_needs-1-importance", "4")
    page.fill("#id_milestones-0-title", "Security review")
    page.fill("#id_next_step", "Nora books the security review")
    page.set_viewport_size({"width": 1360, "height": 1500})  # the sticky save bar sits below
    screenshot(page, "03-discovery-call")
    page.set_viewport_size({"width": 1360, "height": 900})
    page.get_by_role("button", name="Save discovery call").click()

    expect(page.locator(".messages")).to_contain_text("Discovery call logged with 2 needs")
    deal = Deal.objects.get(title="Dispatch automation")
    assert deal.needs.count() == 2
    assert sorted(c.name for c in deal.discovery_calls.get().attendees.all()) == [
        "Nora Lind",
        "Piet Jansen",
    ]
    planning = Need.objects.get(statement__startswith="Cut dispatch")

    page.get_by_text("+ Add a proposal item").click()
    page.fill("#id_item-name", "Dispatch planner licence")
    page.fill("#id_item-quantity", "20")
    page.fill("#id_item-unit_list_price", "100")
    page.fill("#id_item-unit_price", "95")
    page.fill("#id_item-unit_cost", "30")
    page.get_by_label(planning.statement).check()
    page.get_by_role("button", name="Add item").click()
    expect(page.locator("#section-needs")).to_contain_text("Dispatch planner licence")
    expect(page.locator("#deal-summary")).to_contain_text("1,900.00")

    page.locator(".pipeline").get_by_role("button", name="Proposal").click()
    expect(page.locator(".pipeline .step.current")).to_have_text("Proposal")
    unmet = page.locator('.flag[data-code="BUYER_UNMET_NEED"]')
    expect(unmet).to_be_visible()
    expect(unmet).to_contain_text("What to do")
    screenshot(page, "04-deal-unmet-need")
    assert not page.js_errors


def test_close_attempt_with_open_required_milestone_shows_premature_close(
    page, login, screenshot, rep
):
    deal = f.DealFactory(
        owner=rep, team=rep.teams.first(), title="Warehouse scanners", stage=Deal.Stage.NEGOTIATION
    )
    f.BuyerMilestoneFactory(deal=deal, title="Legal review", required_for_decision=True)
    login(page, rep)
    page.goto(f"/deals/{deal.pk}/")
    page.get_by_text("+ Log an activity").click()
    page.select_option("#id_activity-kind", "call")
    page.fill("#id_activity-notes", "Asked them to sign before the review.")
    page.check("#id_activity-close_attempt")
    page.get_by_role("button", name="Log activity").click()
    expect(page.locator("#section-activities")).to_contain_text("Close attempt")
    flag = page.locator('.flag[data-code="PRESSURE_PREMATURE_CLOSE"]')
    expect(flag).to_be_visible()
    expect(flag).to_contain_text("Legal review")
    screenshot(page, "05-deal-premature-close")

    # Ticking off the buyer's milestone is one click on the plan.
    page.get_by_label("Mark “Legal review” as done").check()
    expect(page.locator("#section-plan li.done")).to_contain_text("Legal review")
    assert deal.milestones.get().completed_at is not None
    assert not page.js_errors


def test_second_tab_saving_a_stale_deal_is_refused_and_nothing_is_lost(
    page, new_page, login, screenshot, rep
):
    deal = f.DealFactory(owner=rep, team=rep.teams.first(), title="Fleet telematics")
    login(page, rep)
    other = new_page()
    for tab in (page, other):
        tab.goto(f"/deals/{deal.pk}/")
        tab.get_by_role("link", name="Edit deal").click()
        expect(tab.locator("#deal-edit form")).to_be_visible()

    page.fill("#id_deal-title", "Fleet telematics, 120 vans")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator("#deal-summary h1")).to_have_text("Fleet telematics, 120 vans")

    other.fill("#id_deal-title", "Fleet telematics (old tab)")
    other.get_by_role("button", name="Save changes").click()
    conflict = other.locator(".conflict")
    expect(conflict).to_contain_text("Not saved")
    expect(conflict.get_by_role("link", name="Reload the deal")).to_be_visible()
    screenshot(other, "06-deal-edit-conflict")

    deal.refresh_from_db()
    assert deal.title == "Fleet telematics, 120 vans"
    assert deal.version == 2
    other.get_by_role("link", name="Reload the deal").click()
    expect(other.locator("#deal-summary h1")).to_have_text("Fleet telematics, 120 vans")


def test_my_deals_filters_by_balance_without_a_reload(page, login, screenshot, rep):
    team = rep.teams.first()
    rows = [
        ("Dispatch automation", "Northwind Logistics", "proposal", "win_win", 0, "48200"),
        ("Warehouse scanners", "Contoso Retail", "negotiation", "buyer_loses", 2, "17650"),
        ("Fleet telematics", "Fabrikam Freight", "qualification", "seller_loses", 1, "96000"),
        ("Cold-chain sensors", "Tailspin Foods", "negotiation", "lose_lose", 4, "8400"),
        ("Route optimiser pilot", "Wingtip Couriers", "discovery", "", 0, "0"),
    ]
    now = timezone.now()
    for i, (title, prospect, stage, balance, flags, net) in enumerate(rows):
        f.DealFactory(
            owner=rep, team=team, title=title, stage=stage, balance=balance,
            open_flag_count=flags, net_total=Decimal(net),
            prospect=f.ProspectFactory(team=team, name=prospect),
            last_buyer_contact_at=now - dt.timedelta(days=3 * i + 1) if i != 3 else None,
        )  # fmt: skip
    login(page, rep)
    expect(page.locator(".deal-title")).to_have_count(5)
    screenshot(page, "00-my-deals")
    page.select_option("#id_balance", "buyer_loses")
    expect(page.locator(".deal-title")).to_have_count(1)
    expect(page.locator(".deal-title")).to_have_text("Warehouse scanners")
    assert "balance=buyer_loses" in page.url  # the filtered list can be bookmarked
    page.fill("#id_q", "zzz")
    expect(page.locator("#deal-table")).to_contain_text("No deal matches these filters.")
    assert not page.js_errors


def test_price_cut_nudges_toward_value_and_asks_for_the_exchange(page, login, screenshot, rep):
    deal = f.DealFactory(owner=rep, team=rep.teams.first(), title="Fleet telematics")
    f.LineItemFactory(deal=deal)  # 1,000 sold: a price cut may not exceed it
    login(page, rep)
    page.goto(f"/deals/{deal.pk}/")
    page.get_by_text("+ Give a concession").click()
    nudge = page.locator(".concession-form .nudge")
    expect(nudge).to_be_hidden()
    page.get_by_label("Cut the price").check()
    expect(nudge).to_be_visible()
    page.fill("#id_concession-description", "5% off the licence")
    page.fill("#id_concession-amount", "450")
    page.get_by_role("button", name="Record concession").click()
    error = page.locator("#id_concession-in_exchange_for_error")
    expect(error).to_contain_text("A price cut should be traded")
    expect(page.locator("#id_concession-in_exchange_for")).to_be_focused()
    screenshot(page, "07-concession-nudge")
    page.fill("#id_concession-in_exchange_for", "Three-year term")
    page.get_by_role("button", name="Record concession").click()
    expect(page.locator("#section-concessions")).to_contain_text("Three-year term")
    assert not page.js_errors
