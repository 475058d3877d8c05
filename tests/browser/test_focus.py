"""Autofocus on every form: a form that opens (a <details> "+ Add…", an inline edit loaded
by htmx) puts the focus on its first field, so a keyboard user types at once; a page's own
form does so on arrival (checked page by page in test_every_page.py via Page.focus)."""

import pytest
from playwright.sync_api import expect

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
    deal = f.DealFactory(owner=rep, team=rep.teams.first(), title="Dispatch automation")
    f.NeedFactory(deal=deal, statement="Planning takes three hours")
    return deal


def test_opening_an_add_form_focuses_its_first_field(page, login, rep, deal):
    login(page, rep)
    page.goto(f"/deals/{deal.pk}/")
    # The page itself is for reading: nothing grabs the focus on arrival.
    assert page.evaluate("document.activeElement === document.body")
    for section in ("#section-commitments", "#section-disclosures", "#section-plan"):
        summary = page.locator(f"{section} details.add-form > summary")
        summary.click()
        # The focus moves once the <details> has opened (a zero-delay timer): wait for it.
        expect(page.locator(f"{section} form").first.locator(":focus")).to_have_count(1)
        assert page.evaluate("document.activeElement.matches('input, select, textarea')"), section
    # By keyboard too: Enter on a summary opens it with the focus in the form.
    summary = page.locator("#section-concessions details.add-form > summary")
    summary.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#section-concessions form :focus")).to_have_count(1)
    assert not page.js_errors


def test_an_inline_edit_form_arrives_with_the_focus_in_its_first_field(page, login, rep, deal):
    login(page, rep)
    page.goto(f"/deals/{deal.pk}/")
    page.locator("#section-needs a", has_text="Edit").first.click()
    form = page.locator("#section-needs tr.editing form")
    expect(form).to_be_visible()
    expect(form.locator(":focus")).to_have_count(1)
    assert page.evaluate("document.activeElement.matches('input, select, textarea')")
