"""Keyboard use: the discovery-call form never submits half a call on Enter, Ctrl+Enter
saves, a date is one tab stop, focus never hides under a sticky bar, the phone menu."""

import pytest
from playwright.sync_api import expect

from deals.models import DiscoveryCall
from tests import factories as f
from tests.browser_support import CHROMIUM

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM, reason="no chromium binary (set CHROMIUM_PATH)"),
]


@pytest.fixture
def rep(team):
    return f.rep(team, username="rita_rep", first_name="Rita", last_name="Reyes")


@pytest.fixture
def deal(rep):
    return f.DealFactory(owner=rep, team=rep.teams.first(), title="Dispatch automation")


def test_enter_moves_through_need_rows_and_never_submits(page, login, rep, deal):
    login(page, rep)
    page.goto(f"/deals/{deal.pk}/discovery-call/")
    page.fill("#id_needs-0-statement", "Cut planning time")
    page.press("#id_needs-0-statement", "Enter")
    expect(page.locator("#id_needs-1-statement")).to_be_focused()  # the next row
    rows = page.locator("#needs-rows [data-row]").count()
    last = page.locator("#needs-rows [data-row]").last.locator("[name$='-statement']")
    last.fill("Drivers see their route")
    last.press("Enter")
    expect(page.locator("#needs-rows [data-row]")).to_have_count(rows + 1)  # a new row
    expect(
        page.locator("#needs-rows [data-row]").last.locator("[name$='-statement']")
    ).to_be_focused()
    page.fill("#id_next_step", "Book the review")
    page.press("#id_next_step", "Enter")  # outside a row: nothing happens
    assert "/discovery-call/" in page.url
    assert not DiscoveryCall.objects.exists()
    assert not page.js_errors


def test_ctrl_enter_saves_the_call(page, login, rep, deal):
    login(page, rep)
    page.goto(f"/deals/{deal.pk}/discovery-call/")
    page.fill("#id_summary", "They dispatch by spreadsheet.")
    page.fill("#id_needs-0-statement", "Cut planning time")
    page.select_option("#id_needs-0-importance", "5")
    page.press("#id_needs-0-statement", "Control+Enter")
    expect(page.locator(".messages")).to_contain_text("Discovery call logged")
    assert DiscoveryCall.objects.filter(deal=deal).count() == 1


def test_a_date_field_is_one_tab_stop(page, login, rep, deal):
    login(page, rep)
    page.goto(f"/deals/{deal.pk}/discovery-call/")
    date = page.locator("#id_held_at")
    expect(date).to_be_focused()  # autofocus: the form's first field
    page.keyboard.press("Tab")
    expect(date).not_to_be_focused()  # one Tab leaves the whole date
    page.keyboard.press("Shift+Tab")
    expect(date).to_be_focused()


def test_focus_is_never_under_the_sticky_bars(page, login, rep, deal):
    login(page, rep)
    page.set_viewport_size({"width": 1280, "height": 600})
    page.goto(f"/deals/{deal.pk}/discovery-call/")
    covered = []
    for _ in range(40):
        page.keyboard.press("Tab")
        box = page.evaluate(
            """() => {
          const el = document.activeElement;
          if (!el || el === document.body) return null;
          const r = el.getBoundingClientRect();
          const top = document.querySelector('.topbar').getBoundingClientRect().bottom;
          const bar = document.querySelector('.sticky-actions');
          const bottom = bar && !bar.contains(el) ? bar.getBoundingClientRect().top : innerHeight;
          return {id: el.id || el.textContent.trim().slice(0, 30), top: r.top, bottom: r.bottom,
                  barTop: top, barBottom: bottom,
                  fixed: !!el.closest('.topbar, .sticky-actions, .skip-link')};
        }"""
        )
        if (
            box
            and not box["fixed"]
            and (box["top"] < box["barTop"] - 1 or box["bottom"] > box["barBottom"] + 1)
        ):
            covered.append(box)
    assert covered == []


def test_first_field_of_a_form_has_the_focus(page, login, rep, deal):
    page.goto("/accounts/login/")
    expect(page.locator("#id_username")).to_be_focused()
    login(page, rep)
    page.goto("/deals/new/")
    first = "form.deal-create-form select, form.deal-create-form input:not([type=hidden])"
    expect(page.locator(first).first).to_be_focused()


def test_phone_menu_opens_and_shows_every_link(page, login, rep):
    login(page, rep)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/deals/")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav).to_be_hidden()
    toggle = page.get_by_role("button", name="Menu")
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    for name in ("My deals", "Handoffs", "API"):
        expect(nav.get_by_role("link", name=name)).to_be_visible()
    page.keyboard.press("Escape")
    expect(nav).to_be_hidden()
