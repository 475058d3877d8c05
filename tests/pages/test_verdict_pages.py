"""Issue 22 on the pages: words not codes, linked evidence, the score as its sum, the stage
preview, the confirmed close, days in stage, and a health panel that is current."""

import datetime as dt
import re
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone

from deals.health import health_recompute
from deals.models import Deal
from handoff.models import Handoff
from tests import factories as f

pytestmark = pytest.mark.django_db


def page(client, deal) -> str:
    response = client.get(reverse("deals:deal_detail", args=[deal.pk]))
    assert response.status_code == 200
    return response.content.decode()


def _outside_code_hints(html: str) -> str:
    return re.sub(r'<span class="code"[^>]*>[^<]*</span>', "", html)


@pytest.fixture
def pushy(deal):
    """Negotiation with an open security review and a close attempt on record."""
    Deal.objects.filter(pk=deal.pk).update(stage="negotiation")
    need = f.NeedFactory(deal=deal, importance=5, statement="Cut dispatch time")
    f.LineItemFactory(deal=deal, needs=[need])
    f.DisclosureFactory(deal=deal)
    f.DiscoveryCallFactory(deal=deal)
    f.BuyerMilestoneFactory(deal=deal, title="Security review")
    attempt = f.ActivityFactory(deal=deal, close_attempt=True, notes="Asked them to sign")
    f.ActivityFactory(deal=deal, initiated_by="buyer")
    health_recompute(deal_id=deal.pk)
    deal.refresh_from_db()
    deal.attempt = attempt
    return deal


def test_flags_read_as_labels_with_the_code_only_as_a_small_hint(rep_client, pushy):
    html = page(rep_client, pushy)
    assert "Close attempt before the buyer&#x27;s milestones" in html
    assert '<span class="code" title="Rule code">PRESSURE_PREMATURE_CLOSE</span>' in html
    assert "PRESSURE_PREMATURE_CLOSE" not in _outside_code_hints(html).replace(
        'data-code="PRESSURE_PREMATURE_CLOSE"', ""
    )


def test_evidence_names_the_activities_and_milestones_with_links(rep_client, pushy):
    html = page(rep_client, pushy)
    assert f'href="/deals/{pushy.pk}/#activity-{pushy.attempt.pk}"' in html
    assert f'id="activity-{pushy.attempt.pk}"' in html  # the link lands on the activity
    assert "Call by us on" in html
    assert "“Security review” (due" in html
    assert "activity ids" not in html.lower()


def test_each_score_is_shown_as_its_sum_and_says_why_it_does_not_win(rep_client, pushy):
    html = page(rep_client, pushy)
    assert 'data-testid="breakdown"' in html
    assert '100 <span class="term critical">− 30 Close attempt before the buyer' in html
    assert "= <strong>70</strong>" in html
    assert "a critical flag stands against this side" in html


def test_the_page_previews_what_the_next_stage_and_the_close_would_raise(rep_client, deal):
    f.NeedFactory(deal=deal, importance=5, statement="Works offline")
    html = page(rep_client, deal)
    assert 'data-testid="stage-preview"' in html
    preview = html.split('data-testid="stage-preview"')[1].split("</section>")[0]
    assert "If you move to Closed won" in preview
    assert "An important need nothing serves" in preview
    assert "Nothing disclosed to the buyer" in preview
    assert "Closing will ask you to confirm with a reason" in preview


def test_closing_over_an_open_milestone_asks_for_a_reason_on_the_page(rep_client, pushy, htmx):
    url = reverse("deals:deal_stage", args=[pushy.pk])
    response = rep_client.post(url, {"action": "close_won"}, **htmx)
    assert response.status_code == 400
    html = response.content.decode()
    assert 'data-testid="confirm-close"' in html
    assert "“Security review” is still open" in html
    assert Deal.objects.get(pk=pushy.pk).stage == "negotiation"

    no_reason = rep_client.post(url, {"action": "close_won", "confirm": "on"}, **htmx)
    assert no_reason.status_code == 400
    assert 'data-testid="confirm-close"' in no_reason.content.decode()

    done = rep_client.post(
        url, {"action": "close_won", "confirm": "on", "reason": "Legal waived the review"}, **htmx
    )
    assert done.status_code == 200
    assert Deal.objects.get(pk=pushy.pk).stage == "closed_won"
    assert pushy.stage_history.first().reason == "Legal waived the review"


