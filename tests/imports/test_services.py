from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError

from deals import pricing
from deals.imports import services
from deals.imports.services import writes
from deals.models import Contact, Deal, ImportJob, LineItem, Prospect
from tests import factories as f
from tests.imports.conftest import DEAL_HEADER, csv_bytes

pytestmark = pytest.mark.django_db


def deal_rows(n, start=0, owner="rita_rep"):
    return [
        [f"Deal {i}", f"Org {i % 7}", f"{1000 + i}.50", "Proposal made", owner, "2026-12-31"]
        for i in range(start, start + n)
    ]


def test_dry_run_reports_each_bad_cell_with_row_column_value_and_reason(make_job, rep_user):
    job = make_job(
        [
            DEAL_HEADER,
            ["Rollout", "Acme", "12000", "Proposal made", "rita_rep", "2026-12-31"],
            ["Renewal", "Acme", "lots", "Qualified", "rita_rep", "2026-12-31"],
            ["", "Acme", "10", "Qualified", "rita_rep", ""],
        ]
    )
    report = job.report
    assert job.status == ImportJob.Status.VALIDATED
    assert (report["total"], report["valid"], report["error_rows"]) == (3, 1, 2)
    assert {
        "row": 3,
        "column": "Value",
        "value": "lots",
        "reason": "Value is not a number.",
    } in report["errors"]
    assert {
        "row": 4,
        "column": "Deal Name",
        "value": "",
        "reason": "Deal name is empty; it is required.",
    } in report["errors"]
    assert report["actions"] == {"create": 1, "update": 0, "skip": 0}
    assert Deal.objects.count() == 0  # a dry run writes nothing


def test_commit_creates_deals_with_one_imported_value_item_and_consistent_totals(
    make_job, rep_user, team
):
    job = make_job([DEAL_HEADER, *deal_rows(3)])
    job = services.import_job_commit(job_id=job.id)
    assert job.status == ImportJob.Status.DONE
    assert job.processed_rows == 3
    assert job.report["result"]["created"] == 3
    deal = Deal.objects.get(title="Deal 1")
    assert (deal.team, deal.owner, deal.stage) == (team, rep_user, "proposal")
    assert str(deal.expected_close_date) == "2026-12-31"
    assert deal.list_total == deal.net_total == Decimal("1001.50")
    assert deal.cost_total == Decimal("0")
    item = LineItem.objects.get(deal=deal)
    assert (item.name, item.quantity, item.unit_list_price, item.unit_price) == (
        "Imported value",
        Decimal("1"),
        Decimal("1001.50"),
        Decimal("1001.50"),
    )
    assert deal.history.count() == 1  # audited as created by the import


def test_abort_mode_writes_nothing_when_the_last_row_fails(make_job, rep_user):
    rows = deal_rows(2500)
    rows.append(["Late failure", "Org 1", "not money", "Qualified", "rita_rep", ""])
    job = make_job([DEAL_HEADER, *rows])
    job = services.import_job_commit(job_id=job.id)
    assert job.status == ImportJob.Status.FAILED
    assert "row 2502" in job.error
    assert "Nothing was imported" in job.error
    assert Deal.objects.count() == 0
    assert Prospect.objects.count() == 0
    assert LineItem.objects.count() == 0


def test_a_database_failure_in_the_last_batch_rolls_back_every_batch(
    make_job, rep_user, monkeypatch
):
    job = make_job([DEAL_HEADER, *deal_rows(4100)])  # three batches of 2,000
    real = writes.insert_dicts
    calls = {"deals": 0}

    def failing(model, rows, **kwargs):
        if model is Deal:
            calls["deals"] += 1
            if calls["deals"] == 3:
                raise DatabaseError("disk full")
        return real(model, rows, **kwargs)

    monkeypatch.setattr(writes, "insert_dicts", failing)  # the bulk writes call it
    job = services.import_job_commit(job_id=job.id)
    assert calls["deals"] == 3
    assert job.status == ImportJob.Status.FAILED
    assert "disk full" in job.error
    assert Deal.objects.count() == 0
    assert Prospect.objects.count() == 0


def test_skip_mode_writes_the_valid_rows_only(make_job, rep_user):
    rows = [*deal_rows(3), ["Bad", "Org 1", "-5", "Qualified", "rita_rep", ""]]
    job = make_job([DEAL_HEADER, *rows], on_error="skip")
    job = services.import_job_commit(job_id=job.id)
    assert job.status == ImportJob.Status.DONE
    assert job.report["result"] == {
        "created": 3,
        "updated": 0,
        "skipped": 0,
        "failed": 1,
        "prospects_created": 3,
        "contacts_created": 0,
    }
    assert sorted(Deal.objects.values_list("title", flat=True)) == ["Deal 0", "Deal 1", "Deal 2"]


