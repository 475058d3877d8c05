"""The buyer on a phone (390×844): opens the link, confirms and corrects needs, ticks a
milestone, answers the pulse and asks a question — no CRM chrome, no horizontal scroll,
no script, nothing the page's Content-Security-Policy refuses."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from deals.buyer_room import services
from deals.models import Activity, BuyerMilestone, Contact, Deal, Flag
from tests import factories as f
from tests.browser_support import CHROMIUM

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM, reason="no chromium binary (set CHROMIUM_PATH)"),
]


@pytest.fixture
def phone(browser, live_server, transactional_db):
    context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="en-GB",
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on(
        "console",
        lambda msg: problems.append(msg.text) if msg.type in ("error", "warning") else None,
    )
    page.problems = problems
    yield page
    context.close()


@pytest.fixture
def room(team):
    rep = f.rep(team, username="rita_rep", first_name="Rita", last_name="Reyes")
    deal = f.DealFactory(
        team=team, owner=rep, title="Dispatch automation", stage=Deal.Stage.PROPOSAL
    )
    fast = f.NeedFactory(deal=deal, statement="Plan the day's routes in 30 minutes", importance=5)
    f.NeedFactory(
        deal=deal,
        statement="Drivers see their route on a phone",
        importance=4,
        confirmed_by_buyer=False,
    )
    f.LineItemFactory(deal=deal, name="Dispatch planner", unit_price=Decimal("95.00"), needs=[fast])
    f.BuyerMilestoneFactory(deal=deal, title="Security review", side=BuyerMilestone.Side.BUYER)
    f.ActivityFactory(
        deal=deal, kind=Activity.Kind.MEETING, occurred_at=timezone.now() - dt.timedelta(hours=5)
    )
    nora = f.ContactFactory(
        prospect=deal.prospect, name="Nora Lind", buying_role=Contact.BuyingRole.CHAMPION
    )
    from deals.services import pricing_refresh

    pricing_refresh(deal_id=deal.pk)
    _share, token = services.buyer_share_create(deal=deal, contact=nora, user=rep, send_email=False)
    return deal, token


def _fits_the_screen(page):
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways ({width}px)"


def test_buyer_uses_the_room_on_a_phone(phone, room, screenshot):
    deal, token = room
    page = phone
    page.goto(f"/buyer/{token}/")
    expect(page.get_by_role("heading", name="Dispatch automation")).to_be_visible()
    expect(page.locator("nav")).to_have_count(0)  # no CRM chrome
    assert page.locator("script").count() == 0
    _fits_the_screen(page)
    expect(page.locator(".total")).to_contain_text("USD 950.00")
    screenshot(page, "buyer-room-phone-01")

    drivers = page.locator("article.need", has_text="Drivers see their route")
    drivers.get_by_role("button", name="Yes, that's right").click()
    expect(page.get_by_role("status")).to_contain_text("saved")

    fast = page.locator("article.need", has_text="Plan the day")
    fast.get_by_text("Correct it").click()
    fast.get_by_label("How much it matters (1–5)").select_option("3")
    fast.get_by_role("button", name="Save").click()
    expect(page.locator("article.need", has_text="Plan the day")).to_contain_text("matters 3/5")

    page.locator("article.milestone", has_text="Security review").get_by_role(
        "button", name="Mark as done"
    ).click()
    expect(page.locator("article.milestone", has_text="Security review")).to_contain_text("done")

    pulse = page.locator("#pulse")
    pulse.locator("fieldset", has_text="get what you needed").get_by_label("Yes").check()
    pulse.locator("fieldset", has_text="feel pushed").get_by_label("Yes").check()
    pulse.locator("fieldset", has_text="next step").get_by_label("No").check()
    _fits_the_screen(page)
    screenshot(page, "buyer-room-phone-02-pulse")
    pulse.get_by_role("button", name="Send").click()
    expect(page.locator("#pulse")).to_have_count(0)

    page.get_by_label("Your question").fill("Can drivers use their own phones?")
    page.get_by_role("button", name="Send to Rita Reyes").click()
    expect(page.get_by_role("status")).to_contain_text("saved")
    _fits_the_screen(page)
    screenshot(page, "buyer-room-phone-03-done")

    assert not page.problems, page.problems  # no JS errors, no CSP refusals
    deal.refresh_from_db()
    assert deal.needs.get(statement__startswith="Plan the day").importance == 3
    assert deal.needs.filter(confirmed_by_buyer_at__isnull=False).count() == 2
    assert deal.activities.filter(kind="buyer_room", initiated_by="buyer").count() == 5
    flag = Flag.objects.get(deal=deal, code="BUYER_REPORTED_PRESSURE")
    assert flag.severity == "critical"