def test_closing_again_says_the_handoff_s_real_state(rep_client, pushy, htmx, delivery_team):
    url = reverse("deals:deal_stage", args=[pushy.pk])
    body = {"action": "close_won", "confirm": "on", "reason": "Signed"}
    rep_client.post(url, body, **htmx)
    Handoff.objects.filter(deal=pushy).update(status="claimed", submitted_at=timezone.now())
    rep_client.post(
        url,
        {"action": "reopen", "stage": "negotiation", "confirm": "on", "reason": "Scope"},
        **htmx,
    )
    response = rep_client.post(url, body, **htmx)
    assert response.status_code == 200
    assert "The handoff is already claimed by delivery" in response.content.decode()


def test_the_deal_page_shows_days_in_stage_against_the_policy(rep_client, deal):
    Deal.objects.filter(pk=deal.pk).update(stage_changed_at=timezone.now() - dt.timedelta(days=9))
    html = page(rep_client, deal)
    assert "9 days in discovery (policy 21)" in html


def test_the_deal_list_sorts_by_days_in_stage(rep_client, rep_user, team):
    old = f.DealFactory(owner=rep_user, team=team, title="Stuck deal")
    Deal.objects.filter(pk=old.pk).update(stage_changed_at=timezone.now() - dt.timedelta(days=50))
    f.DealFactory(owner=rep_user, team=team, title="Fresh deal")
    html = rep_client.get(reverse("deals:deal_list") + "?sort=-days").content.decode()
    assert "Days in stage" in html
    assert html.index("Stuck deal") < html.index("Fresh deal")
    html = rep_client.get(reverse("deals:deal_list") + "?sort=days").content.decode()
    assert html.index("Fresh deal") < html.index("Stuck deal")


def test_the_unmet_need_marker_follows_the_policy_minimum(rep_client, deal):
    from deals.models import HealthPolicy

    f.NeedFactory(deal=deal, importance=3, statement="Nice reports")
    assert "warn-row" not in page(rep_client, deal).split('id="section-needs"')[1]
    policy = HealthPolicy.objects.get_or_create(team=None)[0]
    policy.unmet_need_min_importance = 3
    policy.save()
    assert "warn-row" in page(rep_client, deal).split('id="section-needs"')[1]


def test_an_edit_on_the_page_shows_its_own_verdict_without_waiting_for_the_queue(
    rep_client, deal, htmx
):
    Deal.objects.filter(pk=deal.pk).update(stage="negotiation")
    need = f.NeedFactory(deal=deal)
    f.LineItemFactory(deal=deal, needs=[need])
    f.DiscoveryCallFactory(deal=deal)
    f.ActivityFactory(deal=deal, initiated_by="buyer")
    health_recompute(deal_id=deal.pk)
    assert "BUYER_UNDISCLOSED" in page(rep_client, deal)

    # The queued recompute never runs (a busy worker): the page must not depend on it.
    with mock.patch("deals.tasks.health_recompute_task.delay"):
        response = rep_client.post(
            reverse("deals:disclosure_add", args=[deal.pk]),
            {"disclosure-kind": "limitation", "disclosure-description": "No SSO yet"},
            **htmx,
        )
        assert response.status_code == 200
        summary = rep_client.get(reverse("deals:deal_summary", args=[deal.pk])).content.decode()
    assert "BUYER_UNDISCLOSED" not in summary
    assert "No open flags" in summary


def test_the_dashboard_flag_review_shows_labels(client, manager_user, rep_user, team):
    deal = f.DealFactory(owner=rep_user, team=team)
    f.FlagFactory(deal=deal, code="STAGE_STALLED", severity="warning", side="relationship")
    client.force_login(manager_user)
    html = client.get(reverse("dashboard:flags")).content.decode()
    assert "The deal has stalled in its stage" in html
