"""The ping task makes a real round trip: Redis broker → worker process → result."""

import pytest

from tests.worker import running_worker
from winwin_crm.celery import app as celery_app


@pytest.mark.worker
def test_ping_task_round_trips_through_a_real_worker_and_redis():
    with running_worker() as (client, queue, _proc):
        result = client.send_task("winwin_crm.tasks.ping_task", args=["hello"], queue=queue)
        reply = result.get(timeout=30)
    assert reply["echo"] == "hello"
    assert reply["host"]


def test_beat_schedules_the_hourly_health_sweep():
    schedule = celery_app.conf.beat_schedule
    assert schedule["health-sweep-hourly"]["task"] == "deals.tasks.health_sweep_task"
    celery_app.loader.import_default_modules()
    assert "deals.tasks.health_sweep_task" in celery_app.tasks


def test_celery_is_json_only_with_time_limits():
    assert celery_app.conf.accept_content == ["json"]
    assert celery_app.conf.task_time_limit > 0
    assert celery_app.conf.task_acks_late is True
