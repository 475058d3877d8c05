"""Item 3: the 500s found. `?team=²` on the exports; a contacts import whose names exceed
the column passes the dry run and fails the commit; a failed job committed again."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from deals.imports import services
from deals.models import Contact, ImportJob
from tests.imports.conftest import csv_bytes

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("kind", ["deals", "prospects", "contacts"])
@pytest.mark.parametrize("value", ["²", "99999999999999999999999", "-1", "x", "1e3"])
def test_a_team_that_is_not_an_id_is_a_400_on_the_exports(api_as, manager_user, kind, value):
    response = api_as(manager_user).get(f"/api/v1/exports/{kind}.csv", {"team": value})
    assert response.status_code == 400
    assert "team" in response.json()


def test_an_export_by_team_id_still_filters(api_as, manager_user, team):
    response = api_as(manager_user).get("/api/v1/exports/prospects.csv", {"team": str(team.id)})
    assert response.status_code == 200


def _upload_contacts(client, rows):
    return client.post(
        "/api/v1/imports/",
        {"file": SimpleUploadedFile("c.csv", csv_bytes(rows), "text/csv"), "kind": "contacts"},
        format="multipart",
    )


def test_contact_names_longer_than_the_column_fail_the_dry_run_not_the_commit(
    api_as, manager_user, django_capture_on_commit_callbacks
):
    header = ["First name", "Last name", "Organization", "Email"]
    rows = [
        header,
        ["Ada", "Lovelace", "Acme", "ada@example.com"],
        ["A" * 150, "B" * 150, "Acme", "long@example.com"],  # joined: 301 > 200
    ]
    client = api_as(manager_user)
    response = _upload_contacts(client, rows)
    assert response.status_code == 201, response.json()
    report = response.json()["report"]
    errors = report["errors"]
    assert [e["row"] for e in errors] == [3]
    assert "200" in errors[0]["reason"]

    job_id = response.json()["id"]
    with django_capture_on_commit_callbacks(execute=True):
        commit = client.post(f"/api/v1/imports/{job_id}/commit/", {"on_error": "skip"})
    assert commit.status_code in (200, 202), commit.json()
    assert ImportJob.objects.get(pk=job_id).status == ImportJob.Status.DONE
    assert list(Contact.objects.values_list("name", flat=True)) == ["Ada Lovelace"]


def test_a_failed_job_cannot_be_committed_again_without_a_new_dry_run(manager_user, team):
    job = services.import_job_create(
        user=manager_user,
        file_name="p.csv",
        raw=csv_bytes([["Name"], ["Acme"]]),
        kind="prospects",
    )
    job = services.import_job_validate(job=job)
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.FAILED)
    job.refresh_from_db()
    with pytest.raises(Exception, match="failed"):
        services.import_job_queue_commit(job=job)
    assert services.import_job_commit(job_id=job.pk).status == ImportJob.Status.FAILED
    job = services.import_job_validate(job=job)  # a new dry run makes it committable
    assert services.import_job_queue_commit(job=job).status != ImportJob.Status.FAILED
