"""Two closes racing on PostgreSQL still leave exactly one handoff.

Needs real concurrent transactions, so it runs only on PostgreSQL:
DATABASE_URL=postgres://postgres@127.0.0.1:5432/winwin_handoff pytest tests/handoff
"""

import threading
import time

import pytest
from django.db import connection, transaction
from django.utils import timezone

from deals.models import Deal
from handoff import services
from handoff.models import Handoff, HandoffChecklistItem
from tests import factories as f

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs concurrent transactions (PostgreSQL)"
)


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_closes_create_one_handoff():
    sales = f.TeamFactory(name="Race sales")
    sales.default_delivery_team = f.DeliveryTeamFactory(name="Race delivery")
    sales.save()
    deal = f.DealFactory(team=sales, stage=Deal.Stage.CLOSED_WON, closed_at=timezone.now())
    start = threading.Barrier(2)
    results, errors = [], []

    def close():
        try:
            start.wait(timeout=10)
            with transaction.atomic():
                handoff = services.handoff_create_for_deal(deal=deal, user=deal.owner)
                # Hold the transaction open so the other close runs into our uncommitted row.
                time.sleep(0.3)
            results.append(handoff.pk)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=close) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert len(results) == 2 and results[0] == results[1]
    assert Handoff.objects.filter(deal=deal).count() == 1
    assert HandoffChecklistItem.objects.filter(handoff_id=results[0]).count() == 5
