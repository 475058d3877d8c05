"""The delivery queue, the handoff page and the rep's draft, through the Django client."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from deals.models import Deal
from handoff.models import Handoff
from tests import factories as f

from .conftest import make_claimed, make_draft, make_submitted, tick_all

pytestmark = pytest.mark.django_db


def login(client, user):
    client.force_login(user)
    return client


def detail_url(handoff):
    return reverse("handoff:detail", args=[handoff.pk])


def flashes(response):
    return [str(m) for m in response.context["messages"]]


# --- queue ------------------------------------------------------------------------------


def test_delivery_lands_on_unclaimed_with_counts_and_a_red_overdue_countdown(
    client, won_deal, team, rep_user, delivery_user
):
    make_claimed(won_deal, delivery_user)
    on_time = make_submitted(f.DealFactory(team=team, owner=rep_user, stage="closed_won"))
    late = make_submitted(
        f.DealFactory(team=team, owner=rep_user, stage="closed_won", title="Late deal")
    )
    Handoff.objects.filter(pk=late.pk).update(sla_due_at=timezone.now() - dt.timedelta(hours=3))

    response = login(client, delivery_user).get(reverse("handoff:queue"))

    assert response.status_code == 200
    assert response.context["nav"] == "handoffs"
    assert response.context["tab"] == "unclaimed"
    counts = {key: count for key, _label, count in response.context["tabs"]}
    assert (counts["unclaimed"], counts["mine"], counts["overdue"]) == (2, 1, 1)
    html = response.content.decode()
    assert [h.pk for h in response.context["handoffs"]] == [late.pk, on_time.pk]
    assert '<span class="sla overdue">Overdue by 3 h' in html
    assert "Claim within 1 d 23 h" in html


def test_queue_tabs_filter_the_rows(client, won_deal, delivery_user):
    claimed = make_claimed(won_deal, delivery_user)
    client = login(client, delivery_user)
    mine = client.get(reverse("handoff:queue") + "?tab=mine")
    assert [h.pk for h in mine.context["handoffs"]] == [claimed.pk]
    assert list(client.get(reverse("handoff:queue") + "?tab=accepted").context["handoffs"]) == []
    unknown = client.get(reverse("handoff:queue") + "?tab=bogus")
    assert unknown.status_code == 200 and unknown.context["tab"] == "unclaimed"


def test_a_rep_lands_on_their_drafts(client, draft, rep_user):
    response = login(client, rep_user).get(reverse("handoff:queue"))
    assert response.context["tab"] == "draft"
    assert [h.pk for h in response.context["handoffs"]] == [draft.pk]


def test_the_queue_tabs_speak_each_roles_language(client, draft, rep_user, delivery_user):
    rep_tabs = [
        label
        for _k, label, _c in login(client, rep_user).get(reverse("handoff:queue")).context["tabs"]
    ]
    assert rep_tabs[:3] == ["To submit", "Waiting for delivery", "Questions for you"]
    assert "Claimed by me" not in rep_tabs and "Unclaimed" not in rep_tabs
    response = login(client, delivery_user).get(reverse("handoff:queue"))
    ops_tabs = [label for _k, label, _c in response.context["tabs"]]
    assert ops_tabs[:3] == ["Unclaimed", "Claimed by me", "Waiting for the rep"]
    assert "To submit" not in ops_tabs
    assert "claim them within the SLA" in response.content.decode()


def test_another_delivery_team_sees_an_empty_queue(client, submitted, outsider_delivery):
    response = login(client, outsider_delivery).get(reverse("handoff:queue") + "?tab=all")
    assert list(response.context["handoffs"]) == []
    assert "Acme onboarding platform" not in response.content.decode()


def test_queue_page_query_count_does_not_grow_with_rows(
    client, team, rep_user, delivery_user, django_assert_max_num_queries
):
    client = login(client, delivery_user)

    def add(n):
        for _ in range(n):
            make_submitted(f.DealFactory(team=team, owner=rep_user, stage=Deal.Stage.CLOSED_WON))

    add(2)
    with django_assert_max_num_queries(9) as few:
        client.get(reverse("handoff:queue"))
    add(8)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("handoff:queue"))
    assert len(response.context["handoffs"]) == 10


# --- the rep's draft --------------------------------------------------------------------


def test_the_rep_sees_the_draft_checklist_and_a_package_preview(client, draft, rep_user):
    response = login(client, rep_user).get(detail_url(draft))
    html = response.content.decode()
    assert response.status_code == 200
    assert response.context["can_edit_draft"] is True
    assert response.context["is_preview"] is True
    assert "Kickoff contact confirmed" in html
    assert "Submit handoff" in html
    assert "Onboard a customer in a week" in html  # the package preview
    assert "Claim handoff" not in html


def test_ticking_an_item_with_htmx_returns_the_checklist_partial(client, draft, rep_user):
    item = draft.checklist.get(key="commitments_listed")
    response = login(client, rep_user).post(
        reverse("handoff:checklist_toggle", args=[draft.pk, item.pk]),
        {"checked": "on"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<div class="card" id="checklist">')
    assert "4 required items left" in html
    item.refresh_from_db()
    assert item.checked_at is not None

    response = client.post(
        reverse("handoff:checklist_toggle", args=[draft.pk, item.pk]), HTTP_HX_REQUEST="true"
    )
    item.refresh_from_db()
    assert item.checked_at is None


def test_submitting_with_unticked_items_shows_which_and_saves_nothing(client, draft, rep_user):
    response = login(client, rep_user).post(
        reverse("handoff:submit", args=[draft.pk]), {"notes_for_delivery": "Hi"}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Check these items before submitting: Kickoff contact confirmed" in html
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_the_rep_submits_and_sees_a_flash_message(client, draft, rep_user):
    tick_all(draft)
    response = login(client, rep_user).post(
        reverse("handoff:submit", args=[draft.pk]),
        {"notes_for_delivery": "Jo prefers mornings."},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == detail_url(draft)
    assert flashes(response) == [
        "Handoff submitted. Nobody on the delivery team could be notified: "
        "it has no active members."
    ]
    draft.refresh_from_db()
    assert draft.status == "submitted"
    assert draft.package["notes_for_delivery"] == "Jo prefers mornings."
    assert "Jo prefers mornings." in response.content.decode()


def test_the_rep_saves_notes_on_the_draft(client, draft, rep_user):
    response = login(client, rep_user).post(
        reverse("handoff:notes", args=[draft.pk]),
        {"notes_for_delivery": "Bring donuts."},
        follow=True,
    )
    assert flashes(response) == ["Notes for delivery saved."]
    draft.refresh_from_db()
    assert draft.notes_for_delivery == "Bring donuts."


# --- the delivery side ------------------------------------------------------------------


def test_delivery_claims_from_the_page(client, submitted, delivery_user):
    client = login(client, delivery_user)
    page = client.get(detail_url(submitted))
    assert "Claim handoff" in page.content.decode()
    assert page.context["is_preview"] is False

    response = client.post(reverse("handoff:claim", args=[submitted.pk]), follow=True)
    assert flashes(response) == ["You claimed this handoff."]
    html = response.content.decode()
    assert "Accept handoff" in html and "Ask the rep" in html


def test_claiming_twice_flashes_the_refusal(client, claimed, teammate):
    response = login(client, teammate).post(
        reverse("handoff:claim", args=[claimed.pk]), follow=True
    )
    assert response.status_code == 200
    [message] = flashes(response)
    assert "it is claimed" in message


def test_an_empty_question_re_renders_with_the_error(client, claimed, delivery_user):
    response = login(client, delivery_user).post(
        reverse("handoff:ask", args=[claimed.pk]), {"question": ""}
    )
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    claimed.refresh_from_db()
    assert claimed.status == "claimed"


def test_question_answer_and_accept_from_the_pages(client, claimed, delivery_user, rep_user):
    client = login(client, delivery_user)
    response = client.post(
        reverse("handoff:ask", args=[claimed.pk]), {"question": "Who runs IT?"}, follow=True
    )
    assert flashes(response) == [f"Question sent to the rep. {rep_user} was notified."]

    client.force_login(rep_user)
    page = client.get(detail_url(claimed))
    assert "Send answer" in page.content.decode()
    response = client.post(
        reverse("handoff:answer", args=[claimed.pk]), {"answer": "Sam, the CTO."}, follow=True
    )
    assert flashes(response) == [f"Answer sent to delivery. {delivery_user} was notified."]
    html = response.content.decode()
    assert "Who runs IT?" in html and "Sam, the CTO." in html

    client.force_login(delivery_user)
    response = client.post(reverse("handoff:accept", args=[claimed.pk]), follow=True)
    assert flashes(response)[0].startswith("Handoff accepted")
    html = response.content.decode()
    assert "Record check-in" in html and "Mark done" in html


def test_delivery_ticks_a_commitment_done_and_records_a_check_in(
    client, accepted, delivery_user, won_deal
):
    client = login(client, delivery_user)
    commitment = won_deal.commitments.get(status="open")
    response = client.post(
        reverse("handoff:commitment_status", args=[accepted.pk, commitment.pk]),
        {"status": "done"},
        follow=True,
    )
    assert flashes(response) == ["“Migrate their historical data” marked done."]
    commitment.refresh_from_db()
    assert commitment.status == "done"

    check_in = accepted.check_ins.get(day_offset=30)
    url = reverse("handoff:check_in_record", args=[accepted.pk, check_in.pk])
    prefix = f"checkin-{check_in.pk}"
    bad = client.post(url, {f"{prefix}-customer_value": "", f"{prefix}-referrals": "-1"})
    assert bad.status_code == 400
    assert "This field is required." in bad.content.decode()
    check_in.refresh_from_db()
    assert check_in.completed_at is None

    response = client.post(
        url,
        {
            f"{prefix}-customer_value": "5",
            f"{prefix}-account_health": "profitable",
            f"{prefix}-referrals": "2",
            f"{prefix}-notes": "Renewing early.",
        },
        follow=True,
    )
    assert flashes(response) == ["Day-30 check-in recorded."]
    check_in.refresh_from_db()
    assert (check_in.customer_value, check_in.account_health, check_in.referrals) == (
        5,
        "profitable",
        2,
    )


def test_the_handoff_page_shows_changes_since_the_snapshot(client, submitted, won_deal, rep_user):
    f.LineItemFactory(deal=won_deal, name="Premium support add-on")
    response = login(client, rep_user).get(detail_url(submitted))
    html = response.content.decode()
    assert "Changes on the deal since the snapshot" in html
    assert "Line item added" in html and "Premium support add-on" in html


# --- permissions --------------------------------------------------------------------------


def test_users_who_may_not_see_the_handoff_get_404_pages(
    client, submitted, other_rep, other_manager, outsider_delivery
):
    for user in (other_rep, other_manager, outsider_delivery):
        client.force_login(user)
        assert client.get(detail_url(submitted)).status_code == 404
        assert client.post(reverse("handoff:claim", args=[submitted.pk])).status_code == 404
    submitted.refresh_from_db()
    assert submitted.status == "submitted"


def test_a_manager_sees_the_page_without_action_buttons_and_is_refused_on_post(
    client, submitted, manager_user
):
    client = login(client, manager_user)
    html = client.get(detail_url(submitted)).content.decode()
    assert "Claim handoff" not in html and "Submit handoff" not in html
    assert client.post(reverse("handoff:claim", args=[submitted.pk])).status_code == 403


def test_delivery_cannot_tick_the_reps_checklist(client, won_deal, delivery_user):
    draft = make_draft(won_deal)
    item = draft.checklist.first()
    response = login(client, delivery_user).post(
        reverse("handoff:checklist_toggle", args=[draft.pk, item.pk]), {"checked": "on"}
    )
    assert response.status_code == 403
    item.refresh_from_db()
    assert item.checked_at is None


def test_action_urls_refuse_get(client, submitted, delivery_user):
    response = login(client, delivery_user).get(reverse("handoff:claim", args=[submitted.pk]))
    assert response.status_code == 405
