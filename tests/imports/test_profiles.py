"""Every CRM profile with its fixture files, through the command and the API.

The fixtures (tests/imports/fixtures/<crm>/, sources in their README) are written from
each CRM's documented export format. Each import must need no manual mapping, land won
and lost deals closed, keep lost reasons and close dates, and create nothing on a re-run.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone

from deals.health import health_recompute
from deals.models import Contact, Deal, Flag, ImportJob, LineItem, Prospect
from handoff.models import Handoff
from tests import factories as f

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures"
URL = "/api/v1/imports/"

W, L = "closed_won", "closed_lost"


# crm: (deals file, extra options, what the dry run says, {title: expected})
# expected: (stage, net total or None, currency, closed on or None, lost reason part or None)
CASES: dict[str, tuple[str, list[str], str, dict[str, tuple]]] = {
    "pipedrive": (
        "deals.csv",
        [],
        "Looks like a Pipedrive deals export.",
        {
            "Nordwind fleet rollout": ("proposal", "12500.00", "EUR", None, None),
            "Alpenblick renewal": (W, "8000.00", "EUR", "2026-03-14", None),
            "Kestrel pilot": (L, "3400.50", "USD", "2026-04-02", "Went with a competitor"),
            "Harbour analytics": ("discovery", None, "EUR", None, None),
        },
    ),
    "hubspot": (
        "deals.csv",
        [],
        "Looks like a HubSpot deals export.",
        {
            "Brightline onboarding": ("proposal", "15000.00", "USD", None, None),
            "Corvid expansion": (W, "22000.00", "USD", "2026-02-27", None),
            "Dunmore trial": (L, "4200.00", "USD", "2026-03-15", "Budget frozen"),
            # No currency in the row: the team's default currency, not USD.
            "Elmwood website": ("discovery", None, "CHF", None, None),
        },
    ),
    "salesforce": (
        "opportunities_report.csv",
        [],
        "Looks like a Salesforce (report) deals export.",
        {
            "Eaux – phase 2": ("proposal", "48000.00", "USD", None, None),
            "Müller retrofit": (W, "19500.00", "USD", "2026-03-12", None),
            "Björk analytics": (L, "7250.50", "USD", "2026-04-03", "Imported as lost"),
            "Olé loyalty app": ("qualification", "3000.00", "USD", None, None),
        },
    ),
    "salesforce_dataloader": (
        "Opportunity.csv",
        ["--owner", "rita_rep"],
        "Looks like a Salesforce (Data Loader) deals export.",
        {
            "Granite ERP migration": ("negotiation", "64000.00", "EUR", None, None),
            "Harbor support plan": (W, "9000.00", "EUR", "2026-02-15", None),
            # IsClosed true, IsWon false: lost, whatever StageName says.
            "Granite BI add-on": (L, "12000.00", "EUR", "2026-05-01", "Imported as lost"),
        },
    ),
    "zoho": (
        "Deals.csv",
        [],
        "Looks like a Zoho CRM deals export.",
        {
            "Isarwerk maintenance": ("negotiation", "8400.00", "EUR", None, None),
            "Jadeport customs": (W, "15000.00", "GBP", "2026-01-31", None),
            "Kiwi sensor pilot": (L, "2500.00", "NZD", "2026-02-28", "Lost on price"),
            "Lumen fit-out": ("qualification", "1150.00", "EUR", None, None),
        },
    ),
    "odoo": (
        "crm.lead.csv",
        [],
        "Looks like an Odoo deals export.",
        {
            "Marlin POS rollout": ("proposal", "18000.00", "EUR", None, None),
            "Nadir cloud backup": (W, "6200.00", "EUR", "2026-02-20", None),
            # Archived with a lost reason: lost.
            "Opal training": (L, "2400.00", "EUR", "2026-03-10", "Too expensive"),
            "Pylon audit": ("discovery", "950.00", "EUR", None, None),
        },
    ),
    "close": (
        "opportunities.csv",
        [],
        "Looks like a Close deals export.",
        {
            # Amounts in cents; no opportunity name in Close: the lead's, with the id.
            "Quarry Tools Inc (oppo_8a1)": ("discovery", "12500.00", "USD", None, None),
            "Riverbend Clinic (oppo_8a2)": (W, "4800.00", "USD", "2026-02-27", None),
            "Saffron Foods (oppo_8a3)": (L, "999.00", "USD", None, "Imported as lost"),
            "Tidewater Inc (oppo_8a4)": ("proposal", "20000.00", "EUR", None, None),
        },
    ),
    "copper": (
        "opportunities.csv",
        [],
        "Looks like a Copper deals export.",
        {
            "Umbra CCTV upgrade": ("proposal", "7800.00", "USD", None, None),
            "Vantage fleet": (W, "31000.00", "USD", "2026-02-14", None),
            "Willow kiosk": (L, "2100.00", "USD", "2026-03-02", "Timing"),
            "Xeno lab setup": (L, "5500.00", "USD", "2026-04-15", "Imported as abandoned"),
        },
    ),
    "twenty": (
        "opportunities.csv",
        [],
        "Looks like a Twenty deals export.",
        {
            "Yarrow data platform": ("proposal", "42000.00", "USD", None, None),
            "Zephyr onboarding": (W, "9500.00", "USD", "2026-02-10", None),
            "Yarrow second site": ("qualification", "0.00", "USD", None, None),
        },
    ),
    "frappe": (
        "CRM_Deal.csv",
        [],
        "Looks like a Frappe CRM deals export.",
        {
            "Aster Hospitals (CRM-DEAL-2026-00001)": ("proposal", "240000.00", "INR", None, None),
            "Banyan Schools (CRM-DEAL-2026-00002)": (W, "90000.00", "INR", "2026-01-20", None),
            "Cedar Logistics (CRM-DEAL-2026-00003)": (
                L,
                "45000.00",
                "INR",
                "2026-02-05",
                "Chose in-house tool",
            ),
            "Aster Hospitals (CRM-DEAL-2026-00004)": (
                "qualification",
                "15000.00",
                "INR",
                None,
                None,
            ),
        },
    ),
    "suitecrm": (
        "Opportunities.csv",
        [],
        "Looks like a SuiteCRM deals export.",
        {
            # currency_id -99 is the installation's default: the team's here.
            "Delta CRM licences": ("proposal", "12000.00", "CHF", None, None),
            "Echo support": (W, "5400.00", "CHF", "2026-02-28", None),
            "Foxtrot hosting": (L, "800.00", "CHF", "2026-03-15", "Imported as lost"),
        },
    ),
    "espocrm": (
        "Opportunity.csv",
        [],
        "Looks like an EspoCRM deals export.",
        {
            "Golf club membership system": ("negotiation", "27000.00", "EUR", None, None),
            "Hotel Brix Wi-Fi": (W, "5300.00", "EUR", "2026-02-12", None),
            "Ilex printing": (L, "1900.00", "EUR", "2026-03-20", "Imported as lost"),
        },
    ),
}


@pytest.fixture
def rita(team):
    team.default_currency = "CHF"
    team.save(update_fields=["default_currency"])
    return f.rep(
        team, username="rita_rep", first_name="Rita", last_name="Ramos", email="rita@winwin.example"
    )


def files_of(crm: str) -> tuple[Path, list[Path]]:
    main = FIXTURES / crm / CASES[crm][0]
    others = sorted(p for p in (FIXTURES / crm).glob("*.csv") if p != main)
    return main, others


def run(*args) -> str:
    out, err = StringIO(), StringIO()
    call_command("import_csv", *args, stdout=out, stderr=err)
    return out.getvalue() + err.getvalue()


def assert_deals_as_expected(team, expected: dict[str, tuple]) -> None:
    deals = {d.title: d for d in Deal.objects.filter(team=team).select_related("owner")}
    assert set(deals) == set(expected)
    for title, (stage, net, currency, closed_on, reason) in expected.items():
        deal = deals[title]
        assert deal.stage == stage, title
        assert deal.owner.username == "rita_rep", title
        assert deal.currency == currency, title
        assert deal.net_total == (Decimal(net) if net else Decimal("0.00")), title
        assert deal.imported_from, title
        if stage in Deal.CLOSED_STAGES:
            assert deal.closed_at is not None, title
            if closed_on:
                assert timezone.localtime(deal.closed_at).date().isoformat() == closed_on, title
        else:
            assert deal.closed_at is None, title
        if reason:
            assert reason in deal.lost_reason, title
        items = list(deal.line_items.all())
        if net:
            assert [(i.name, i.imported) for i in items] == [("Imported value", True)]


@pytest.mark.parametrize("crm", sorted(CASES))
def test_every_profile_imports_through_the_command_and_again_creates_nothing(
    crm, manager_user, rita, team
):
    main, others = files_of(crm)
    _file, options, sentence, expected = CASES[crm]
    args = [str(main), *map(str, others), "--kind", "deals", "--team", team.name, *options]

    dry = run(*args, "--dry-run")
    assert sentence in dry
    assert "First rows as they will be stored:" in dry
    first_title = next(iter(expected))
    assert f"title={first_title}" in dry
    assert Deal.objects.count() == 0

    out = run(*args)
    assert "Imported job" in out
    assert_deals_as_expected(team, expected)
    won = Deal.objects.filter(team=team, stage=W)
    assert won.exists()
    assert all(d.handoff.status == Handoff.Status.IMPORTED for d in won)
    counts = (Deal.objects.count(), Prospect.objects.count(), Contact.objects.count())

    again = run(*args)
    assert f"created 0, updated 0, skipped {len(expected)}" in again or (
        "created 0, updated 0" in again
    )
    assert (Deal.objects.count(), Prospect.objects.count(), Contact.objects.count()) == counts
    assert Handoff.objects.count() == won.count()
    assert_deals_as_expected(team, expected)


@pytest.mark.parametrize("crm", sorted(CASES))
def test_every_profile_imports_through_the_api(
    crm, api_as, manager_user, rita, team, django_capture_on_commit_callbacks
):
    main, others = files_of(crm)
    _file, options, sentence, expected = CASES[crm]
    payload: dict = {
        "file": SimpleUploadedFile(main.name, main.read_bytes(), "text/csv"),
        "files": [SimpleUploadedFile(o.name, o.read_bytes(), "text/csv") for o in others],
        "kind": "deals",
    }
    if options:
        payload["default_owner"] = options[1]
    client = api_as(manager_user)
    response = client.post(URL, payload, format="multipart")
    assert response.status_code == 201, response.data
    body = response.data
    assert body["source"] == crm
    assert sentence in body["report"]["notes"]
    assert body["report"]["error_rows"] == 0, body["report"]["errors"]
    preview = body["report"]["preview"]
    assert {p["title"] for p in preview if "title" in p} <= set(expected)
    first = next(p for p in preview if p.get("title"))
    stage, net, currency, _closed, _reason = expected[first["title"]]
    assert first["currency"] == currency
    assert first["owner"] == "rita_rep"
    assert first["amount"] == (net or "")
    with django_capture_on_commit_callbacks(execute=True):
        commit = client.post(f"{URL}{body['id']}/commit/")
    assert commit.status_code == 202
    assert ImportJob.objects.get(pk=body["id"]).status == ImportJob.Status.DONE
    assert_deals_as_expected(team, expected)


def test_multi_file_join_shows_in_the_dry_run_and_a_zip_works_the_same(
    api_as, manager_user, rita, team, tmp_path
):
    import zipfile

    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in (FIXTURES / "twenty").glob("*.csv"):
            zf.write(path, f"twenty-export/{path.name}")
        zf.writestr("twenty-export/readme.pdf", b"%PDF-1.4")
    response = api_as(manager_user).post(
        URL,
        {"file": SimpleUploadedFile("export.zip", archive.read_bytes()), "kind": "deals"},
        format="multipart",
    )
    assert response.status_code == 201, response.data
    notes = response.data["report"]["notes"]
    assert (
        "Column 'companyId' joined with companies.csv: 3 of 3 row(s) found their organization."
        in notes
    )
    assert (
        "Column 'pointOfContactId' joined with people.csv: 1 of 1 row(s) found their "
        "contact person." in notes
    )
    assert any("readme.pdf was not used" in n for n in notes)
    assert response.data["files"]["main"] == "opportunities.csv"
    assert response.data["column_mapping"]["Organization (joined)"] == "prospect"


def test_a_join_that_misses_says_how_many(manager_user, rita, team, tmp_path):
    from django.core.management import CommandError

    deals = (FIXTURES / "salesforce_dataloader" / "Opportunity.csv").read_text()
    deals = deals.replace("0015g00000Acc0002", "0015g00000Gone999")
    (tmp_path / "Opportunity.csv").write_text(deals)
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError, match="1 row"):
        call_command(
            "import_csv",
            str(tmp_path / "Opportunity.csv"),
            str(FIXTURES / "salesforce_dataloader" / "Account.csv"),
            "--kind",
            "deals",
            "--team",
            team.name,
            "--owner",
            "rita_rep",
            "--dry-run",
            stdout=out,
            stderr=err,
        )
    assert "2 of 3 row(s) found their organization, 1 did not." in out.getvalue()
    # The error names the file's column (the joined one), not an internal field name.
    assert "Organization (joined)" in err.getvalue()
    assert "Organization is empty; it is required." in err.getvalue()


def test_imported_closed_deals_raise_no_discovery_or_oversell_flags(manager_user, rita, team):
    main, others = files_of("hubspot")
    run(str(main), "--kind", "deals", "--team", team.name)
    for deal in Deal.objects.filter(team=team):
        health_recompute(deal_id=deal.id)
    codes = {
        (d.title, code)
        for d in Deal.objects.filter(team=team)
        for code in d.flags.values_list("code", flat=True)
    }
    closed = set(
        Deal.objects.filter(team=team, stage__in=Deal.CLOSED_STAGES).values_list("title", flat=True)
    )
    assert not {
        (t, c) for t, c in codes if t in closed and c in ("BUYER_NO_DISCOVERY", "BUYER_OVERSELL")
    }
    # The open deal at proposal still asks for discovery: the history starts now.
    assert ("Brightline onboarding", "BUYER_NO_DISCOVERY") in codes
    assert ("Brightline onboarding", "BUYER_OVERSELL") not in codes
    # A real, unlinked proposal item is still oversell.
    deal = Deal.objects.get(title="Corvid expansion")
    LineItem.objects.create(deal=deal, name="Extra seats", unit_list_price=1, unit_price=1)
    health_recompute(deal_id=deal.id)
    assert Flag.objects.filter(deal=deal, code="BUYER_OVERSELL").exists()


def test_imported_won_deal_handoff_does_not_pretend_a_sales_handoff(manager_user, rita, team):
    main, _ = files_of("pipedrive")
    run(str(main), "--kind", "deals", "--team", team.name)
    handoff = Handoff.objects.get(deal__title="Alpenblick renewal")
    assert handoff.status == Handoff.Status.IMPORTED
    assert handoff.get_status_display() == "Imported: accepted as is"
    assert (handoff.submitted_at, handoff.accepted_at, handoff.package) == (None, None, {})
    assert not Handoff.objects.filter(deal__stage__in=["proposal", "closed_lost"]).exists()


def test_mapping_and_stage_map_files_override_what_was_recognised(
    manager_user, rita, team, tmp_path
):
    mapping = tmp_path / "mapping.json"
    mapping.write_text(json.dumps({"Deal - Pipeline": "notes_for_delivery"}))
    stages = tmp_path / "stages.json"
    stages.write_text(json.dumps({"Proposal Made": "negotiation"}))
    main, _ = files_of("pipedrive")
    run(
        str(main),
        "--kind",
        "deals",
        "--team",
        team.name,
        "--mapping",
        str(mapping),
        "--stage-map",
        str(stages),
    )
    deal = Deal.objects.get(title="Nordwind fleet rollout")
    assert (deal.stage, deal.notes_for_delivery) == ("negotiation", "Pipeline")


def test_bad_mapping_file_is_a_clear_error(manager_user, rita, team, tmp_path):
    from django.core.management import CommandError

    bad = tmp_path / "mapping.json"
    bad.write_text("[1, 2]")
    main, _ = files_of("pipedrive")
    with pytest.raises(CommandError, match="must hold one object"):
        run(str(main), "--kind", "deals", "--team", team.name, "--mapping", str(bad))
    stages = tmp_path / "stages.json"
    stages.write_text(json.dumps({"Proposal Made": "won"}))
    with pytest.raises(CommandError, match="unknown stage 'won'"):
        run(str(main), "--kind", "deals", "--team", team.name, "--stage-map", str(stages))


def test_source_can_be_forced_or_switched_off(manager_user, rita, team):
    from django.core.management import CommandError

    main, _ = files_of("pipedrive")
    # Generic aliases do not know "Deal - Title": without the profile the file needs a mapping.
    with pytest.raises(CommandError, match="no column for Deal name, Organization"):
        run(str(main), "--kind", "deals", "--team", team.name, "--source", "generic")
    # Forcing a profile applies it even where the headers alone would not say so.
    out = run(
        str(main), "--kind", "deals", "--team", team.name, "--source", "pipedrive", "--dry-run"
    )
    assert "Looks like a Pipedrive deals export." in out


def test_generic_files_are_not_mistaken_for_a_crm(manager_user, rita, team, tmp_path):
    from deals import exports
    from deals.imports import profiles
    from tests.imports.conftest import DEAL_HEADER

    bench_header = [
        "Deal ID",
        "Deal Name",
        "Organization",
        "Value",
        "Currency",
        "Stage",
        "Deal owner",
        "Expected close date",
        "Contact person",
        "Email",
    ]
    for headers in (DEAL_HEADER, bench_header, exports.DEAL_HEADER):
        assert profiles.detect("deals", headers).profile is None, headers


def test_organizations_and_people_files_import_with_their_profile(manager_user, rita, team):
    run(
        str(FIXTURES / "pipedrive" / "organizations.csv"),
        "--kind",
        "prospects",
        "--team",
        team.name,
    )
    sizes = dict(Prospect.objects.values_list("name", "size"))
    assert sizes == {
        "Nordwind Logistik GmbH": "large",
        "Alpenblick AG": "medium",
        "Kestrel Labs": "small",
    }
    run(str(FIXTURES / "pipedrive" / "people.csv"), "--kind", "contacts", "--team", team.name)
    jana = Contact.objects.get(email="jana.berg@nordwind.example")
    assert (jana.name, jana.prospect.name, jana.title) == (
        "Jana Berg",
        "Nordwind Logistik GmbH",
        "Head of Operations",
    )
    out = run(
        str(FIXTURES / "hubspot" / "companies.csv"),
        "--kind",
        "prospects",
        "--team",
        team.name,
        "--dry-run",
    )
    assert "Looks like a HubSpot organizations export." in out
    run(str(FIXTURES / "hubspot" / "companies.csv"), "--kind", "prospects", "--team", team.name)
    assert Prospect.objects.get(name="Corvid Health").size == "large"


def test_report_page_shows_the_detected_crm_and_the_first_rows(manager_user, rita, team, client):
    from deals.imports import services

    main, _ = files_of("zoho")
    job = services.import_job_create(
        user=manager_user, file_name=main.name, raw=main.read_bytes(), kind="deals"
    )
    client.force_login(manager_user)
    page = client.get(f"/imports/{job.pk}/").content.decode()
    assert "Looks like a Zoho CRM deals export." in page
    assert "First rows as they will be stored" in page
    assert "Isarwerk GmbH" in page and "8400.00" in page and "GBP" in page
    mapping = client.get(f"/imports/{job.pk}/mapping/").content.decode()
    assert "Looks like a Zoho CRM deals export." in mapping


def test_salesforce_report_footer_and_encoding_are_named_in_the_dry_run(manager_user, rita, team):
    main, _ = files_of("salesforce")
    out = run(str(main), "--kind", "deals", "--team", team.name, "--dry-run")
    assert "read as Windows-1252" in out
    assert "5 report footer or total line(s) below the table were left out." in out
    assert "4 rows: 4 ok" in out


def test_closed_at_falls_back_to_the_import_day_without_a_date(manager_user, rita, team, tmp_path):
    path = tmp_path / "deals.csv"
    path.write_text(
        "Deal Name,Organization,Stage,Status,Deal owner\nOne,Acme,Qualified,won,rita_rep\n"
    )
    run(str(path), "--kind", "deals", "--team", team.name)
    deal = Deal.objects.get()
    assert deal.stage == W
    assert timezone.now() - deal.closed_at < dt.timedelta(minutes=5)
    assert deal.imported_from == "csv"


def test_upload_page_takes_the_files_that_belong_together(manager_user, rita, team, client):
    from django.urls import reverse

    client.force_login(manager_user)
    folder = FIXTURES / "twenty"
    response = client.post(
        reverse("imports:index"),
        {
            "file": SimpleUploadedFile(
                "opportunities.csv", (folder / "opportunities.csv").read_bytes()
            ),
            "more_files": [
                SimpleUploadedFile("companies.csv", (folder / "companies.csv").read_bytes()),
                SimpleUploadedFile("people.csv", (folder / "people.csv").read_bytes()),
            ],
            "kind": "deals",
            "team": team.pk,
            "source": "auto",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    job = ImportJob.objects.get()
    assert (job.source, job.files["main"]) == ("twenty", "opportunities.csv")
    page = client.get(response["Location"]).content.decode()
    assert "Looks like a Twenty deals export." in page
    assert "Organization (joined)" in page


def test_our_own_export_round_trips_won_deals_as_imported_handoffs(manager_user, rita, team):
    from deals import exports
    from deals.imports import services

    won = f.DealFactory(
        team=team,
        owner=rita,
        title="Won before the move",
        stage="closed_won",
        currency="SEK",
        prospect=f.ProspectFactory(team=team, name="Fjord AB"),
    )
    Deal.objects.filter(pk=won.pk).update(list_total=Decimal("700.00"), net_total=Decimal("700.00"))
    text = "".join(exports.stream_deals_csv(Deal.objects.all()))
    Deal.objects.all().delete()
    job = services.import_job_create(
        user=manager_user, file_name="deals.csv", raw=text.encode(), kind="deals"
    )
    assert job.source == ""
    assert "No CRM recognised from the headers" in job.report["notes"][0]
    services.import_job_commit(job_id=job.id)
    deal = Deal.objects.get()
    assert (deal.title, deal.stage, deal.currency, deal.net_total) == (
        "Won before the move",
        "closed_won",
        "SEK",
        Decimal("700.00"),
    )
    assert deal.handoff.status == Handoff.Status.IMPORTED


def test_a_status_column_we_cannot_read_warns_and_leaves_the_stage_in_charge(
    manager_user, rita, team, tmp_path
):
    path = tmp_path / "deals.csv"
    path.write_text(
        "Deal Name,Organization,Stage,Status,Closed,Deal owner\n"
        "One,Acme,Proposal made,Hot,2026-01-05,rita_rep\n"
        "Two,Acme,Proposal made,Lost,no,rita_rep\n"
    )
    out = run(str(path), "--kind", "deals", "--team", team.name)
    assert "created 2" in out
    one, two = Deal.objects.order_by("title")
    assert (one.stage, two.stage) == ("proposal", "closed_lost")
    job = ImportJob.objects.get()
    messages = [w["message"] for w in job.report["warnings"]]
    assert any("is not a status we know" in m and "stage column decides" in m for m in messages)
    assert any("neither yes nor no" in m for m in messages)