def test_rerunning_the_same_file_creates_nothing_new(make_job, rep_user):
    rows = [DEAL_HEADER, *deal_rows(5)]
    services.import_job_commit(job_id=make_job(rows).id)
    again = make_job(rows)
    assert again.report["actions"] == {"create": 0, "update": 0, "skip": 5}
    again = services.import_job_commit(job_id=again.id)
    assert again.status == ImportJob.Status.DONE
    assert Deal.objects.count() == 5
    assert Prospect.objects.count() == 5
    assert LineItem.objects.count() == 5


def test_committing_a_job_twice_writes_once(make_job, rep_user):
    job = make_job([DEAL_HEADER, *deal_rows(2)])
    services.import_job_commit(job_id=job.id)
    services.import_job_commit(job_id=job.id)
    assert Deal.objects.count() == 2


def test_external_id_is_the_key_so_a_renamed_deal_is_updated_not_duplicated(make_job, rep_user):
    header = ["Deal ID", "Title", "Company", "Amount"]
    services.import_job_commit(
        job_id=make_job([header, ["crm-1", "Old name", "Acme", "100"]], default_owner=rep_user).id
    )
    job = make_job([header, ["crm-1", "New name", "Acme", "250"]], default_owner=rep_user)
    assert job.report["actions"]["update"] == 1
    services.import_job_commit(job_id=job.id)
    deal = Deal.objects.get()
    assert (deal.title, deal.external_id, deal.version) == ("New name", "crm-1", 2)
    assert deal.list_total == deal.net_total == Decimal("250.00")
    assert LineItem.objects.get(deal=deal).unit_price == Decimal("250.00")


def test_update_keeps_the_pricing_of_a_deal_with_real_proposal_items(make_job, rep_user, team):
    deal = f.DealFactory(
        team=team,
        owner=rep_user,
        title="Rollout",
        prospect=f.ProspectFactory(team=team, name="Acme"),
    )
    f.LineItemFactory(deal=deal)
    job = make_job([["Title", "Company", "Amount", "Owner"], ["Rollout", "Acme", "5", "rita_rep"]])
    assert job.report["actions"]["skip"] == 1
    assert "proposal items" in job.report["warnings"][0]["message"]
    services.import_job_commit(job_id=job.id)
    assert LineItem.objects.filter(deal=deal).count() == 1


def test_existing_deal_is_not_closed_by_an_import(make_job, rep_user, team):
    deal = f.DealFactory(
        team=team,
        owner=rep_user,
        title="Rollout",
        stage="negotiation",
        prospect=f.ProspectFactory(team=team, name="Acme"),
    )
    job = make_job([["Title", "Company", "Stage", "Owner"], ["Rollout", "Acme", "Won", "rita_rep"]])
    services.import_job_commit(job_id=job.id)
    deal.refresh_from_db()
    assert deal.stage == "negotiation"
    assert "closing or reopening" in job.report["warnings"][0]["message"]


def test_duplicates_in_the_file_and_in_the_team_say_what_will_happen(make_job, rep_user, team):
    f.ProspectFactory(team=team, name="Acme")
    f.ProspectFactory(name="Elsewhere Inc")  # another team's prospect is not a duplicate
    job = make_job(
        [
            ["Name", "Industry"],
            ["ACME", "Retail"],
            ["Globex", "Energy"],
            ["globex", "Energy"],
            ["Elsewhere Inc", ""],
        ],
        kind="prospects",
    )
    dupes = {d["row"]: d for d in job.report["duplicates"]}
    assert dupes[2]["action"] == "update" and "already exists" in dupes[2]["reason"]
    assert dupes[4]["action"] == "skip" and dupes[4]["reason"] == "Same prospect as row 3."
    assert 5 not in dupes
    assert job.report["actions"] == {"create": 2, "update": 1, "skip": 1}
    services.import_job_commit(job_id=job.id)
    assert Prospect.objects.get(team=team, name="Acme").industry == "Retail"
    assert Prospect.objects.filter(team=team).count() == 3


def test_skip_existing_option_leaves_matching_records_alone(make_job, team):
    f.ProspectFactory(team=team, name="Acme", industry="Software")
    job = make_job(
        [["Name", "Industry"], ["Acme", "Retail"]], kind="prospects", update_existing=False
    )
    assert job.report["actions"] == {"create": 0, "update": 0, "skip": 1}
    services.import_job_commit(job_id=job.id)
    assert Prospect.objects.get(name="Acme").industry == "Software"


