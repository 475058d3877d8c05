from typing import Any

from django.db import connections
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response


class StandardPagination(PageNumberPagination):
    """`{"count", "next", "previous", "results"}`; clients may ask for up to 200 a page."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class ProjectedRows:
    """What a Django Paginator needs from a list whose page is read as a projection.

    `queryset` is the list, filtered and ordered; `project(queryset)` reads rows of it for
    the page (e.g. `.values()` with the joins the page shows). The exact count runs on
    `queryset` without those joins: PostgreSQL keeps inner joins in a COUNT(*), which
    makes it much slower. Past the first page, the page's ids are found on the list's own
    table first and only those rows are projected, so a deep OFFSET walks a narrow index
    instead of sorting the joined rows (figures: bench/RESULTS.md).
    Either way the page is one query.
    """

    def __init__(self, queryset, project, *, exact_count_limit: int | None = None):
        self.queryset = queryset
        self.project = project
        self.ordered = queryset.ordered  # the Paginator warns about unordered pages
        # Above this many rows (PostgreSQL only), count() answers the planner's estimate
        # and sets `count_estimated`: an exact COUNT(*) reads every row of the list, so it
        # is the one cost of the page that grows with the data (bench/RESULTS.md).
        self.exact_count_limit = exact_count_limit
        self.count_estimated = False

    def count(self) -> int:
        limit = self.exact_count_limit
        if limit is None or connections[self.queryset.db].vendor != "postgresql":
            return self.queryset.count()
        # At most limit + 1 index entries read, whatever the size of the list.
        bounded = self.queryset.values("pk").order_by()[: limit + 1].count()
        if bounded <= limit:
            return bounded
        self.count_estimated = True
        return max(estimated_rows(self.queryset), bounded)

    def __getitem__(self, key: slice) -> list:
        query = self.queryset.query
        if not key.start or query.distinct:  # DISTINCT would select the ordering too
            return list(self.project(self.queryset)[key])
        ordering = query.order_by or (query.get_meta().ordering if query.default_ordering else ())
        page_ids = self.queryset.values("pk")[key]
        manager = self.queryset.model._default_manager
        return list(self.project(manager.filter(pk__in=page_ids).order_by(*ordering)))


def estimated_rows(queryset) -> int:
    """The planner's row estimate for `queryset` (PostgreSQL; one EXPLAIN, no rows read)."""
    import json

    plan = json.loads(queryset.values("pk").order_by().explain(format="json"))
    return int(plan[0]["Plan"]["Plan Rows"])


class EstimatedCountPagination(StandardPagination):
    """StandardPagination whose `count` may be the planner's estimate on a long list
    (ProjectedRows' `exact_count_limit`): `count_estimated` says so, and a client shows
    it as "about 480,000". Up to the limit the count is exact."""

    exact_count_limit = 10_000

    def get_paginated_response(self, data: Any) -> Response:
        rows = self.page.paginator.object_list
        return Response(
            {
                "count": self.page.paginator.count,
                "count_estimated": bool(getattr(rows, "count_estimated", False)),
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema: dict) -> dict:
        response = super().get_paginated_response_schema(schema)
        properties = response["properties"]
        response["properties"] = {
            "count": properties.pop("count"),
            "count_estimated": {
                "type": "boolean",
                "description": f"true when `count` is PostgreSQL's estimate (lists of more "
                f"than {self.exact_count_limit:,} rows); exact otherwise",
            },
            **properties,
        }
        response.setdefault("required", ["count", "results"])
        return response
