"""Item 2: every list in a request body is capped (and documented so), and id lists are
resolved in one query, so no request can run past gunicorn's timeout."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from deals import limits
from deals.models import Deal
from tests import factories as f


@pytest.fixture
def deal(rep_user, team):
    return f.DealFactory(owner=rep_user, team=team, stage=Deal.Stage.PROPOSAL)


@pytest.mark.django_db
def test_ten_thousand_need_ids_on_a_line_item_are_a_quick_400(api_as, rep_user, deal):
    item = f.LineItemFactory(deal=deal)
    client = api_as(rep_user)
    with CaptureQueriesContext(connection) as queries:
        response = client.patch(f"/api/v1/line-items/{item.id}/", {"needs": [1] * 10_000})
    assert response.status_code == 400
    assert "At most 50" in str(response.json()["needs"])
    assert len(queries) < 15


@pytest.mark.django_db
def test_need_ids_resolve_in_one_query_whatever_their_number(api_as, rep_user, deal):
    item = f.LineItemFactory(deal=deal)
    client = api_as(rep_user)

    def queries_for(n: int) -> int:
        needs = [f.NeedFactory(deal=deal, prospect=deal.prospect).id for _ in range(n)]
        with CaptureQueriesContext(connection) as queries:
            response = client.patch(f"/api/v1/line-items/{item.id}/", {"needs": needs})
        assert response.status_code == 200, response.json()
        assert sorted(response.json()["needs"]) == sorted(needs)
        return len(queries)

    queries_for(1)  # warm per-process caches
    assert queries_for(2) == queries_for(limits.MAX_NEEDS_PER_LINE_ITEM)


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["attendees", "needs", "milestones"])
def test_a_discovery_call_with_too_many_rows_is_a_400_naming_the_list(
    api_as, rep_user, deal, field
):
    rows = {
        "attendees": [1] * 10_000,
        "needs": [{"kind": "goal", "statement": "x", "importance": 3}] * 10_000,
        "milestones": [{"title": "x", "side": "buyer"}] * 10_000,
    }[field]
    response = api_as(rep_user).post(
        "/api/v1/discovery-calls/",
        {"deal": deal.id, "held_at": "2026-01-05T10:00:00Z", field: rows},
    )
    assert response.status_code == 400
    assert [key.split(".")[0] for key in response.json()] == [field]
    assert "50" in str(response.json())
    assert not deal.discovery_calls.exists()


def test_the_schema_documents_every_cap():
    from drf_spectacular.generators import SchemaGenerator

    schemas = SchemaGenerator().get_schema(request=None, public=True)["components"]["schemas"]
    assert schemas["PatchedLineItemRequest"]["properties"]["needs"]["maxItems"] == 50
    call = schemas["DiscoveryCallRequest"]["properties"]
    assert (call["attendees"]["maxItems"], call["needs"]["maxItems"]) == (50, 50)
    assert call["milestones"]["maxItems"] == 50