def test_contacts_import_matches_on_email_and_creates_missing_prospects(make_job, team):
    existing = f.ContactFactory(
        prospect=f.ProspectFactory(team=team, name="Acme"), email="jane@acme.example", title="CTO"
    )
    job = make_job(
        [
            ["First name", "Last name", "Company", "E-mail", "Phone", "Job title", "Role"],
            [
                "Jane",
                "Doe",
                "Acme",
                "JANE@acme.example",
                "+44 20 7946 0000",
                "CEO",
                "Decision maker",
            ],
            ["Bob", "Ray", "Initech", "bob@initech.example", "", "", "champion"],
            ["Amy", "Lee", "Initech", "not-an-email", "", "", ""],
        ],
        kind="contacts",
        on_error="skip",
    )
    assert job.report["prospects_to_create"] == 1
    assert job.report["errors"][0]["reason"] == "Email is not an email address."
    services.import_job_commit(job_id=job.id)
    existing.refresh_from_db()
    assert (existing.title, existing.phone, existing.buying_role) == (
        "CEO",
        "+44 20 7946 0000",
        "decision_maker",
    )
    bob = Contact.objects.get(email="bob@initech.example")
    assert (bob.name, bob.prospect.name, bob.prospect.team) == ("Bob Ray", "Initech", team)
    assert Contact.objects.count() == 2


def test_owner_by_email_or_name_and_unknown_owner_needs_a_default(make_job, rep_user, team):
    other_team_rep = f.rep(f.TeamFactory(name="Gamma"), username="gina_rep")
    rows = [
        DEAL_HEADER,
        ["A", "Acme", "1", "Lead", rep_user.email.upper(), ""],
        ["B", "Acme", "1", "Lead", rep_user.get_full_name(), ""],
        ["C", "Acme", "1", "Lead", other_team_rep.username, ""],
    ]
    job = make_job(rows)
    assert job.report["error_rows"] == 1
    assert "not a rep of team Alpha sales" in job.report["errors"][0]["reason"]
    second = f.rep(team, username="sam_rep")
    job = make_job(rows, default_owner=second)
    assert job.report["error_rows"] == 0
    services.import_job_commit(job_id=job.id)
    owners = dict(Deal.objects.values_list("title", "owner__username"))
    assert owners == {"A": "rita_rep", "B": "rita_rep", "C": "sam_rep"}


def test_default_owner_must_be_a_rep_of_the_team(make_job, other_rep, team):
    outsider = f.rep(f.TeamFactory(name="Gamma"), username="gina_rep")
    with pytest.raises(ValidationError) as exc:
        make_job([DEAL_HEADER, *deal_rows(1)], default_owner=outsider)
    assert "default_owner" in exc.value.message_dict


def test_missing_required_column_stores_nothing(make_job):
    with pytest.raises(ValidationError) as exc:
        make_job([["Deal Name", "Value"], ["Rollout", "100"]])
    assert "no column for Organization" in exc.value.message_dict["mapping"][0]
    assert ImportJob.objects.count() == 0


def test_bom_and_semicolon_file_with_european_numbers_imports(make_job, rep_user):
    raw = csv_bytes(
        [
            ["Deal Name", "Organisation", "Amount", "Deal owner", "Close date"],
            ["Übergabe", "Müller GmbH", "12.500,75", "rita_rep", "31.12.2026"],
        ],
        delimiter=";",
        bom=True,
    )
    job = make_job(raw, date_format="dmy")
    assert job.delimiter == ";"
    assert job.report["error_rows"] == 0
    services.import_job_commit(job_id=job.id)
    deal = Deal.objects.get()
    assert (deal.title, deal.prospect.name, deal.net_total, str(deal.expected_close_date)) == (
        "Übergabe",
        "Müller GmbH",
        Decimal("12500.75"),
        "2026-12-31",
    )


def test_utf16_is_a_file_error(make_job):
    raw = "Deal Name,Organization\nCafé,Zürich\n".encode("utf-16")
    with pytest.raises(ValidationError) as exc:
        make_job(raw)
    assert "UTF-16" in exc.value.message_dict["file"][0]


def test_formula_injection_cell_is_refused_and_nothing_written(make_job, rep_user):
    job = make_job([DEAL_HEADER, ["=cmd|' /C calc'!A0", "Acme", "1", "Lead", "rita_rep", ""]])
    error = job.report["errors"][0]
    assert error["column"] == "Deal Name"
    assert "formula" in error["reason"]
    services.import_job_commit(job_id=job.id)
    assert Deal.objects.count() == 0


