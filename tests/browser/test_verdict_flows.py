"""The verdict in a real browser: the close preview and its confirmation, and a health panel
that shows what the rep just saved while a real worker and Redis handle the queue."""

import time
import uuid

import pytest
from django.conf import settings
from django.db import connection
from playwright.sync_api import expect

from deals.health import health_recompute
from deals.models import Deal, Flag
from tests import factories as f
from tests.browser_support import CHROMIUM
from tests.worker import running_worker
from winwin_crm.celery import app as celery_app

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM, reason="no chromium binary (set CHROMIUM_PATH)"),
]


@pytest.fixture
def rep(team):
    return f.rep(team, username="rita_rep", first_name="Rita", last_name="Reyes")


@pytest.fixture
def negotiating(rep, team, delivery_team):
    deal = f.DealFactory(owner=rep, team=team, stage="negotiation", title="Fleet platform")
    need = f.NeedFactory(deal=deal, importance=5, statement="Cut dispatch time")
    f.LineItemFactory(deal=deal, needs=[need])
    f.DiscoveryCallFactory(deal=deal)
    f.ActivityFactory(deal=deal, initiated_by="buyer")
    return deal


def test_closing_with_an_open_required_milestone_shows_the_preview_and_needs_a_reason(
    page, login, screenshot, rep, negotiating
):
    f.DisclosureFactory(deal=negotiating)
    f.BuyerMilestoneFactory(deal=negotiating, title="Security review")
    health_recompute(deal_id=negotiating.pk)
    login(page, rep)
    page.goto(f"/deals/{negotiating.pk}/")

    preview = page.locator('[data-testid="stage-preview"] .preview[data-stage="closed_won"]')
    expect(preview).to_contain_text("If you move to Closed won")
    expect(preview).to_contain_text("Closing will ask you to confirm with a reason")
    screenshot(page, "22-close-preview")

    page.get_by_role("button", name="✓ Close won").click()
    dialog = page.locator('[data-testid="confirm-close"]')
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("“Security review” is still open")
    screenshot(page, "22-close-confirm")

    dialog.get_by_role("button", name="Close won with this reason").click()  # no reason yet
    dialog = page.locator('[data-testid="confirm-close"]')
    expect(dialog).to_contain_text("Say why you close despite")
    assert Deal.objects.get(pk=negotiating.pk).stage == "negotiation"

    dialog.get_by_label("Why? (delivery will read this)").fill("Their CISO waived the review")
    dialog.get_by_role("button", name="Close won with this reason").click()
    expect(page.locator(".step.closed")).to_have_text("Closed won")
    assert negotiating.stage_history.first().reason == "Their CISO waived the review"
    assert page.js_errors == []


@pytest.mark.worker
def test_the_health_panel_after_an_edit_shows_the_new_verdict_with_a_real_worker(
    page, login, rep, negotiating
):
    if connection.vendor != "postgresql":
        pytest.skip("a worker shares the test database only on PostgreSQL")
    if not settings.REDIS_URL:
        pytest.skip("set REDIS_URL so this process publishes to the worker's Redis")
    health_recompute(deal_id=negotiating.pk)
    assert Flag.objects.filter(deal=negotiating, code="BUYER_UNDISCLOSED").exists()

    # The queued recompute goes to Redis, on a queue whose worker starts only after the
    # panel has reloaded: the race a busy worker loses, made certain.
    queue = f"test-{uuid.uuid4().hex[:12]}"
    celery_app.conf.task_always_eager = False  # the autouse fixture restores it
    default_queue = celery_app.conf.task_default_queue
    celery_app.conf.task_default_queue = queue
    try:
        login(page, rep)
        page.goto(f"/deals/{negotiating.pk}/")
        expect(page.locator('.flag[data-code="BUYER_UNDISCLOSED"]')).to_be_visible()

        page.get_by_text("+ Record a disclosure").click()
        page.select_option("#id_disclosure-kind", "limitation")
        page.fill("#id_disclosure-description", "No single sign-on until Q3")
        with page.expect_response(
            lambda r: r.url.endswith(f"/deals/{negotiating.pk}/summary/")
        ) as reload:
            page.get_by_role("button", name="Record disclosure").click()
        first_panel = reload.value.text()
        assert 'data-code="BUYER_UNDISCLOSED"' not in first_panel
        assert "No open flags" in first_panel
        expect(page.locator('.flag[data-code="BUYER_UNDISCLOSED"]')).to_have_count(0)
        computed_in_request = Deal.objects.get(pk=negotiating.pk).health_computed_at

        # The queued recompute still travels through Redis to a real worker.
        with running_worker(needs_database=True, queue=queue) as (_client, _queue, proc):
            celery_app.set_current()
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                deal = Deal.objects.get(pk=negotiating.pk)
                if deal.health_computed_at > computed_in_request:
                    break
                time.sleep(0.2)
            else:
                proc.terminate()
                pytest.fail(f"the worker did not run the queued recompute:\n{proc.stdout.read()}")
        assert deal.balance == "win_win"
        assert not Flag.objects.filter(
            deal=negotiating, code="BUYER_UNDISCLOSED", status="open"
        ).exists()
    finally:
        celery_app.conf.task_default_queue = default_queue
