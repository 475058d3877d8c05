"""The dashboard in a real browser: charts draw, and a manager acknowledges a flag.

Runs Debian's chromium through Playwright (CHROMIUM_PATH or `chromium` on PATH). Saves
screenshots to tests/artifacts/ for a person to look at.
"""

import datetime as dt
import random
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from deals.models import Deal, Flag
from handoff.models import CheckIn, Handoff
from tests import factories as f

from .conftest import make_deal, make_flag, snapshot

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"

pytestmark = pytest.mark.browser

TITLES = [
    "Acme Corp platform rollout",
    "Globex analytics upgrade",
    "Initech support renewal",
    "Umbrella onboarding suite",
    "Hooli data migration",
    "Stark Industries pilot",
    "Wayne Enterprises expansion",
    "Soylent CRM replacement",
    "Tyrell reporting add-on",
    "Cyberdyne security review",
    "Wonka logistics module",
    "Vandelay import tracking",
]


def _balance(buyer, seller):
    if buyer >= 70 and seller >= 70:
        return "win_win"
    if seller >= 70:
        return "buyer_loses"
    if buyer >= 70:
        return "seller_loses"
    return "lose_lose"


def _build_team(team, manager):
    """A believable team: 4 reps, 48 open deals across the quadrants, flags, 12 weeks of
    history and a few handoffs."""
    rng = random.Random(7)
    names = [("Rita", "Reyes"), ("Sam", "Okafor"), ("Priya", "Natarajan"), ("Tom", "Becker")]
    reps = [
        f.rep(team, username=first.lower(), first_name=first, last_name=last)
        for first, last in names
    ]
    today = timezone.localdate()
    deals = []
    for i in range(48):
        rep = reps[i % 4]
        skew = [12, 0, -8, -18][i % 4]  # some reps push harder than others
        buyer = max(5, min(100, int(rng.gauss(72 + skew, 16))))
        seller = max(5, min(100, int(rng.gauss(70, 17))))
        list_total = rng.choice([8, 12, 20, 35, 60, 90, 140]) * 1000
        discount = rng.choice([0, 0.05, 0.1, 0.15, 0.2, 0.3])
        net = int(list_total * (1 - discount))
        deal = make_deal(
            team,
            rep,
            stage=rng.choice(Deal.OPEN_STAGES),
            scores=(buyer, seller, _balance(buyer, seller)),
            list_total=list_total,
            net=net,
            cost=int(net * rng.uniform(0.35, 0.85)),
            title=TITLES[i % len(TITLES)]
            + (f" #{i // len(TITLES) + 1}" if i >= len(TITLES) else ""),
        )
        deals.append(deal)
        if buyer < 70:
            make_flag(
                deal,
                rng.choice(["PRESSURE_CHASING", "PRESSURE_LANGUAGE", "PRESSURE_PREMATURE_CLOSE"]),
                severity=rng.choice(["warning", "critical"]),
                age_days=rng.randint(0, 40),
            )
        if seller < 70:
            make_flag(
                deal, "SELLER_DISCOUNT_OVER_POLICY", side="seller", age_days=rng.randint(0, 20)
            )
        for week in range(1, 12):
            drift = week * (1 if i % 3 else -1)
            b, s = max(0, buyer - drift * 2), max(0, seller - drift)
            snapshot(
                deal,
                today - dt.timedelta(weeks=week),
                _balance(b, s),
                net=net,
                pressure=(1 if b < 70 else 0) + (i + week) % 5 // 4,
            )
    delivery_team = f.DeliveryTeamFactory(name="Customer success")
    now = timezone.now()
    for i, rep in enumerate(reps):
        won = make_deal(team, rep, stage="closed_won", scores=(85, 80, "win_win"), net=50000)
        handoff = Handoff.objects.create(
            deal=won,
            rep=rep,
            delivery_team=delivery_team,
            status="accepted",
            sla_due_at=now - dt.timedelta(days=3),
            claimed_at=now - dt.timedelta(days=3 - i),
        )
        CheckIn.objects.create(
            handoff=handoff,
            day_offset=30,
            due_date=today,
            customer_value=5 - i % 3,
            completed_at=now,
        )
    return reps, deals


@pytest.fixture
def browser_page(browser, live_server):
    # The suite's one Playwright browser (tests/browser_support.py): the sync API allows
    # only one instance per thread.
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    yield page
    context.close()


def _painted_pixels(page, canvas_id):
    return page.evaluate(
        """(id) => {
            const c = document.getElementById(id);
            const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let n = 0;
            for (let i = 3; i < data.length; i += 4) if (data[i] > 0) n++;
            return n;
        }""",
        canvas_id,
    )


