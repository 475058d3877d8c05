"""One formatting module for every page: money, percents, dates; and the 404 page."""

import datetime as dt
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import timezone

from handoff.package import package_diff
from winwin_crm.templatetags.ui import day, money, pct, when


def test_money_and_percent_read_the_same_everywhere():
    assert money(Decimal("1900"), "USD") == "USD 1,900.00"
    assert money("80") == money(Decimal("80.00")) == "80.00"
    assert money(None) == "—"
    assert pct(Decimal("12.345")) == "12.3 %"
    assert pct(40, 0) == "40 %"
    assert pct(None) == "—"


def test_recent_moments_are_relative_older_are_dates_and_the_hover_is_exact():
    now = timezone.now()
    recent = when(now - dt.timedelta(hours=3), now=now)
    assert "3\xa0hours ago" in recent and 'title="' in recent and "<time datetime=" in recent
    old = when(now - dt.timedelta(days=40), now=now)
    assert day(now - dt.timedelta(days=40)) in old
    assert day(dt.date(2026, 11, 4)) == "4 Nov 2026"
    assert day("2026-11-04") == "4 Nov 2026"


def test_the_filters_need_no_load_tag():
    html = Template("{{ v|money:'EUR' }} {{ p|pct }}").render(Context({"v": 5, "p": 7}))
    assert html == "EUR 5.00 7.0 %"


def test_equal_amounts_written_differently_are_not_a_change_since_the_snapshot():
    frozen = {"pricing": {"net_total": "80", "margin_pct": "55.5"}}
    current = {"pricing": {"net_total": "80.00", "margin_pct": "55.50"}}
    assert package_diff(frozen=frozen, current=current) == []
    current["pricing"]["net_total"] = "80.01"
    [change] = package_diff(frozen=frozen, current=current)
    assert change["fields"] == [{"field": "net_total", "before": "80", "after": "80.01"}]


@pytest.mark.django_db
def test_without_debug_an_unknown_page_is_the_sites_404_not_the_debug_page(client, rep_user):
    client.force_login(rep_user)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "We couldn't find that" in html
    assert "URLconf" not in html  # Django's debug page lists the URL patterns
