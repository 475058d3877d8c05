"""Admin pages of the sales models open, search and filter."""

import pytest
from django.urls import reverse

from tests import factories as f

MODELS = [
    "prospect", "contact", "deal", "discoverycall", "need", "lineitem", "buyermilestone",
    "activity", "concession", "commitment", "disclosure", "flag", "healthpolicy",
    "healthsnapshot", "importjob",
]  # fmt: skip


@pytest.mark.parametrize("model", MODELS)
def test_admin_changelist_and_search_open(client, admin_user, model):
    deal = f.DealFactory()
    f.LineItemFactory(deal=deal)
    client.force_login(admin_user)
    url = reverse(f"admin:deals_{model}_changelist")
    assert client.get(url).status_code == 200
    assert client.get(url, {"q": "acme"}).status_code == 200


def test_deal_history_page_shows_changes(client, admin_user):
    deal = f.DealFactory()
    client.force_login(admin_user)
    response = client.get(reverse("admin:deals_deal_history", args=[deal.pk]))
    assert response.status_code == 200
