from decimal import Decimal

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from deals.models import Deal
from tests import factories as f

URL = reverse("deals:deal_list")


def _deal(owner, team, **kwargs):
    return f.DealFactory(owner=owner, team=team, **kwargs)


def test_my_deals_shows_each_deal_with_its_stage_money_balance_and_flags(
    rep_client, rep_user, team
):
    _deal(
        rep_user, team, title="Dispatch automation", stage=Deal.Stage.PROPOSAL,
        net_total=Decimal("12400.00"), balance=Deal.Balance.BUYER_LOSES, open_flag_count=3,
    )  # fmt: skip
    response = rep_client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Dispatch automation" in html
    assert "Proposal" in html
    assert "USD 12,400" in html
    assert 'class="badge buyer_loses"' in html and "Buyer loses" in html
    assert "⚑ 3" in html


def test_my_deals_hides_deals_of_other_reps(rep_client, rep_user, other_rep, team):
    _deal(rep_user, team, title="Mine")
    _deal(other_rep, team, title="Oscar's deal")
    html = rep_client.get(URL).content.decode()
    assert "Mine" in html
    assert "Oscar&#x27;s deal" not in html and "Oscar's deal" not in html


def test_search_matches_title_or_prospect_name(rep_client, rep_user, team):
    _deal(rep_user, team, title="Scanners", prospect=f.ProspectFactory(team=team, name="Acme"))
    _deal(rep_user, team, title="Telematics", prospect=f.ProspectFactory(team=team, name="Zed"))
    html = rep_client.get(URL, {"q": "acme"}).content.decode()
    assert "Scanners" in html and "Telematics" not in html
    html = rep_client.get(URL, {"q": "telem"}).content.decode()
    assert "Telematics" in html and "Scanners" not in html


def test_filters_by_stage_and_balance(rep_client, rep_user, team):
    _deal(rep_user, team, title="Early", stage="discovery", balance="win_win")
    _deal(rep_user, team, title="Late", stage="negotiation", balance="lose_lose")
    _deal(rep_user, team, title="Won", stage="closed_won", balance="win_win")
    html = rep_client.get(URL, {"stage": "negotiation"}).content.decode()
    assert "Late" in html and "Early" not in html
    html = rep_client.get(URL, {"balance": "win_win"}).content.decode()
    assert "Early" in html and "Won" in html and "Late" not in html
    html = rep_client.get(URL, {"stage": "open"}).content.decode()
    assert "Early" in html and "Late" in html and "Won" not in html


def test_sort_by_net_total_both_ways(rep_client, rep_user, team):
    _deal(rep_user, team, title="Small", net_total=Decimal("10"))
    _deal(rep_user, team, title="Large", net_total=Decimal("9000"))
    html = rep_client.get(URL, {"sort": "net"}).content.decode()
    assert html.index("Small") < html.index("Large")
    html = rep_client.get(URL, {"sort": "-net"}).content.decode()
    assert html.index("Large") < html.index("Small")


def test_unknown_filter_values_are_ignored_not_an_error(rep_client, rep_user, team):
    _deal(rep_user, team, title="Still listed")
    response = rep_client.get(URL, {"sort": "password", "stage": "nope", "per_page": "7"})
    assert response.status_code == 200
    assert "Still listed" in response.content.decode()


def test_paginates_and_keeps_filters_in_page_links(rep_client, rep_user, team):
    for i in range(12):
        _deal(rep_user, team, title=f"Deal {i:02}", stage="proposal")
    response = rep_client.get(URL, {"stage": "proposal", "per_page": 10})
    html = response.content.decode()
    assert "1–10 of 12 deals" in html
    assert "stage=proposal&amp;per_page=10&amp;page=2" in html
    page_two = rep_client.get(URL, {"stage": "proposal", "per_page": 10, "page": 2})
    assert "11–12 of 12 deals" in page_two.content.decode()


def test_htmx_request_gets_only_the_table(rep_client, rep_user, team, htmx):
    _deal(rep_user, team, title="Partial")
    response = rep_client.get(URL, **htmx)
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="deal-table"') or 'id="deal-table"' in html[:200]
    assert "<html" not in html
    assert "Partial" in html


def test_empty_list_invites_to_create_the_first_deal(rep_client):
    html = rep_client.get(URL).content.decode()
    assert "No deals yet." in html
    assert reverse("deals:deal_create") in html


def test_anonymous_visitor_is_sent_to_login(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_query_count_is_the_same_for_5_and_60_rows(
    rep_client, rep_user, team, django_assert_max_num_queries
):
    # The list reads the denormalised Deal columns (+ the joined prospect), so the number of
    # queries is fixed: session, user, roles, count, one page of deals.
    rep_client.get(URL)  # warm the session
    counts, total = [], 0
    for added in (5, 55):
        f.DealFactory.create_batch(added, owner=rep_user, team=team, open_flag_count=2)
        total += added
        with django_assert_max_num_queries(6), CaptureQueriesContext(connection) as queries:
            response = rep_client.get(URL, {"per_page": 100, "sort": "-net"})
        assert response.content.decode().count('class="deal-title"') == total
        counts.append(len(queries.captured_queries))
    assert counts[0] == counts[1]


def test_the_page_and_the_api_list_the_same_deals_for_the_same_filters(rep_client, rep_user, team):
    _deal(rep_user, team, title="Fleet scored", stage=Deal.Stage.PROPOSAL, balance="win_win")
    _deal(rep_user, team, title="Fleet unscored", stage=Deal.Stage.DISCOVERY, balance="")
    _deal(rep_user, team, title="Fleet closed", stage=Deal.Stage.CLOSED_LOST, balance="")
    _deal(rep_user, team, title="Payroll", stage=Deal.Stage.PROPOSAL, balance="")
    pairs = [
        ({"q": "fleet"}, {"q": "fleet"}),
        ({"stage": "open"}, {"is_open": "true"}),
        ({"stage": "proposal", "q": "fleet"}, {"stage": "proposal", "q": "fleet"}),
        ({"balance": "pending"}, {"scored": "false"}),
        ({"balance": "pending", "stage": "open", "q": "fleet"},
         {"scored": "false", "is_open": "true", "q": "fleet"}),
    ]  # fmt: skip
    for page_params, api_params in pairs:
        page = rep_client.get(URL, {**page_params, "sort": "title"})
        shown = {d.title for d in page.context["deals"]}
        api = rep_client.get(reverse("deal-list"), api_params).json()["results"]
        assert shown == {d["title"] for d in api}, page_params
        assert shown, page_params
