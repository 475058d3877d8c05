"""A flag's evidence reads as sentences: a buyer's pulse answer is what they said, with a
link to the meeting, never its ids, ISO time and True/False."""

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from deals.models import Activity
from tests import factories as f


def test_a_buyer_pulse_answer_reads_as_what_the_buyer_said(rep_client, deal):
    meeting = f.ActivityFactory(
        deal=deal,
        kind=Activity.Kind.MEETING,
        occurred_at=timezone.make_aware(dt.datetime(2026, 11, 25, 10, 0)),
    )
    f.FlagFactory(
        deal=deal,
        code="BUYER_REPORTED_PRESSURE",
        side="relationship",
        severity="critical",
        message="The buyer said they felt pushed after the meeting.",
        evidence={
            "answers": [
                {
                    "pulse_id": 1,
                    "contact_id": 2,
                    "meeting_activity_id": meeting.pk,
                    "answered_at": "2026-11-26T09:30:00+00:00",
                    "felt_pushed": True,
                    "got_what_needed": False,
                    "next_step_agreed": True,
                }
            ]
        },
    )
    html = rep_client.get(reverse("deals:deal_detail", args=[deal.pk])).content.decode()
    assert "The buyer&#x27;s answer" in html
    assert (
        "answered 26 Nov 2026 09:30 about the Meeting by us on 25 Nov 2026: felt pushed, "
        "did not get what they needed, agreed the next step" in html
    )
    assert f"#activity-{meeting.pk}" in html
    assert "True" not in html and "2026-11-26T09:30" not in html
