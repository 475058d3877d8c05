from rest_framework.pagination import PageNumberPagination


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

    def __init__(self, queryset, project):
        self.queryset = queryset
        self.project = project
        self.ordered = queryset.ordered  # the Paginator warns about unordered pages

    def count(self) -> int:
        return self.queryset.count()

    def __getitem__(self, key: slice) -> list:
        query = self.queryset.query
        if not key.start or query.distinct:  # DISTINCT would select the ordering too
            return list(self.project(self.queryset)[key])
        ordering = query.order_by or (query.get_meta().ordering if query.default_ordering else ())
        page_ids = self.queryset.values("pk")[key]
        manager = self.queryset.model._default_manager
        return list(self.project(manager.filter(pk__in=page_ids).order_by(*ordering)))
