"""Item 1: production serves pages; the smoke driver reads docker-compose.yml itself."""

import importlib.util
import re
from pathlib import Path

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[2]
MANIFEST_STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "winwin_crm.storage.ManifestStaticStorage"},
}


def _smoke_module():
    spec = importlib.util.spec_from_file_location("smoke", ROOT / ".ci" / "smoke_production.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.django_db
def test_collectstatic_under_the_manifest_storage_then_the_login_page_and_its_assets_serve(
    tmp_path, client, settings
):
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = MANIFEST_STORAGES
    settings.DEBUG = False
    # The project's own static/ only (the apps' files are not what breaks, and compressing
    # Swagger UI's takes minutes on a shared 2-core machine; the smoke test does them all).
    settings.STATICFILES_FINDERS = ["django.contrib.staticfiles.finders.FileSystemFinder"]
    # Fails today: Chart.js names a source map that is not in the repo.
    call_command("collectstatic", "--noinput", verbosity=0)

    chart = next(tmp_path.glob("vendor/chartjs/chart.umd.min.*.js"))
    assert "sourceMappingURL" not in chart.read_text()  # the dangling reference is dropped
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    htmx = re.search(rb'src="/static/(vendor/htmx/htmx\.min\.[0-9a-f]+\.js)"', response.content)
    assert htmx, "the page links the hashed file"
    assert (tmp_path / htmx.group(1).decode()).exists()


def test_a_missing_file_other_than_a_source_map_still_fails_collectstatic(tmp_path, settings):
    source = tmp_path / "src"
    (source / "css").mkdir(parents=True)
    (source / "css" / "x.css").write_text("body { background: url('missing.png'); }")
    settings.STATICFILES_DIRS = [source]
    settings.STATIC_ROOT = tmp_path / "out"
    settings.STORAGES = MANIFEST_STORAGES
    settings.STATICFILES_FINDERS = ["django.contrib.staticfiles.finders.FileSystemFinder"]
    with pytest.raises(ValueError, match="missing.png"):
        call_command("collectstatic", "--noinput", verbosity=0)


def test_smoke_driver_runs_the_compose_files_own_commands_rewriting_only_the_bind(tmp_path):
    smoke = _smoke_module()
    services = smoke.compose_services()
    assert set(services) == {"web", "worker", "beat"}  # mail, postgres, redis: not started
    web = smoke.command_argv(services["web"], 8299, tmp_path)
    assert web[:2] == ["sh", "-c"]
    assert "migrate --noinput" in web[2] and "collectstatic --noinput" in web[2]
    assert "--bind 127.0.0.1:8299" in web[2] and "0.0.0.0" not in web[2]
    assert smoke.command_argv(services["worker"], 8299, tmp_path)[:4] == [
        "celery", "-A", "winwin_crm", "worker",
    ]  # fmt: skip
    beat = smoke.command_argv(services["beat"], 8299, tmp_path)
    assert f"{tmp_path}/celerybeat-schedule" in beat


def test_smoke_driver_takes_the_environment_from_compose_with_real_addresses():
    smoke = _smoke_module()
    web = smoke.compose_services()["web"]
    env = smoke.service_env(
        web,
        {
            "DATABASE_URL": "postgres://u@127.0.0.1/x",
            "REDIS_URL": "redis://127.0.0.1:6379/3",
            "SECRET_KEY": "k" * 50,
        },
    )
    assert env["DEBUG"] == "false"
    assert env["DATABASE_URL"] == "postgres://u@127.0.0.1/x"
    assert env["SECRET_KEY"] == "k" * 50
    assert env["ALLOWED_HOSTS"]  # the compose default
    with pytest.raises(smoke.SmokeFailure, match="SECRET_KEY"):
        smoke.interpolate("${SECRET_KEY:?set it}", {})


def test_ci_runs_the_smoke_test_before_the_suite():
    script = (ROOT / ".ci" / "run").read_text()
    assert script.index("smoke_production.py") < script.index("make test")
