"""docker-compose.yml describes the production-like stack (no Docker engine runs here)."""

from pathlib import Path

import yaml

COMPOSE = Path(__file__).resolve().parents[2] / "docker-compose.yml"


def test_compose_has_web_worker_beat_postgres_and_redis_wired_by_environment():
    spec = yaml.safe_load(COMPOSE.read_text())
    services = spec["services"]
    assert {"web", "worker", "beat", "postgres", "redis"} <= services.keys()
    for name in ("web", "worker", "beat"):
        env = services[name]["environment"]
        assert env["DATABASE_URL"].startswith("postgres://")
        assert env["REDIS_URL"].startswith("redis://redis:")
        assert env["DEBUG"] == "false"
    assert "gunicorn" in services["web"]["command"]
    assert "worker" in services["worker"]["command"]
    assert "beat" in services["beat"]["command"]


def test_compose_runs_the_mail_drop_as_a_service():
    spec = yaml.safe_load(COMPOSE.read_text())
    mail = spec["services"]["mail"]
    assert mail["command"] == "python manage.py run_mail_drop --host 0.0.0.0 --port 2525"
    assert mail["environment"]["DATABASE_URL"].startswith("postgres://")
    assert mail["environment"]["REDIS_URL"].startswith("redis://redis:")
    assert "MAIL_DROP_SECRET" in mail["environment"]
    assert "2525:2525" in mail["ports"]
