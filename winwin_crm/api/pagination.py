from rest_framework.pagination import PageNumberPagination


class StandardPagination(PageNumberPagination):
    """`{"count", "next", "previous", "results"}`; clients may ask for up to 200 a page."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class RowsCountedApart:
    """What a Django Paginator needs from a list whose page is read as a projection.

    The page is sliced from `rows` (e.g. `.values()` with the joins the page shows), the
    exact count comes from `counted` (the same filters without those joins): PostgreSQL
    keeps inner joins in a COUNT(*), which at 20,000 deals made the count 30 times slower.
    """

    def __init__(self, *, rows, counted):
        self.rows = rows
        self.counted = counted
        self.ordered = rows.ordered  # the Paginator warns about unordered pages

    def count(self) -> int:
        return self.counted.count()

    def __getitem__(self, key):
        return list(self.rows[key])
