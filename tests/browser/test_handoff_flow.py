"""The handoff in a real browser: the rep closes and submits, delivery claims, asks, accepts.

Two people, two browser sessions (separate cookie jars), one live server.
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from deals.models import Commitment, Deal
from handoff.models import Handoff, HandoffEvent
from tests import factories as f
from tests.browser_support import CHROMIUM

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM, reason="no chromium binary (set CHROMIUM_PATH)"),
]

NEED = "Cut dispatch planning from 3 hours to 30 minutes"
COMMITMENT = "Migrate two years of dispatch history"
CONCESSION = "6 extra months of support"
DISCLOSURE = "No on-premise deployment: the planner runs in our EU cloud only."
NOTES = "Nora runs the pilot depot in Utrecht; start there, she wants weekly check-ins."
QUESTION = "Which depot goes live first, and who signs off the data migration?"
ANSWER = "Utrecht first. Piet Jansen (IT) signs off the migration."


@pytest.fixture
def session(browser, live_server):
    """A fresh browser session per person: `session()` returns a new tab in a new context."""
    contexts = []

    def open_session():
        context = browser.new_context(
            base_url=live_server.url, viewport={"width": 1360, "height": 900}, locale="en-GB"
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.js_errors = errors
        return page

    yield open_session
    for context in contexts:
        context.close()


@pytest.fixture
def people(transactional_db):
    sales = f.TeamFactory(name="Benelux sales")
    delivery_team = f.DeliveryTeamFactory(name="Benelux delivery")
    sales.default_delivery_team = delivery_team
    sales.save(update_fields=["default_delivery_team"])
    rep = f.rep(sales, username="rita_rep", first_name="Rita", last_name="Reyes")
    member = f.delivery(delivery_team, username="dana_delivery", first_name="Dana", last_name="Cho")
    return rep, member


@pytest.fixture
def deal(people):
    from deals import services

    rep, _ = people
    team = rep.teams.get()
    deal = f.DealFactory(
        owner=rep,
        team=team,
        prospect=f.ProspectFactory(name="Northwind Logistics", team=team),
        title="Dispatch automation",
        stage=Deal.Stage.NEGOTIATION,
    )
    f.ContactFactory(prospect=deal.prospect, name="Nora Lind", title="Head of Operations")
    need = f.NeedFactory(deal=deal, statement=NEED, importance=5)
    f.LineItemFactory(
        deal=deal,
        name="Dispatch planner licence",
        quantity=Decimal("20"),
        unit_list_price=Decimal("100.00"),
        unit_price=Decimal("95.00"),
        unit_cost=Decimal("30.00"),
        needs=[need],
    )
    f.CommitmentFactory(
        deal=deal,
        description=COMMITMENT,
        due_date=timezone.localdate() + dt.timedelta(days=21),
        owner=rep,
    )
    f.DisclosureFactory(deal=deal, description=DISCLOSURE)
    f.ConcessionFactory(deal=deal, description=CONCESSION, in_exchange_for="Two-year term")
    services.pricing_refresh(deal_id=deal.pk)
    return deal


def test_rep_hands_a_won_deal_to_delivery_who_asks_and_accepts(
    session, login, screenshot, people, deal
):
    rep, member = people

    # 1. The rep closes the deal as won from the deal page and completes the draft handoff.
    rep_page = login(session(), rep)
    rep_page.goto(f"/deals/{deal.pk}/")
    expect(rep_page.locator("#deal-summary h1")).to_have_text("Dispatch automation")
    rep_page.get_by_role("button", name="✓ Close won").click()
    expect(rep_page.locator(".pipeline .step.closed")).to_have_text("Closed won")
    expect(rep_page.locator("#flash")).to_contain_text("Closed won. The handoff to delivery")
    handoff_link = rep_page.get_by_role("link", name="Handoff: Draft →")
    expect(handoff_link).to_be_visible()
    closed = rep_page.locator("#section-history .hist-changes li", has_text="Closed at")
    expect(closed).to_contain_text(f"{timezone.localdate():%-d %b %Y}")  # not a raw timestamp
    screenshot(rep_page, "handoff_1_deal_closed_won")

    handoff_link.click()
    expect(rep_page.get_by_role("heading", name="Submit to delivery")).to_be_visible()
    checklist = rep_page.locator("#checklist")
    expect(checklist).to_contain_text("5 required items left before you can submit.")
    labels = checklist.locator("label.checkbox")
    assert labels.count() == 5
    for i in range(labels.count()):
        label = labels.nth(i)
        text = label.inner_text().strip()
        label.locator("input[type=checkbox]").check()  # htmx swaps the whole card
        expect(rep_page.locator("#checklist")).to_contain_text(f"Saved “{text}”.")
    expect(rep_page.locator("#checklist")).to_contain_text("All required items are ticked")
    rep_page.get_by_label("Notes for delivery").fill(NOTES)
    screenshot(rep_page, "handoff_2_draft_checklist")
    rep_page.get_by_role("button", name="Submit handoff").click()
    expect(rep_page.locator(".messages")).to_contain_text(
        "Handoff submitted. Dana Cho was notified."
    )
    expect(rep_page.locator(".handoff-meta .badge")).to_have_text("Submitted")
    expect(rep_page.get_by_role("heading", name="Submit to delivery")).to_have_count(0)
    assert not rep_page.js_errors

    # 2. Delivery finds it in the unclaimed tab, reads the package, claims it and asks.
    ops_page = login(session(), member)
    expect(ops_page.get_by_role("heading", name="Handoffs")).to_be_visible()
    unclaimed = ops_page.locator("nav.tabs a.active")
    expect(unclaimed).to_contain_text("Unclaimed")
    row = ops_page.locator("table.handoff-queue tbody tr", has_text="Dispatch automation")
    expect(row).to_contain_text("Northwind Logistics")
    expect(row).to_contain_text("Submitted")
    expect(row).to_contain_text("USD 1,900.00")
    expect(row.locator(".sla")).to_contain_text("Claim within")
    screenshot(ops_page, "handoff_3_delivery_queue")

    row.get_by_role("link", name="Dispatch automation").click()
    due = Commitment.objects.get(deal=deal).due_date
    expect(ops_page.get_by_role("heading", name="Dispatch automation")).to_be_visible()
    package = ops_page.locator(".card", has=ops_page.get_by_role("heading", name="Package"))
    expect(package).to_contain_text(NEED)
    expect(package).to_contain_text("5/5")
    expect(package).to_contain_text("Dispatch planner licence")
    expect(package).to_contain_text(f"{COMMITMENT} due {due.day} {due:%b %Y}")
    expect(package).to_contain_text(CONCESSION)
    expect(package).to_contain_text(f"{CONCESSION} (USD 3,000.00)")
    expect(package).to_contain_text("Traded for: Two-year term")
    expect(package).to_contain_text(DISCLOSURE)
    expect(package).to_contain_text("Nora Lind")
    expect(package).to_contain_text(NOTES)
    screenshot(ops_page, "handoff_4_package")

    ops_page.get_by_role("button", name="Claim handoff").click()
    expect(ops_page.locator(".messages")).to_contain_text("You claimed this handoff.")
    expect(ops_page.locator(".handoff-meta .badge")).to_have_text("Claimed")
    ops_page.get_by_label("Question for the rep").fill(QUESTION)
    ops_page.get_by_role("button", name="Ask the rep").click()
    expect(ops_page.locator(".messages")).to_contain_text("Question sent to the rep.")
    expect(ops_page.locator(".handoff-meta .badge")).to_have_text("Needs info")
    expect(ops_page.locator("#thread")).to_contain_text(QUESTION)
    expect(ops_page.get_by_role("button", name="Accept handoff")).to_have_count(0)

    # 3. The rep sees the question on the handoff page and answers it.
    rep_page = login(session(), rep)
    rep_page.goto(f"/handoffs/{deal.handoff.pk}/")
    expect(rep_page.locator(".handoff-meta .badge")).to_have_text("Needs info")
    expect(rep_page.locator("#thread")).to_contain_text(QUESTION)
    rep_page.get_by_label("Your answer").fill(ANSWER)
    rep_page.get_by_role("button", name="Send answer").click()
    expect(rep_page.locator(".messages")).to_contain_text("Answer sent to delivery.")
    thread = rep_page.locator("#thread .thread li")
    expect(thread).to_have_count(2)
    expect(thread.nth(0)).to_contain_text(QUESTION)
    expect(thread.nth(1)).to_contain_text(ANSWER)
    screenshot(rep_page, "handoff_5_thread")
    assert not rep_page.js_errors

    # 4. Delivery reads the answer and accepts; check-ins at 30/90/180 days appear.
    ops_page.reload()
    expect(ops_page.locator(".handoff-meta .badge")).to_have_text("Claimed")
    expect(ops_page.locator("#thread")).to_contain_text(ANSWER)
    ops_page.get_by_role("button", name="Accept handoff").click()
    expect(ops_page.locator(".messages")).to_contain_text("Handoff accepted")
    expect(ops_page.locator(".handoff-meta .badge")).to_have_text("Accepted")
    check_ins = ops_page.locator("#check-ins .check-in h3")
    expect(check_ins).to_have_count(3)
    today = timezone.localdate()
    for i, days in enumerate((30, 90, 180)):
        due = today + dt.timedelta(days=days)
        expect(check_ins.nth(i)).to_contain_text(f"Day {days}")
        expect(check_ins.nth(i)).to_contain_text(f"due {due.day} {due:%b %Y}")
    promises = ops_page.locator("#commitments")
    expect(promises).to_contain_text("delivery keeps these now")
    expect(promises.locator("tr", has_text=COMMITMENT)).to_contain_text("Dana Cho")
    screenshot(ops_page, "handoff_6_accepted")
    assert not ops_page.js_errors

    handoff = Handoff.objects.get(deal=deal)
    assert handoff.status == Handoff.Status.ACCEPTED
    assert handoff.assignee == member
    assert handoff.notes_for_delivery == NOTES
    assert handoff.package["concessions"][0]["description"] == CONCESSION
    assert not handoff.checklist.filter(required=True, checked_at__isnull=True).exists()
    events = list(
        HandoffEvent.objects.filter(handoff=handoff).values_list(
            "from_status", "to_status", "actor__username"
        )
    )
    assert events == [
        ("", "draft", "rita_rep"),
        ("draft", "submitted", "rita_rep"),
        ("submitted", "claimed", "dana_delivery"),
        ("claimed", "needs_info", "dana_delivery"),
        ("needs_info", "claimed", "rita_rep"),
        ("claimed", "accepted", "dana_delivery"),
    ]
    commitment = Commitment.objects.get(deal=deal)
    assert commitment.owner == member
    assert commitment.status == Commitment.Status.OPEN
    assert list(handoff.check_ins.values_list("day_offset", flat=True)) == [30, 90, 180]
