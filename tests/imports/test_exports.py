import csv
import io
from decimal import Decimal

import pytest

from deals import exports
from deals.imports import services
from deals.models import Contact, Deal, LineItem, Prospect
from tests import factories as f

pytestmark = pytest.mark.django_db


def read(lines) -> list[dict]:
    return list(csv.DictReader(io.StringIO("".join(lines))))


@pytest.fixture
def priced_deal(team, rep_user):
    prospect = f.ProspectFactory(team=team, name="=HYPERLINK(evil)", website="https://acme.example")
    deal = f.DealFactory(
        team=team,
        owner=rep_user,
        prospect=prospect,
        title="-50% rollout",
        stage="negotiation",
        lost_reason="",
        currency="EUR",
    )
    # list 1000, net 900, cost 300 → discount 10 %, margin 66.67 %
    Deal.objects.filter(pk=deal.pk).update(
        list_total=Decimal("1000.00"),
        net_total=Decimal("900.00"),
        cost_total=Decimal("300.00"),
        buyer_score=85,
        seller_score=55,
        balance="seller_loses",
    )
    f.FlagFactory(deal=deal, code="SELLER_MARGIN_BELOW_FLOOR", status="open")
    f.FlagFactory(deal=deal, code="PRESSURE_CHASING", status="open")
    f.FlagFactory(deal=deal, code="BUYER_OVERSELL", status="resolved")
    f.ContactFactory(prospect=prospect, name="@jane", phone="+1 555 0100", email="j@acme.example")
    return deal


def test_deals_export_has_totals_discount_margin_scores_and_open_flag_codes(priced_deal):
    (row,) = read(exports.stream_deals_csv(Deal.objects.all()))
    assert row["ID"] == str(priced_deal.id)
    assert (row["Stage"], row["Owner"], row["Currency"]) == ("negotiation", "rita_rep", "EUR")
    assert (row["List total"], row["Net total"], row["Cost total"]) == (
        "1000.00",
        "900.00",
        "300.00",
    )
    assert (row["Discount %"], row["Margin %"]) == ("10.00", "66.67")
    assert (row["Buyer score"], row["Seller score"], row["Balance"]) == ("85", "55", "seller_loses")
    assert row["Open flags"] == "PRESSURE_CHASING SELLER_MARGIN_BELOW_FLOOR"


def test_cells_that_a_spreadsheet_would_run_are_escaped(priced_deal):
    (deal,) = read(exports.stream_deals_csv(Deal.objects.all()))
    assert deal["Title"] == "'-50% rollout"
    assert deal["Organization"] == "'=HYPERLINK(evil)"
    (contact,) = read(exports.stream_contacts_csv(Contact.objects.all()))
    assert contact["Name"] == "'@jane"
    assert contact["Phone"] == "'+1 555 0100"
    assert exports.escape_cell("plain") == "plain"
    assert exports.escape_cell(None) == ""


def test_deals_export_is_one_query_whatever_the_number_of_deals(
    team, rep_user, django_assert_num_queries
):
    for _ in range(30):
        deal = f.DealFactory(team=team, owner=rep_user)
        f.FlagFactory(deal=deal)
    with django_assert_num_queries(1):
        rows = read(exports.stream_deals_csv(Deal.objects.all()))
    assert len(rows) == 30
    assert all(r["Open flags"] == "PRESSURE_CHASING" for r in rows)


def test_export_streams_lazily():
    lines = exports.stream_deals_csv(Deal.objects.none())
    assert not isinstance(lines, list)


def test_exported_files_import_back_into_an_empty_database_with_the_same_data(
    priced_deal, team, rep_user, manager_user
):
    other = f.DealFactory(
        team=team,
        owner=rep_user,
        title='Renewal, 2027 "gold"',
        stage="closed_lost",
        lost_reason="Chose a cheaper tool",
        prospect=f.ProspectFactory(
            team=team, name="Initech", industry="Retail", size="large", notes="Line one\nline two"
        ),
        expected_close_date=None,
        notes_for_delivery="Call before 9",
    )
    Deal.objects.filter(pk=other.pk).update(list_total=Decimal("50.00"), net_total=Decimal("50.00"))
    f.ContactFactory(
        prospect=other.prospect,
        name="Bob",
        email="bob@initech.example",
        buying_role="decision_maker",
        title="CFO",
        notes="Prefers email",
    )
    f.ProspectFactory(team=team, name="Umbrella", external_id="crm-9")

    def snapshot():
        deals = sorted(
            Deal.objects.values_list(
                "title",
                "prospect__name",
                "stage",
                "owner__username",
                "currency",
                "expected_close_date",
                "lost_reason",
                "notes_for_delivery",
                "list_total",
                "net_total",
                "cost_total",
                "external_id",
            )
        )
        prospects = sorted(
            Prospect.objects.values_list(
                "name", "industry", "size", "website", "notes", "external_id"
            )
        )
        contacts = sorted(
            Contact.objects.values_list(
                "name", "prospect__name", "title", "email", "phone", "buying_role", "notes"
            )
        )
        return deals, prospects, contacts

    before = snapshot()
    files = {
        "prospects": "".join(exports.stream_prospects_csv(Prospect.objects.all())),
        "contacts": "".join(exports.stream_contacts_csv(Contact.objects.all())),
        "deals": "".join(exports.stream_deals_csv(Deal.objects.all())),
    }
    LineItem.objects.all().delete()
    Deal.objects.all().delete()
    Contact.objects.all().delete()
    Prospect.objects.all().delete()

    for kind in ("prospects", "contacts", "deals"):
        job = services.import_job_create(
            user=manager_user,
            file_name=f"{kind}.csv",
            raw=("\ufeff" + files[kind]).encode(),
            kind=kind,
        )
        assert job.report["error_rows"] == 0, job.report["errors"]
        job = services.import_job_commit(job_id=job.id)
        assert job.status == "done", job.error

    assert snapshot() == before
    for deal in Deal.objects.all():  # totals agree with the imported line item
        item = LineItem.objects.get(deal=deal)
        assert (item.unit_list_price, item.unit_price) == (deal.list_total, deal.net_total)
