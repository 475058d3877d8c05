"""The flag review list counts open flags up to a limit, then says so ("10,000+")."""

import pytest
from django.urls import reverse

from deals.dashboard import views

pytestmark = pytest.mark.django_db


def test_flag_review_counts_exactly_up_to_the_limit(board, client, monkeypatch):
    client.force_login(board.manager)
    monkeypatch.setattr(views, "FLAG_COUNT_LIMIT", 4)
    response = client.get(reverse("dashboard:flags"))
    html = response.content.decode()
    assert response.context["page"].paginator.count == 4
    assert '<span data-flag-count="open">4</span> open flag<span data-flag-plural>s</span>' in html
    assert "data-count-capped" not in html


def test_flag_review_says_how_far_it_counted_past_the_limit(board, client, monkeypatch):
    client.force_login(board.manager)
    monkeypatch.setattr(views, "FLAG_COUNT_LIMIT", 3)
    monkeypatch.setattr(views, "FLAGS_PER_PAGE", 2)
    response = client.get(reverse("dashboard:flags"))
    html = response.content.decode()
    paginator = response.context["page"].paginator
    assert (paginator.count, paginator.count_capped) == (3, True)
    assert "3+</span> open flags" in html and "data-count-capped" in html
    assert 'data-flag-count="open"' not in html  # the page script only counts exact totals
    assert "Page 1 of 2+" in html
    # The last counted page still lists flags.
    assert client.get(reverse("dashboard:flags"), {"page": 2}).context["page"].object_list
