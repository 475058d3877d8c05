from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from deals.models import Deal, ImportJob
from tests.imports.conftest import DEAL_HEADER, csv_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def csv_file(tmp_path):
    def write(rows, **kwargs):
        path = tmp_path / "pipeline.csv"
        path.write_bytes(csv_bytes(rows, **kwargs))
        return str(path)

    return write


GOOD = [
    DEAL_HEADER,
    ["Rollout", "Acme", "1200", "Proposal made", "rita_rep", "31/12/2026"],
    ["Renewal", "Initech", "300", "Won", "", "01/02/2026"],
]


def run(*args):
    out, err = StringIO(), StringIO()
    call_command("import_csv", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_import_with_progress_bar_and_default_owner(csv_file, manager_user, rep_user, team):
    out, _ = run(
        csv_file(GOOD),
        "--kind",
        "deals",
        "--team",
        team.name,
        "--date-format",
        "dmy",
        "--owner",
        "rita_rep",
    )
    assert "[########################################] 100.0% 2/2" in out
    assert "created 2" in out
    deals = dict(Deal.objects.values_list("title", "expected_close_date"))
    assert str(deals["Renewal"]) == "2026-02-01"
    assert set(Deal.objects.values_list("owner__username", flat=True)) == {"rita_rep"}


def test_dry_run_writes_nothing(csv_file, manager_user, rep_user, team):
    out, _ = run(
        csv_file(GOOD),
        "--kind",
        "deals",
        "--team",
        team.name,
        "--date-format",
        "dmy",
        "--owner",
        "rita_rep",
        "--dry-run",
    )
    assert "would create 2" in out and "nothing written" in out
    assert Deal.objects.count() == 0


def test_validation_failure_exits_non_zero_and_writes_nothing(
    csv_file, manager_user, rep_user, team
):
    rows = [*GOOD, ["Late", "Acme", "1e999999", "Lead", "rita_rep", "2026-13-01"]]
    with pytest.raises(CommandError, match="row\\(s\\) have errors; nothing was written"):
        run(
            csv_file(rows),
            "--kind",
            "deals",
            "--team",
            team.name,
            "--date-format",
            "dmy",
            "--owner",
            "rita_rep",
        )
    assert Deal.objects.count() == 0
    assert ImportJob.objects.get().status == "failed"


def test_dry_run_with_errors_exits_non_zero_and_prints_them(csv_file, manager_user, team):
    with pytest.raises(CommandError):
        run(csv_file(GOOD), "--kind", "deals", "--team", team.name, "--dry-run")


def test_skip_mode_imports_the_valid_rows(csv_file, manager_user, rep_user, team):
    rows = [*GOOD, ["Late", "Acme", "abc", "Lead", "rita_rep", ""]]
    out, err = run(
        csv_file(rows),
        "--kind",
        "deals",
        "--team",
        team.name,
        "--date-format",
        "dmy",
        "--owner",
        "rita_rep",
        "--on-error",
        "skip",
    )
    assert "row 4, Deal Name" not in err
    assert "row 4, Value 'abc': Value is not a number." in err
    assert "left out 1" in out
    assert Deal.objects.count() == 2


def test_rerun_creates_nothing_new(csv_file, manager_user, rep_user, team):
    path = csv_file(GOOD)
    args = (
        path,
        "--kind",
        "deals",
        "--team",
        team.name,
        "--date-format",
        "dmy",
        "--owner",
        "rita_rep",
    )
    run(*args)
    out, _ = run(*args)
    assert "created 0" in out and "skipped 2" in out
    assert Deal.objects.count() == 2


def test_semicolon_bom_prospects_file(csv_file, manager_user, team):
    path = csv_file(
        [["Company", "Industry", "Website"], ["Müller GmbH", "Retail", "mueller.de"]],
        delimiter=";",
        bom=True,
    )
    run(path, "--kind", "prospects", "--team", team.name)
    assert team.prospects.get().website == "https://mueller.de"


def test_unknown_team_or_file_is_a_clear_error(csv_file, team):
    with pytest.raises(CommandError, match="No sales team called 'Nope'"):
        run(csv_file(GOOD), "--kind", "deals", "--team", "Nope")
    with pytest.raises(CommandError, match="No such file"):
        run("/nonexistent.csv", "--kind", "deals", "--team", team.name)


def test_wrong_encoding_is_a_clear_error(tmp_path, manager_user, team):
    path = tmp_path / "utf16.csv"
    path.write_bytes("Deal Name,Organization\nCafé,Zürich\n".encode("utf-16"))
    with pytest.raises(CommandError, match="UTF-16"):
        run(str(path), "--kind", "deals", "--team", team.name)