def test_stage_table_is_prefilled_and_editable(make_job, rep_user):
    rows = [
        DEAL_HEADER,
        ["A", "Acme", "1", "Pending legal", "rita_rep", ""],
        ["B", "Acme", "1", "Contract Sent", "rita_rep", ""],
    ]
    job = make_job(rows)
    assert job.stage_mapping == {"Pending legal": "", "Contract Sent": "negotiation"}
    assert job.report["error_rows"] == 1
    job = services.import_job_validate(job=job, stage_mapping={"Pending legal": "proposal"})
    assert job.report["error_rows"] == 0
    services.import_job_commit(job_id=job.id)
    assert dict(Deal.objects.values_list("title", "stage")) == {"A": "proposal", "B": "negotiation"}


def test_closed_lost_without_a_reason_gets_one(make_job, rep_user):
    job = make_job([DEAL_HEADER, ["A", "Acme", "1", "Lost", "rita_rep", ""]])
    services.import_job_commit(job_id=job.id)
    deal = Deal.objects.get()
    assert deal.stage == "closed_lost" and deal.lost_reason and deal.closed_at


def test_progress_is_reported_per_batch(make_job, rep_user):
    job = make_job([DEAL_HEADER, *deal_rows(4500)])
    seen = []
    services.import_job_commit(
        job_id=job.id, progress=lambda done, total: seen.append((done, total))
    )
    assert seen == [(2000, 4500), (4000, 4500), (4500, 4500)]
    job.refresh_from_db()
    assert job.processed_rows == 4500


def test_health_is_queued_per_deal_for_small_imports(
    make_job, rep_user, django_capture_on_commit_callbacks, monkeypatch
):
    queued = []
    monkeypatch.setattr("deals.tasks.health_recompute_task.delay", queued.append)
    job = make_job([DEAL_HEADER, *deal_rows(3)])
    with django_capture_on_commit_callbacks(execute=True):
        services.import_job_commit(job_id=job.id)
    assert sorted(queued) == sorted(Deal.objects.values_list("id", flat=True))


def test_large_imports_queue_one_health_sweep(
    make_job, rep_user, django_capture_on_commit_callbacks, monkeypatch
):
    sweeps, single = [], []
    monkeypatch.setattr("deals.tasks.health_sweep_task.delay", lambda: sweeps.append(1))
    monkeypatch.setattr("deals.tasks.health_recompute_task.delay", single.append)
    job = make_job([DEAL_HEADER, *deal_rows(services.HEALTH_PER_DEAL_LIMIT + 1)])
    with django_capture_on_commit_callbacks(execute=True):
        services.import_job_commit(job_id=job.id)
    assert (sweeps, single) == ([1], [])


def test_bulk_pricing_refresh_follows_the_design_formulas(team, rep_user):
    deal = f.DealFactory(team=team, owner=rep_user)
    f.LineItemFactory(deal=deal, quantity=2, unit_list_price=100, unit_price=90, unit_cost=30)
    f.ConcessionFactory(deal=deal, kind="price", amount=Decimal("15"), cost_to_seller=0)
    f.ConcessionFactory(deal=deal, kind="value_add", amount=100, cost_to_seller=Decimal("7"))
    pricing.pricing_refresh_bulk(deal_ids=[deal.id])
    deal.refresh_from_db()
    assert (deal.list_total, deal.net_total, deal.cost_total) == (
        Decimal("200.00"),
        Decimal("165.00"),
        Decimal("67.00"),
    )


def test_import_writes_a_bounded_number_of_queries(
    make_job, rep_user, django_assert_max_num_queries
):
    job = make_job([DEAL_HEADER, *deal_rows(1000)])
    # SQLite caps a statement at 999 parameters, so its batches are smaller than 2,000;
    # a save per row would be over 3,000 queries.
    with django_assert_max_num_queries(120):
        services.import_job_commit(job_id=job.id)
    assert Deal.objects.count() == 1000


@pytest.mark.django_db(transaction=True)
def test_progress_is_visible_to_other_requests_while_the_transaction_is_open(team):
    # Without the test's wrapping transaction, as in a worker: the page's poll reads the job.
    manager = f.manager(team, username="mona_manager")
    f.rep(team, username="rita_rep")
    job = services.import_job_create(
        user=manager,
        file_name="d.csv",
        raw=csv_bytes([DEAL_HEADER, *deal_rows(4500)]),
        kind="deals",
    )
    seen = []

    def poll(done, total):
        seen.append(services.import_job_progress(ImportJob.objects.get(pk=job.pk)))

    job = services.import_job_commit(job_id=job.id, progress=poll)
    assert job.status == ImportJob.Status.DONE
    assert seen == [2000, 4000, 4500]
