"""The deal list is written by a lean read-only serializer: every item must read exactly
like the detail of the same deal, and the page must cost the same queries at any size."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from deals import services
from deals.api.serializers import DealListSerializer
from deals.models import Concession, Deal, HealthSweep
from tests import factories as f
from tests.api.domain_helpers import _fresh_request_user
from winwin_crm.api.pagination import PageStatement, ProjectedRows, encode_cursor

URL = "/api/v1/deals/"
# The page and its bounded count: one statement on PostgreSQL (ProjectedRows), a page and a
# COUNT(*) elsewhere.
PAGE_QUERIES = 1 if connection.vendor == "postgresql" else 2


@pytest.fixture
def varied_deals(rep_user, team):
    """Deals in the states that change how a field is written: no prices (no percentages),
    prices with a price cut, a loss-making deal, a closed one, health computed or not,
    dates with and without microseconds, text that is not ASCII."""
    bare = f.DealFactory(owner=rep_user, team=team, title="Bare deal", expected_close_date=None)

    priced = f.DealFactory(owner=rep_user, team=team, stage=Deal.Stage.NEGOTIATION)
    services.line_item_create(
        deal=priced, user=rep_user, name="Licence", quantity=Decimal("3"),
        unit_list_price=Decimal("333.33"), unit_price=Decimal("290.10"),
        unit_cost=Decimal("71.07"),
    )  # fmt: skip
    services.concession_add(
        deal=priced, user=rep_user, kind=Concession.Kind.PRICE, description="Loyalty",
        amount=Decimal("20.05"), in_exchange_for="A case study",
    )  # fmt: skip
    Deal.objects.filter(pk=priced.pk).update(
        buyer_score=82, seller_score=64, balance=Deal.Balance.SELLER_LOSES, open_flag_count=2,
        health_computed_at=dt.datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=dt.UTC),
        last_buyer_contact_at=dt.datetime(2026, 2, 27, 16, 0, tzinfo=dt.UTC),
    )  # fmt: skip

    loss = f.DealFactory(owner=rep_user, team=team, stage=Deal.Stage.PROPOSAL)
    services.line_item_create(
        deal=loss, user=rep_user, name="Hardware", quantity=Decimal("1"),
        unit_list_price=Decimal("100"), unit_price=Decimal("40"), unit_cost=Decimal("95.5"),
    )  # fmt: skip

    closed = f.DealFactory(
        owner=rep_user,
        team=team,
        title="Zürich — Übernahme «Phase 2»",
        prospect=f.ProspectFactory(team=team, name="Ärzte Genossenschaft 北"),
        external_id="crm:4711",
    )
    Deal.objects.filter(pk=closed.pk).update(
        stage=Deal.Stage.CLOSED_LOST,
        lost_reason="Budget moved to next year.",
        closed_at=timezone.now().replace(microsecond=0),
        notes_for_delivery="Call Eva first.",
        version=7,
    )
    return [bare, priced, loss, closed]


def _detail_and_list(client, deals):
    listed = client.get(URL, {"page_size": 200}).json()["results"]
    by_id = {item["id"]: item for item in listed}
    assert set(by_id) >= {d.id for d in deals}
    return [(client.get(f"{URL}{d.id}/").json(), by_id[d.id]) for d in deals]


def test_every_list_item_reads_exactly_like_the_deals_detail(api_as, rep_user, varied_deals):
    for detail, item in _detail_and_list(api_as(rep_user), varied_deals):
        # Same fields, same order, same values and formats (strings for money, ISO dates).
        assert list(item.items()) == list(detail.items())


def test_list_and_detail_agree_for_a_manager_in_another_time_zone(
    api_as, manager_user, varied_deals, settings
):
    settings.TIME_ZONE = "America/New_York"
    pairs = _detail_and_list(api_as(manager_user), varied_deals)
    for detail, item in pairs:
        assert list(item.items()) == list(detail.items())
    priced = pairs[1][1]
    assert priced["health_computed_at"] == "2026-03-01T04:30:15.123456-05:00"


def test_after_a_sweep_list_and_detail_show_the_same_checked_at(api_as, rep_user, varied_deals):
    """The list's statement is compiled once (winwin_crm.api.pagination.PageStatement); the
    detail builds the expression per request. A sweep moves it for the deals it covered."""
    bare, priced, loss, closed = varied_deals
    swept_at = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)
    computed = dt.datetime(2026, 3, 1, 7, 0, tzinfo=dt.UTC)
    Deal.objects.filter(pk__in=[bare.pk, loss.pk, closed.pk]).update(health_computed_at=computed)
    HealthSweep.objects.create(
        checked_from=swept_at, finished_at=swept_at, last_deal_id=closed.pk - 1
    )
    pairs = _detail_and_list(api_as(rep_user), varied_deals)
    for detail, item in pairs:
        assert list(item.items()) == list(detail.items())
    checked = [item["health_computed_at"] for _detail, item in pairs]
    # open and covered: the sweep's time; closed lost (never swept) and after the sweep's
    # last deal: their own
    assert checked == ["2026-03-02T08:00:00Z"] * 3 + ["2026-03-01T07:00:00Z"]


def test_list_shows_money_percentages_and_health_as_documented(api_as, rep_user, varied_deals):
    listed = {d["id"]: d for d in api_as(rep_user).get(URL).json()["results"]}
    bare, priced, loss, closed = (listed[d.id] for d in varied_deals)
    assert (bare["list_total"], bare["discount_pct"], bare["margin_pct"]) == ("0.00", None, None)
    assert (bare["buyer_score"], bare["balance"], bare["expected_close_date"]) == (None, "", None)
    assert (priced["list_total"], priced["net_total"], priced["cost_total"]) == (
        "999.99", "850.25", "213.21"
    )  # fmt: skip
    assert (priced["discount_pct"], priced["margin_pct"]) == ("14.97", "74.92")
    assert priced["last_buyer_contact_at"] == "2026-02-27T16:00:00Z"
    assert loss["margin_pct"] == "-138.75"
    assert closed["prospect_name"] == "Ärzte Genossenschaft 北"
    assert closed["owner_username"] == rep_user.username
    assert closed["closed_at"].endswith("Z") and closed["version"] == 7


def test_a_deal_sold_far_below_cost_shows_its_margin_in_list_and_detail(api_as, rep_user, team):
    """A cent of revenue against a hundred of cost is a margin of -999,900 %: shown, not a 500."""
    deal = f.DealFactory(owner=rep_user, team=team)
    Deal.objects.filter(pk=deal.pk).update(
        list_total=Decimal("100.00"), net_total=Decimal("0.01"), cost_total=Decimal("100.00")
    )
    client = api_as(rep_user)
    detail = client.get(f"{URL}{deal.id}/")
    assert detail.status_code == 200
    assert (detail.json()["margin_pct"], detail.json()["discount_pct"]) == ("-999900.00", "99.99")
    (pair,) = _detail_and_list(client, [deal])
    assert pair[0] == pair[1]


def test_search_ordering_and_filters_still_apply_to_the_lean_list(api_as, rep_user, varied_deals):
    client = api_as(rep_user)
    found = client.get(URL, {"search": "genossenschaft"}).json()
    assert [d["id"] for d in found["results"]] == [varied_deals[3].id]
    by_net = client.get(URL, {"ordering": "-net_total"}).json()["results"]
    assert [d["net_total"] for d in by_net] == ["850.25", "40.00", "0.00", "0.00"]
    closed = client.get(URL, {"is_open": "false"}).json()
    assert closed["count"] == 1 and closed["results"][0]["stage"] == "closed_lost"


def test_a_user_who_may_see_no_deal_gets_an_empty_list_not_an_error(
    api_as, rep_user, team, delivery_user
):
    """A delivery user with no handoff yet and a user without a role see nothing: their
    scope matches no row, which the page and its count must answer with an empty list."""
    f.DealFactory.create_batch(3, owner=rep_user, team=team)
    for user in (delivery_user, f.UserFactory(username="no_role_yet")):
        client = api_as(user)
        body = client.get(URL).json()
        assert (body["count"], body["results"], body["next_cursor"]) == (0, [], None)
        assert client.get(URL, {"page": 2}).status_code == 404
        cursor = client.get(URL, {"cursor": encode_cursor({"updated_at": timezone.now(), "id": 1})})
        assert (cursor.status_code, cursor.json()["results"]) == (200, [])


def test_pages_link_to_each_other_and_count_every_visible_deal(
    api_as, manager_user, rep_user, team
):
    f.DealFactory.create_batch(5, owner=rep_user, team=team)
    f.DealFactory(team=f.TeamFactory(name="Elsewhere"))  # not the manager's
    client = api_as(manager_user)
    first = client.get(URL, {"page_size": 2}).json()
    assert first["count"] == 5 and len(first["results"]) == 2 and first["previous"] is None
    last = client.get(URL, {"page_size": 2, "page": 3}).json()
    assert len(last["results"]) == 1 and last["next"] is None
    assert "page=2" in last["previous"]
    assert client.get(URL, {"page_size": 2, "page": 4}).status_code == 404
    assert first["count_estimated"] is False


# A filter the dashboard's deal sums cannot answer (they hold no creation time): a long
# list narrowed by it is counted by the planner's estimate.
UNCOUNTED = {"created_after": "2000-01-01T00:00:00Z"}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the estimate is PostgreSQL's")
def test_a_long_lists_count_is_an_estimate_and_says_so(
    api_as, manager_user, rep_user, team, monkeypatch, django_assert_num_queries
):
    from winwin_crm.api.pagination import EstimatedCountPagination

    monkeypatch.setattr(EstimatedCountPagination, "exact_count_limit", 4)
    f.DealFactory.create_batch(4, owner=rep_user, team=team)
    client = api_as(manager_user)
    exact = client.get(URL, {"page_size": 2, **UNCOUNTED}).json()
    assert (exact["count"], exact["count_estimated"]) == (4, False)
    f.DealFactory(owner=rep_user, team=team)
    _fresh_request_user(client)
    # roles and teams, the page with the bounded count in it, the planner's estimate
    with django_assert_num_queries(3):
        body = client.get(URL, {"page_size": 2, **UNCOUNTED}).json()
    # Past the limit the count is PostgreSQL's estimate, never below what was counted.
    assert body["count_estimated"] is True and body["count"] >= 5
    assert len(body["results"]) == 2
    # The next page reuses the estimate (kept a minute): no second EXPLAIN.
    _fresh_request_user(client)
    with django_assert_num_queries(2):
        again = client.get(URL, {"page_size": 2, "page": 2, **UNCOUNTED}).json()
    assert (again["count"], again["count_estimated"]) == (body["count"], True)
    assert {d["id"] for d in again["results"]}.isdisjoint(d["id"] for d in body["results"])


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the estimate is PostgreSQL's")
@pytest.mark.parametrize("planner_says", [3, 100])
def test_every_real_page_is_served_whatever_the_estimate_says(
    api_as, manager_user, rep_user, team, monkeypatch, planner_says
):
    from winwin_crm.api import pagination

    monkeypatch.setattr(pagination.EstimatedCountPagination, "exact_count_limit", 4)
    monkeypatch.setattr(pagination, "estimated_rows", lambda queryset: planner_says)
    deals = f.DealFactory.create_batch(9, owner=rep_user, team=team)
    client = api_as(manager_user)
    seen = []
    for number in range(1, 6):
        response = client.get(URL, {"page_size": 2, "page": number, **UNCOUNTED})
        assert response.status_code == 200, (number, response.content)
        body = response.json()
        seen += [d["id"] for d in body["results"]]
        # a next link exactly while deals remain, whether the planner guessed low or high
        assert (body["next"] is not None) == (number < 5)
        assert body["count"] >= len(seen)
    assert sorted(seen) == sorted(d.pk for d in deals)
    # on the last page the end of the list was seen, so its count is exact
    assert (body["count"], body["count_estimated"]) == (9, False)
    assert client.get(URL, {"page_size": 2, "page": 6, **UNCOUNTED}).status_code == 404


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the deal sums are PostgreSQL's")
def test_a_long_list_the_deal_sums_can_answer_is_counted_exactly(
    api_as, manager_user, rep_user, other_rep, team, admin_user, monkeypatch,
    django_assert_num_queries,
):  # fmt: skip
    from deals.dashboard.live_rollup import live_rollup_rebuild
    from winwin_crm.api.pagination import EstimatedCountPagination

    monkeypatch.setattr(EstimatedCountPagination, "exact_count_limit", 3)
    mine = f.DealFactory.create_batch(5, owner=rep_user, team=team, stage="proposal")
    f.DealFactory.create_batch(3, owner=other_rep, team=team, stage="discovery")
    f.DealFactory.create_batch(4, team=f.TeamFactory(name="Elsewhere"))  # not the manager's
    live_rollup_rebuild()  # the sums, then changes since as deltas
    services.deal_change_stage(deal=mine[0], user=rep_user, stage="negotiation")
    mine[1].delete()
    f.DealFactory(owner=rep_user, team=team, stage="proposal")
    client = api_as(manager_user)
    asked = [
        ({}, manager_user, 8),
        ({"stage": ["proposal", "negotiation"]}, manager_user, 5),
        ({"owner": rep_user.pk, "is_open": "true"}, manager_user, 5),
        ({"team": team.pk, "scored": "false"}, admin_user, 8),
        ({}, admin_user, 12),
        ({}, rep_user, 5),
    ]
    for params, user, expected in asked:
        client = api_as(user)
        _fresh_request_user(client)
        # roles and teams (not for an admin); the page with its bounded count; the count
        # from the sums
        with django_assert_num_queries(2 if user == admin_user else 3):
            body = client.get(URL, {"page_size": 2, **params}).json()
        real = client.get(URL, {"page_size": 2, **params, **UNCOUNTED}).json()
        assert (body["count"], body["count_estimated"]) == (expected, False), params
        assert real["count_estimated"] is True  # the same list without the sums: estimated


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the deal sums are PostgreSQL's")
@pytest.mark.parametrize("ordering", [None, "title", "-net_total", "expected_close_date"])
def test_a_deep_page_read_from_the_end_holds_what_the_list_holds_there(
    api_as, manager_user, rep_user, team, monkeypatch, ordering, django_assert_num_queries
):
    from winwin_crm.api.pagination import EstimatedCountPagination

    monkeypatch.setattr(EstimatedCountPagination, "exact_count_limit", 4)
    for n in range(23):
        deal = f.DealFactory(owner=rep_user, team=team, title=f"Deal {n % 4}")
        close = None if n % 5 == 0 else dt.date(2027, 1, 1) + dt.timedelta(days=n % 3)
        Deal.objects.filter(pk=deal.pk).update(
            net_total=Decimal(n % 3) * 100, expected_close_date=close
        )
    client = api_as(manager_user)
    params = {"ordering": ordering} if ordering else {}
    everything = [d["id"] for d in client.get(URL, {**params, "page_size": 200}).json()["results"]]
    assert len(everything) == 23
    # 6 pages; pages 3–6 start past the bounded count, and 4–6 are in the back half
    for number in range(1, 7):
        body = client.get(URL, {**params, "page_size": 4, "page": number}).json()
        assert [d["id"] for d in body["results"]] == everything[(number - 1) * 4 : number * 4]
        assert (body["count"], body["count_estimated"]) == (23, False)
        assert (body["next"] is None) == (number == 6)
    assert client.get(URL, {**params, "page_size": 4, "page": 7}).status_code == 404
    # the last page: roles and teams, the count from the sums, the reversed list's first rows
    _fresh_request_user(client)
    with django_assert_num_queries(3):
        assert len(client.get(URL, {**params, "page_size": 4, "page": 6}).json()["results"]) == 3


@pytest.mark.parametrize(
    "ordering", [("-updated_at", "-id"), ("title", "-pk"), ("-net_total", "id")]
)
def test_a_page_read_by_its_compiled_statement_is_what_the_orm_reads(
    rep_user, team, varied_deals, ordering
):
    deals = Deal.objects.filter(owner=rep_user).order_by(*ordering)
    # Earlier tests in this process compiled statements of their own (other projections,
    # with and without the count): start from none, so the count below is this test's.
    PageStatement._compiled.pop(connections[deals.db], None)
    rows = ProjectedRows(deals, DealListSerializer.rows)
    for page in (slice(0, 2), slice(2, 4), slice(1, 3)):
        # the same dicts (names, values, types) as .values() gives, on SQLite and PostgreSQL
        assert rows[page] == list(DealListSerializer.rows(deals)[page])
    # compiled once for this connection and ordering, reused by the other pages
    compiled = PageStatement._compiled[connections[deals.db]]
    assert sum(key[2] == ordering for key in compiled) == 1


@pytest.mark.parametrize("ordering", [None, "-net_total", "title", "expected_close_date"])
def test_deeper_pages_hold_the_same_deals_in_the_same_order_as_one_long_page(
    api_as, manager_user, rep_user, team, ordering
):
    for n in range(45):
        deal = f.DealFactory(owner=rep_user, team=team, title=f"Deal {n % 7} {n:02d}")
        Deal.objects.filter(pk=deal.pk).update(net_total=Decimal(n % 5) * 100)
    client = api_as(manager_user)
    params = {"ordering": ordering} if ordering else {}
    everything = client.get(URL, {**params, "page_size": 200}).json()["results"]
    paged = []
    for page in (1, 2, 3):
        paged += client.get(URL, {**params, "page_size": 20, "page": page}).json()["results"]
    # Ties (nine deals per net total, several per close date) are broken by id, so paging
    # neither repeats nor skips a deal.
    assert [d["id"] for d in paged] == [d["id"] for d in everything]
    assert paged == everything


def _queries(client, url):
    _fresh_request_user(client)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries.captured_queries), len(response.json()["results"])


def test_deal_list_query_count_does_not_grow_with_the_page_size(
    api_as, manager_user, rep_user, team
):
    f.DealFactory.create_batch(60, owner=rep_user, team=team)
    client = api_as(manager_user)
    small = _queries(client, f"{URL}?page_size=5")
    large = _queries(client, f"{URL}?page_size=200")
    filtered = _queries(client, f"{URL}?page_size=50&stage=discovery&ordering=-net_total")
    deeper = _queries(client, f"{URL}?page_size=20&page=3")
    assert (small[1], large[1], filtered[1], deeper[1]) == (5, 60, 50, 20)
    # roles and teams (one query), the page with its count in the same statement
    # (force_authenticate: no token/session query)
    assert small[0] == large[0] == filtered[0] == deeper[0] == 1 + PAGE_QUERIES


def test_a_cursor_walks_the_list_like_the_page_numbers_at_any_depth(
    api_as, manager_user, rep_user, team
):
    for n in range(25):
        deal = f.DealFactory(owner=rep_user, team=team)
        if n % 3 == 0:  # ties on updated_at are broken by id
            Deal.objects.filter(pk=deal.pk).update(updated_at=timezone.now() - dt.timedelta(days=1))
    client = api_as(manager_user)
    everything = client.get(URL, {"page_size": 200}).json()["results"]
    first = client.get(URL, {"page_size": 10}).json()
    walked, body = first["results"], first
    while body["next_cursor"]:
        _fresh_request_user(client)
        with CaptureQueriesContext(connection) as queries:
            body = client.get(URL, {"page_size": 10, "cursor": body["next_cursor"]}).json()
        # roles and teams, the page after the cursor's row with the count (one statement)
        assert len(queries.captured_queries) == 1 + PAGE_QUERIES
        assert body["count"] == 25 and body["previous"] is None
        assert (body["next"] is None) == (body["next_cursor"] is None)
        walked += body["results"]
    assert [d["id"] for d in walked] == [d["id"] for d in everything]
    assert "cursor=" in first["next"] or "page=2" in first["next"]
    # Another ordering has no cursor; a made-up cursor is a 400 naming the parameter.
    assert client.get(URL, {"ordering": "title"}).json()["next_cursor"] is None
    bad = client.get(URL, {"cursor": "not-a-cursor"})
    assert bad.status_code == 400 and "cursor" in bad.json()
