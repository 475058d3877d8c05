import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from deals.models import Deal, ImportJob
from tests.imports.conftest import DEAL_HEADER, csv_bytes

pytestmark = pytest.mark.django_db

ROWS = [
    DEAL_HEADER + ["Probability"],
    ["Rollout", "Acme", "1200", "Proposal made", "rita_rep", "2026-12-31", "40%"],
    ["Renewal", "Acme", "300", "Pending legal", "rita_rep", "2026-06-30", "90%"],
]


@pytest.fixture
def manager_client(client, manager_user):
    client.force_login(manager_user)
    return client


def mapping_post(job, headers, **extra):
    data = {f"col_{i}": job.column_mapping.get(h, "") for i, h in enumerate(headers)}
    data.update({f"stage_{i}": code for i, code in enumerate(job.stage_mapping.values())})
    data.update({"date_format": "iso", "update_existing": "on", "default_owner": ""})
    data.update(extra)
    return data


def test_upload_map_report_commit_progress_done(
    manager_client, rep_user, django_capture_on_commit_callbacks
):
    page = manager_client.get(reverse("imports:index"))
    assert page.status_code == 200
    assert b"Upload a CSV file" in page.content
    assert page.context["nav"] == "imports"

    upload = manager_client.post(
        reverse("imports:index"),
        {
            "file": SimpleUploadedFile("pipedrive.csv", csv_bytes(ROWS), "text/csv"),
            "kind": "deals",
            "team": rep_user.teams.first().pk,
        },
    )
    job = ImportJob.objects.get()
    assert upload.status_code == 302
    assert upload["Location"] == reverse("imports:mapping", args=[job.pk])

    mapping = manager_client.get(upload["Location"])
    assert mapping.status_code == 200
    content = mapping.content.decode()
    assert "Probability" in content and "e.g. 40%" in content
    assert "Pending legal" in content  # the stage table lists the file's stages
    assert job.stage_mapping == {"Proposal made": "proposal", "Pending legal": ""}

    headers = DEAL_HEADER + ["Probability"]
    # First try leaves "Pending legal" unmapped: the report shows the error.
    response = manager_client.post(upload["Location"], mapping_post(job, headers))
    assert response.status_code == 302
    report = manager_client.get(response["Location"])
    assert report.status_code == 200
    text = report.content.decode()
    assert (
        "Rows with errors" in text and "Pending legal" in text and "not one of our stages" in text
    )

    # Map it in the stage table; the dry run is clean.
    job.refresh_from_db()
    data = mapping_post(job, headers)
    data[f"stage_{list(job.stage_mapping).index('Pending legal')}"] = "negotiation"
    response = manager_client.post(reverse("imports:mapping", args=[job.pk]), data)
    report = manager_client.get(response["Location"])
    assert report.context["report"]["error_rows"] == 0
    assert b"Import 2 rows" in report.content
    assert Deal.objects.count() == 0

    with django_capture_on_commit_callbacks(execute=True):
        committed = manager_client.post(
            reverse("imports:commit", args=[job.pk]), {"on_error": "abort"}
        )
    assert committed["Location"] == reverse("imports:progress", args=[job.pk])
    progress = manager_client.get(committed["Location"])
    assert progress.status_code == 200
    assert b'role="progressbar"' in progress.content
    assert b"Created 2" in progress.content
    assert b'hx-trigger="every 1s"' not in progress.content  # done: polling stops
    assert dict(Deal.objects.values_list("title", "stage")) == {
        "Rollout": "proposal",
        "Renewal": "negotiation",
    }


def test_progress_partial_polls_every_second_while_running(manager_client, manager_user, team):
    job = ImportJob.objects.create(
        kind="deals",
        team=team,
        created_by=manager_user,
        file_name="x.csv",
        content="a\n",
        status="running",
        total_rows=200,
        processed_rows=50,
    )
    response = manager_client.get(
        reverse("imports:progress", args=[job.pk]), headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    content = response.content.decode()
    assert "<html" not in content  # the partial alone
    assert 'hx-trigger="every 1s"' in content
    assert 'aria-valuenow="25"' in content
    assert "50 of 200 rows" in content


def test_abort_with_a_bad_row_shows_the_error_and_writes_nothing(
    manager_client, rep_user, django_capture_on_commit_callbacks
):
    rows = [
        DEAL_HEADER,
        ["Rollout", "Acme", "1200", "Lead", "rita_rep", ""],
        ["Bad", "Acme", "=cmd|' /C calc'!A0", "Lead", "rita_rep", ""],
    ]
    manager_client.post(
        reverse("imports:index"),
        {
            "file": SimpleUploadedFile("x.csv", csv_bytes(rows), "text/csv"),
            "kind": "deals",
            "team": rep_user.teams.first().pk,
        },
    )
    job = ImportJob.objects.get()
    manager_client.post(reverse("imports:mapping", args=[job.pk]), mapping_post(job, DEAL_HEADER))
    with django_capture_on_commit_callbacks(execute=True):
        manager_client.post(reverse("imports:commit", args=[job.pk]), {"on_error": "abort"})
    progress = manager_client.get(reverse("imports:progress", args=[job.pk]))
    assert b"Nothing was imported" in progress.content
    assert Deal.objects.count() == 0


def test_upload_errors_are_shown_on_the_form(manager_client, team):
    raw = "Deal Name,Organization\nCafé,Zürich\n".encode("utf-16")
    response = manager_client.post(
        reverse("imports:index"),
        {"file": SimpleUploadedFile("x.csv", raw, "text/csv"), "kind": "deals", "team": team.pk},
    )
    assert response.status_code == 400
    assert "UTF-16" in response.content.decode()
    assert ImportJob.objects.count() == 0


def test_mapping_without_a_required_column_shows_the_message(manager_client, rep_user, team):
    manager_client.post(
        reverse("imports:index"),
        {
            "file": SimpleUploadedFile("x.csv", csv_bytes(ROWS), "text/csv"),
            "kind": "deals",
            "team": team.pk,
        },
    )
    job = ImportJob.objects.get()
    data = mapping_post(job, DEAL_HEADER + ["Probability"], col_1="")  # unmap Organization
    response = manager_client.post(reverse("imports:mapping", args=[job.pk]), data)
    assert response.status_code == 400
    assert "no column for Organization" in response.content.decode()


def test_a_rep_gets_403_on_the_import_pages(client, rep_user):
    client.force_login(rep_user)
    assert client.get(reverse("imports:index")).status_code == 403


def test_another_teams_manager_gets_404_on_a_job(client, other_manager, manager_user, team):
    job = ImportJob.objects.create(
        kind="deals",
        team=team,
        created_by=manager_user,
        file_name="x.csv",
        content="a\n",
        status="validated",
    )
    client.force_login(other_manager)
    for name in ("report", "mapping", "progress"):
        assert client.get(reverse(f"imports:{name}", args=[job.pk])).status_code == 404
    assert client.post(reverse("imports:commit", args=[job.pk])).status_code == 404


def test_index_lists_recent_jobs_in_few_queries(
    manager_client, manager_user, team, django_assert_max_num_queries
):
    for n in range(12):
        ImportJob.objects.create(
            kind="deals", team=team, created_by=manager_user, file_name=f"f{n}.csv", content="a\n"
        )
    with django_assert_max_num_queries(12):
        response = manager_client.get(reverse("imports:index"))
    assert response.content.count(b".csv</a>") == 12