def test_manager_sees_charts_and_acknowledges_a_flag(transactional_db, live_server, browser_page):
    team = f.TeamFactory(name="Northwind Sales")
    manager = f.manager(team, username="mona", first_name="Mona", last_name="Lindqvist")
    manager.set_password(f.PASSWORD)
    manager.save()
    _build_team(team, manager)
    other = f.TeamFactory(name="Harbor Sales")
    secret = make_deal(
        other,
        f.rep(other, username="hugo_rep"),
        scores=(20, 20, "lose_lose"),
        net=999999,
        title="Harbor secret deal",
    )
    make_flag(secret, "PRESSURE_CHASING")
    rita = manager.teams.get().members.get(username="rita")
    for i in range(3):  # three deals on the same spot: one bubble with a count
        make_deal(team, rita, scores=(100, 100, "win_win"), net=10000, title=f"Perfect deal {i}")
    page = browser_page
    ARTIFACTS.mkdir(exist_ok=True)

    page.goto(f"{live_server.url}/accounts/login/?next=/dashboard/")
    page.fill("#id_username", "mona")
    page.fill("#id_password", f.PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/dashboard/")
    page.wait_for_selector("#quadrant-chart[data-rendered=true]", timeout=15000)
    page.wait_for_selector("#trends-chart[data-rendered=true]", timeout=15000)
    page.wait_for_selector("#rep-table table.rep-table", timeout=15000)  # loaded by htmx
    assert page.locator("#rep-table tbody tr").count() == 4

    assert _painted_pixels(page, "quadrant-chart") > 5000
    assert _painted_pixels(page, "trends-chart") > 5000
    assert page.locator("#quadrant-caption").inner_text() == "51 deals"
    assert page.locator(".quad-card").count() == 4
    assert "Harbor secret deal" not in page.content()
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)

    # Every chart also reads as a table: one row per deal in the quadrant's.
    page.locator("details.chart-table summary").first.click()
    expect(page.locator("#quadrant-table tbody tr")).to_have_count(51)
    expect(page.locator("#trends-table tbody tr")).to_have_count(12)

    def bubble(kind):
        # The on-screen spot of the first single deal ("url") or cluster ("deals"), with
        # the page at the top so no sticky bar sits over the chart.
        page.evaluate("window.scrollTo(0, 0)")
        return page.evaluate(
            """(kind) => {
                const chart = window.dashboardCharts['quadrant-chart'];
                const box = chart.canvas.getBoundingClientRect();
                for (let d = 0; d < chart.data.datasets.length; d++) {
                  const data = chart.data.datasets[d].data;
                  for (let i = 0; i < data.length; i++) {
                    if (!data[i][kind]) continue;
                    const el = chart.getDatasetMeta(d).data[i];
                    return {x: box.left + el.x, y: box.top + el.y, url: data[i].url,
                            count: data[i].deals && data[i].deals.length};
                  }
                }
            }""",
            kind,
        )

    # The three deals at 100/100 are one bubble whose count opens their list.
    cluster = bubble("deals")
    assert cluster["count"] == 3
    page.mouse.click(cluster["x"], cluster["y"])
    listing = page.locator("#quadrant-cluster")
    expect(listing).to_be_visible()
    expect(listing.get_by_role("link")).to_have_count(3)
    expect(listing).to_contain_text("Perfect deal 0")

    # Clicking a single deal in the quadrant opens it.
    target = bubble("url")
    page.mouse.click(target["x"], target["y"])
    page.wait_for_url(f"**{target['url']}")

    page.goto(f"{live_server.url}/dashboard/flags/")
    count = page.locator('[data-flag-count="open"]')
    before = int(count.inner_text())
    row = page.locator("tr.flag-row.open").first
    flag_id = int(row.get_attribute("data-flag"))
    row.locator("input[name=note]").fill("Buyer set this pace themselves")
    row.locator("button", has_text="Acknowledge").click()
    page.wait_for_selector(f"#flag-{flag_id} .ack-done", timeout=10000)
    expect(count).to_have_text(str(before - 1))  # the count follows, no reload
    assert "Buyer set this pace themselves" in page.locator(f"#flag-{flag_id}").inner_text()
    flag = Flag.objects.get(pk=flag_id)
    assert (flag.status, flag.acknowledged_by_id) == ("acknowledged", manager.id)
    page.screenshot(path=str(ARTIFACTS / "dashboard_flags.png"), full_page=False)
