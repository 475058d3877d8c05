"""Settings come from the environment: both databases, eager Celery, SECRET_KEY rules."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = (
    "import django, json; django.setup(); from django.conf import settings; "
    "print(json.dumps({'engine': settings.DATABASES['default']['ENGINE'], "
    "'name': str(settings.DATABASES['default']['NAME']), "
    "'eager': settings.CELERY_TASK_ALWAYS_EAGER, 'broker': settings.CELERY_BROKER_URL, "
    "'debug': settings.DEBUG}))"
)


def load_settings(**env_overrides):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG", "CELERY_TASK_ALWAYS_EAGER"}
    }
    env["DJANGO_SETTINGS_MODULE"] = "winwin_crm.settings"
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def test_default_is_sqlite_under_var_with_eager_celery():
    result = load_settings()
    assert result.returncode == 0, result.stderr
    conf = json.loads(result.stdout.strip().splitlines()[-1])
    assert conf["engine"] == "django.db.backends.sqlite3"
    assert conf["name"].endswith("var/winwin.sqlite3")
    assert conf["eager"] is True


def test_postgres_url_selects_postgresql_and_redis_url_selects_broker():
    result = load_settings(
        DATABASE_URL="postgres://crm:pw@db.internal:5432/winwin",
        REDIS_URL="redis://cache.internal:6379/0",
    )
    assert result.returncode == 0, result.stderr
    conf = json.loads(result.stdout.strip().splitlines()[-1])
    assert conf["engine"] == "django.db.backends.postgresql"
    assert conf["name"] == "winwin"
    assert conf["eager"] is False
    assert conf["broker"] == "redis://cache.internal:6379/0"


def test_debug_off_without_secret_key_refuses_to_start_with_a_clear_message():
    result = load_settings(DEBUG="false")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_debug_off_with_secret_key_starts():
    result = load_settings(DEBUG="false", SECRET_KEY="x" * 60)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1])["debug"] is False
