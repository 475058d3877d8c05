"""The flag review list's total: from the rep table's rollup when it can answer (as of
its build), else counted live up to a limit ("10,000+"); the dashboard's "Review flags"
count is the same total."""

import pytest
from django.urls import reverse

from deals.dashboard import views
from deals.dashboard.services import dashboard_rep_rollup
from deals.models import Flag

pytestmark = pytest.mark.django_db


def test_flag_review_counts_exactly_up_to_the_limit(board, client, monkeypatch):
    client.force_login(board.manager)
    monkeypatch.setattr(views, "FLAG_COUNT_LIMIT", 4)
    response = client.get(reverse("dashboard:flags"))
    html = response.content.decode()
    assert response.context["page"].paginator.count == 4
    assert '<span data-flag-count="open">4</span> open flag<span data-flag-plural>s</span>' in html
    assert "data-count-capped" not in html and "data-count-as-of" not in html


def test_flag_review_says_how_far_it_counted_past_the_limit(board, client, monkeypatch):
    client.force_login(board.manager)
    monkeypatch.setattr(views, "FLAG_COUNT_LIMIT", 3)
    monkeypatch.setattr(views, "FLAGS_PER_PAGE", 2)
    response = client.get(reverse("dashboard:flags"))
    html = response.content.decode()
    total = response.context["page"].paginator.total
    assert (total.count, total.capped) == (3, True)
    assert "3+</span> open flags" in html and "data-count-capped" in html
    assert 'data-flag-count="open"' not in html  # the page script only counts exact totals
    assert "Page 1 of 2+" in html
    # The last counted page still lists flags.
    assert client.get(reverse("dashboard:flags"), {"page": 2}).context["page"].object_list
    dashboard = client.get(reverse("dashboard:index"))
    assert dashboard.context["open_flags"] == 3
    assert 'class="count-pill hot">3+</span>' in dashboard.content.decode()


def test_flag_review_total_reads_the_rep_rollup_as_of_its_build(board, client):
    client.force_login(board.manager)
    dashboard_rep_rollup()
    live = client.get(reverse("dashboard:flags")).context["page"].paginator.total
    assert live.count == 4 and live.as_of is not None
    # A flag raised after the build counts from the next build on; the page says when.
    Flag.objects.filter(pk=board.flags.d3_chasing_ack.pk).update(status="open")
    response = client.get(reverse("dashboard:flags"))
    assert response.context["page"].paginator.count == 4
    assert "data-count-as-of" in response.content.decode()
    assert client.get(reverse("dashboard:index")).context["open_flags"] == 4
    dashboard_rep_rollup()
    assert client.get(reverse("dashboard:flags")).context["page"].paginator.count == 5
    # Narrowed by rep and code, still from the rollup; by severity, counted live.
    for params in ({"rep": board.rita.id}, {"code": "PRESSURE_CHASING"}, {"severity": "critical"}):
        response = client.get(reverse("dashboard:flags"), params)
        total = response.context["page"].paginator.total
        assert total.count == len(response.context["page"].object_list), params
        assert (total.as_of is None) == ("severity" in params), params


def test_the_rollup_total_never_counts_another_teams_flags(board, client):
    dashboard_rep_rollup()
    client.force_login(board.other_manager)
    total = client.get(reverse("dashboard:flags")).context["page"].paginator.total
    assert (total.count, total.as_of is not None) == (1, True)  # Beta's own d7 only
    client.force_login(board.manager)
    theirs = client.get(reverse("dashboard:flags"), {"team": board.d7.team_id})
    assert theirs.context["page"].paginator.count == 0
