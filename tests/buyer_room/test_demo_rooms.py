"""The demo has two buyer rooms with buyer activity, and a demo room opens by its link."""

import io

import pytest
from django.core.management import call_command

from deals import demo
from deals.buyer_room.models import BuyerNeedChange, BuyerPulse, BuyerShare
from deals.models import Deal, Flag

pytestmark = pytest.mark.django_db


def story(key):
    return Deal.objects.get(external_id=f"{demo.STORY_PREFIX}{key}")


def test_two_demo_deals_have_rooms_with_buyer_activity(client):
    demo.demo_seed(deals=0)
    oversold, pushed = story("oversold"), story("security-review")
    assert BuyerShare.objects.filter(deal__in=[oversold, pushed]).count() == 2

    change = BuyerNeedChange.objects.get(need__deal=oversold)
    assert (change.importance_before, change.importance_after) == (3, 1)
    assert oversold.activities.filter(kind="buyer_room", initiated_by="buyer").count() == 3

    pulse = BuyerPulse.objects.get(deal=pushed)
    assert pulse.felt_pushed
    flag = Flag.objects.get(deal=pushed, code="BUYER_REPORTED_PRESSURE")
    assert flag.severity == "critical" and flag.status == "open"

    demo.demo_seed(deals=0)  # a second run adds nothing
    assert BuyerShare.objects.count() == 2

    contact = pushed.prospect.contacts.get(name="Victor Hale")
    out = io.StringIO()
    call_command(
        "buyer_room_link", str(pushed.pk), str(contact.pk), stdout=out, stderr=io.StringIO()
    )
    link = out.getvalue().strip()
    page = client.get(link.removeprefix("http://127.0.0.1:8000")).content.decode()
    assert "Acme Logistics" in page and "Security review" in page
