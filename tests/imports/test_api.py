import csv
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from deals.models import Deal, ImportJob
from tests import factories as f
from tests.imports.conftest import DEAL_HEADER, csv_bytes

pytestmark = pytest.mark.django_db

URL = "/api/v1/imports/"
ROWS = [DEAL_HEADER, ["Rollout", "Acme", "1200", "Proposal made", "rita_rep", "2026-12-31"]]


def upload(client, raw=None, name="deals.csv", **data):
    payload = {
        "file": SimpleUploadedFile(name, raw or csv_bytes(ROWS), "text/csv"),
        "kind": "deals",
        **data,
    }
    return client.post(URL, payload, format="multipart")


def test_upload_returns_the_dry_run_report(api_as, manager_user, rep_user):
    response = upload(api_as(manager_user))
    assert response.status_code == 201, response.data
    body = response.data
    assert body["status"] == "validated"
    assert body["headers"] == DEAL_HEADER
    assert body["column_mapping"]["Deal owner"] == "owner"
    assert body["report"]["actions"] == {"create": 1, "update": 0, "skip": 0}
    assert body["update_existing"] is True  # a multipart form without it keeps the default
    assert Deal.objects.count() == 0


def test_upload_with_mapping_stage_table_and_options_as_json_fields(
    api_as, manager_user, rep_user, django_capture_on_commit_callbacks
):
    raw = csv_bytes(
        [["Naam", "Bedrijf", "Fase", "Sluitdatum"], ["Uitrol", "Acme BV", "Offerte", "31/12/2026"]],
        delimiter=";",
        bom=True,
    )
    response = upload(
        api_as(manager_user),
        raw,
        mapping=json.dumps(
            {
                "Naam": "title",
                "Bedrijf": "prospect",
                "Fase": "stage",
                "Sluitdatum": "expected_close_date",
            }
        ),
        stage_mapping=json.dumps({"Offerte": "proposal"}),
        date_format="dmy",
        default_owner="rita_rep",
        on_error="skip",
    )
    assert response.status_code == 201, response.data
    assert response.data["delimiter"] == ";"
    assert response.data["report"]["error_rows"] == 0
    with django_capture_on_commit_callbacks(execute=True):
        commit = api_as(manager_user).post(f"{URL}{response.data['id']}/commit/")
    assert commit.status_code == 202
    deal = Deal.objects.get()
    assert (deal.title, deal.stage, str(deal.expected_close_date), deal.owner) == (
        "Uitrol",
        "proposal",
        "2026-12-31",
        rep_user,
    )


def test_windows_1252_file_is_read_and_the_dry_run_says_so(api_as, manager_user):
    raw = "Deal Name,Organization\nCafé,Zürich\n".encode("cp1252")
    response = upload(api_as(manager_user), raw)
    assert response.status_code == 201, response.data
    assert any("read as Windows-1252" in n for n in response.data["report"]["notes"])
    assert ImportJob.objects.get().content.startswith("Deal Name,Organization\nCafé,Zürich")


def test_utf16_file_is_a_400_with_a_file_error(api_as, manager_user):
    response = upload(api_as(manager_user), "Deal Name,Organization\n".encode("utf-16"))
    assert response.status_code == 400
    assert "UTF-16" in response.data["file"][0]
    assert ImportJob.objects.count() == 0


def test_oversized_file_is_a_400(api_as, manager_user, settings):
    settings.IMPORT_MAX_BYTES = 50
    response = upload(api_as(manager_user))
    assert response.status_code == 400
    assert "largest file you can import" in response.data["file"][0]


def test_missing_required_column_is_a_400_naming_it(api_as, manager_user):
    response = upload(api_as(manager_user), csv_bytes([["Deal Name", "Value"], ["A", "1"]]))
    assert response.status_code == 400
    assert "no column for Organization" in response.data["mapping"][0]


def test_bad_mapping_json_is_a_400(api_as, manager_user):
    response = upload(api_as(manager_user), mapping="{not json")
    assert response.status_code == 400
    assert "mapping" in response.data


def test_a_rep_may_not_import(api_as, rep_user):
    assert upload(api_as(rep_user)).status_code == 403
    assert api_as(rep_user).get(URL).status_code == 403


