"""A deal edit travels through Redis to a real Celery worker, which stores the flag."""

import time
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection

from deals import services
from deals.models import Deal, Flag
from tests import factories as f
from tests.worker import running_worker
from winwin_crm.celery import app as celery_app


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_discounted_line_item_reaches_a_worker_and_becomes_a_stored_flag():
    if connection.vendor != "postgresql":
        pytest.skip("a worker shares the test database only on PostgreSQL")
    if not settings.REDIS_URL:
        pytest.skip("set REDIS_URL so this process publishes to the worker's Redis")
    deal = f.DealFactory(stage="proposal")

    with running_worker(needs_database=True) as (_client, queue, proc):
        # running_worker's client app made itself Celery's "current app", which shared
        # tasks resolve through; make ours current again so .delay() uses our settings.
        celery_app.set_current()
        celery_app.conf.task_always_eager = False  # the autouse fixture restores it
        default_queue = celery_app.conf.task_default_queue
        celery_app.conf.task_default_queue = queue  # the worker consumes only its own queue
        try:
            # The rep's edit: the service commits, then queues one recompute on commit.
            services.line_item_create(
                deal=deal,
                user=deal.owner,
                name="Platform licence",
                quantity=Decimal("10"),
                unit_list_price=Decimal("100.00"),
                unit_price=Decimal("70.00"),
                unit_cost=Decimal("20.00"),
            )
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                flag = Flag.objects.filter(deal=deal, code="SELLER_DISCOUNT_OVER_POLICY").first()
                if flag is not None:
                    break
                time.sleep(0.2)
            else:
                proc.terminate()
                pytest.fail(f"no flag stored by the worker within 30 s:\n{proc.stdout.read()}")
        finally:
            celery_app.conf.task_default_queue = default_queue

    assert flag.status == "open"
    assert flag.evidence["discount_pct"] == "30.00"
    deal = Deal.objects.get(pk=deal.pk)
    assert deal.seller_score == 85
    assert deal.health_computed_at is not None
