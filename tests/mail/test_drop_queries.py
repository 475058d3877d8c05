"""The drop's per-message path is lean: a plain mail is parsed once and stored with a
fixed handful of queries, and its recompute is debounced per deal when Celery has a
broker (a burst of mail on one deal queues one delayed recompute)."""

import pytest

from deals.mail import services
from deals.mail.addresses import user_drop_address
from deals.mail.smtp import deliver_message
from deals.models import Activity

from .test_services import raw_mail

pytestmark = pytest.mark.django_db


def test_a_plain_mail_costs_eight_queries_through_the_drop(world, django_assert_num_queries):
    address = user_drop_address(world.rita.pk)
    # Users (the recipient's, the sender's and every participant's) in one query and the
    # owner's roles; the deal by contact; the write's savepoint, the activity, the
    # thread-link update, the captured mail, and the release.
    with django_assert_num_queries(8):
        reply = deliver_message(raw_mail(), "rita@northwind.example", [address], None)
    assert reply == "250 2.0.0 OK: logged"
    assert Activity.objects.get().deal == world.deal


def test_a_burst_of_mail_on_one_deal_queues_one_delayed_recompute(world, monkeypatch, settings):
    from deals.tasks import health_recompute_task

    monkeypatch.setitem(health_recompute_task.app.conf, "task_always_eager", False)
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    queued = []
    monkeypatch.setattr(
        health_recompute_task,
        "apply_async",
        lambda args, countdown: queued.append((args, countdown)),
    )
    for _ in range(3):
        services.recompute_debounced(world.deal.pk)
    assert queued == [((world.deal.pk,), services.MAIL_RECOMPUTE_DEBOUNCE_SECONDS)]