def test_a_manager_of_another_team_cannot_see_or_commit_the_job(
    api_as, manager_user, other_manager, rep_user
):
    job_id = upload(api_as(manager_user)).data["id"]
    stranger = api_as(other_manager)
    assert stranger.get(f"{URL}{job_id}/").status_code == 404
    assert stranger.post(f"{URL}{job_id}/commit/").status_code == 404
    assert stranger.get(URL).data["count"] == 0
    assert api_as(manager_user).get(URL).data["count"] == 1
    assert Deal.objects.count() == 0


def test_a_manager_cannot_import_into_another_team(api_as, manager_user, other_team):
    response = upload(api_as(manager_user), team=other_team.id)
    assert response.status_code == 400
    assert "team" in response.data


def test_admin_imports_into_a_named_team(api_as, admin_user, team, other_team, rep_user):
    assert upload(api_as(admin_user)).status_code == 400  # several teams: must choose
    assert upload(api_as(admin_user), team=team.id).status_code == 201


def test_commit_then_status_shows_done_with_the_result(
    api_as, manager_user, rep_user, django_capture_on_commit_callbacks
):
    client = api_as(manager_user)
    job_id = upload(client).data["id"]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{URL}{job_id}/commit/", {"on_error": "abort"})
    assert response.status_code == 202
    detail = client.get(f"{URL}{job_id}/").data
    assert detail["status"] == "done"
    assert detail["progress_pct"] == 100
    assert detail["report"]["result"]["created"] == 1
    again = client.post(f"{URL}{job_id}/commit/")
    assert again.status_code == 400  # a done job is not run twice
    assert Deal.objects.count() == 1


def test_revalidate_with_a_default_owner_fixes_unknown_owners(api_as, manager_user, rep_user):
    client = api_as(manager_user)
    raw = csv_bytes([DEAL_HEADER, ["Rollout", "Acme", "1", "Lead", "someone@else", ""]])
    job = upload(client, raw).data
    assert job["report"]["error_rows"] == 1
    response = client.post(f"{URL}{job['id']}/validate/", {"default_owner": "rita_rep"})
    assert response.status_code == 200, response.data
    assert response.data["report"]["error_rows"] == 0
    bad = client.post(f"{URL}{job['id']}/validate/", {"default_owner": "nobody"})
    assert bad.status_code == 400 and "default_owner" in bad.data


def test_import_list_query_count_does_not_grow(
    api_as, manager_user, team, django_assert_max_num_queries
):
    for _ in range(15):
        ImportJob.objects.create(
            kind="deals", team=team, created_by=manager_user, file_name="x.csv", content="a\n"
        )
    with django_assert_max_num_queries(8):
        response = api_as(manager_user).get(URL)
    assert response.data["count"] == 15


# --- Exports ---------------------------------------------------------------------------


def rows_of(response) -> list[dict]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def test_deals_export_is_scoped_to_what_the_user_sees(api_as, rep_user, other_rep, team):
    mine = f.DealFactory(team=team, owner=rep_user, title="Mine")
    f.DealFactory(team=team, owner=other_rep, title="Theirs")
    response = api_as(rep_user).get("/api/v1/exports/deals.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    assert [r["Title"] for r in rows_of(response)] == [mine.title]


def test_manager_exports_the_team_and_not_other_teams(
    api_as, manager_user, rep_user, team, other_team
):
    f.DealFactory(team=team, owner=rep_user, title="Ours")
    f.DealFactory(team=other_team, title="Elsewhere")
    f.ContactFactory(prospect=f.ProspectFactory(team=other_team), name="Hidden")
    f.ContactFactory(prospect=f.ProspectFactory(team=team, name="Acme"), name="Visible")
    client = api_as(manager_user)
    assert [r["Title"] for r in rows_of(client.get("/api/v1/exports/deals.csv"))] == ["Ours"]
    contacts = rows_of(client.get("/api/v1/exports/contacts.csv"))
    assert [c["Name"] for c in contacts] == ["Visible"]
    prospects = {p["Name"] for p in rows_of(client.get("/api/v1/exports/prospects.csv"))}
    assert "Acme" in prospects and len(prospects) == 2  # Acme + the "Ours" deal's prospect


def test_export_needs_a_login(api_client):
    assert api_client.get("/api/v1/exports/deals.csv").status_code in (401, 403)
