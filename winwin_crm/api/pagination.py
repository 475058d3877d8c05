import base64
import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode
from weakref import WeakKeyDictionary

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import IntegerField, Q
from django.db.models.expressions import RawSQL
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param


class StandardPagination(PageNumberPagination):
    """`{"count", "next", "previous", "results"}`; clients may ask for up to 200 a page."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class ProjectedRows:
    """What a Django Paginator needs from a list whose page is read as a projection.

    `queryset` is the list, filtered and ordered; `project(queryset)` reads rows of it for
    the page as `.values()` dicts (with the joins the page shows). The exact count runs on
    `queryset` without those joins: PostgreSQL keeps inner joins in a COUNT(*), which
    makes it much slower. A page's ids are selected from the list's own table and only
    those rows are projected, so a deep OFFSET walks a narrow index instead of sorting the
    joined rows (figures: bench/RESULTS.md), by a statement compiled once (PageStatement).
    The page is one query; with `read_page` (or a cursor page) on PostgreSQL the bounded
    count rides in that same statement, so a page and its count are one query.
    """

    # The key under which a page's statement brings the bounded count along.
    COUNT_KEY = "_bounded_count"

    def __init__(
        self,
        queryset,
        project,
        *,
        exact_count_limit: int | None = None,
        exact_count: Callable[[], int | None] | None = None,
    ):
        self.queryset = queryset
        self.project = project
        self.ordered = queryset.ordered  # the Paginator warns about unordered pages
        # Above this many rows (PostgreSQL only), count() answers the planner's estimate
        # and sets `count_estimated`: an exact COUNT(*) reads every row of the list, so it
        # is the one cost of the page that grows with the data (bench/RESULTS.md)...
        self.exact_count_limit = exact_count_limit
        self.count_estimated = False
        # ...unless `exact_count` can tell without reading the list (the deal list: from
        # the dashboard's deal sums, for the filters those hold; None when it cannot).
        self._exact_count = exact_count
        self._exact: int | None = None
        self._bounded: int | None = None  # the bounded count a page's statement brought
        self._read: tuple[int, int, list] | None = None  # rows read ahead: start, stop, rows

    # The ordering a keyset cursor can follow (a total one, on an index per scope).
    KEYSET_ORDERING = ("-updated_at", "-id")

    @property
    def keyset(self) -> bool:
        """Whether the list is in KEYSET_ORDERING, so a page can start after a row."""
        return tuple(self.queryset.query.order_by) == self.KEYSET_ORDERING

    def _bounds_count(self) -> bool:
        return (
            self.exact_count_limit is not None
            and connections[self.queryset.db].vendor == "postgresql"
        )

    def _bounded_queryset(self):
        """At most exact_count_limit + 1 of the list's ids: reads that many index entries
        at most, whatever the size of the list."""
        assert self.exact_count_limit is not None
        return self.queryset.values("pk").order_by()[: self.exact_count_limit + 1]

    def _with_count(self, rows, key: slice) -> list:
        """`rows[key]` (projected rows), with the bounded count in the same statement."""
        if not self._bounds_count():
            return list(rows[key])
        try:
            sql, params = self._bounded_queryset().query.sql_with_params()
        except EmptyResultSet:  # a filter that matches nothing (a user who may see no row)
            self._bounded = 0
            return []
        bounded = RawSQL(f"SELECT COUNT(*) FROM ({sql}) AS bounded", params, IntegerField())
        page = list(rows.annotate(**{self.COUNT_KEY: bounded})[key])
        for row in page:
            self._bounded = row.pop(self.COUNT_KEY)
        return page

    def after(self, updated_at: dt.datetime, pk: int, limit: int) -> list:
        """Up to `limit` rows after the row (updated_at, pk) in KEYSET_ORDERING: an index
        range from that row on, whatever its depth in the list. One query (the count
        comes along)."""
        later = Q(updated_at__lte=updated_at) & (Q(updated_at__lt=updated_at) | Q(pk__lt=pk))
        return self._page(self.queryset.filter(later), slice(0, limit), with_count=True)

    def read_page(self, start: int, stop: int) -> None:
        """Read rows [start:stop] and the bounded count in one statement, before the
        paginator asks for the count and then for (at most) that slice. One row past the
        page comes along: it tells whether another page follows when the count is only
        an estimate.

        A page past the bounded count, in a list whose exact count is known without
        reading it, is read from whichever end is nearer: the last page of half a million
        deals is then the first rows of the reversed list, not an OFFSET over all of
        them."""
        limit = self.exact_count_limit
        total = self._known_count() if limit is not None and start > limit else None
        if total is None:
            self._read = (start, stop, self._rows(slice(start, stop + 1), with_count=True))
            return
        backwards = _reversed_ordering(self.queryset) if start > total - start else None
        if backwards is None:
            rows = self._rows(slice(start, stop))
        elif start >= total:
            rows = []
        else:
            rows = self._page(backwards, slice(max(0, total - stop), total - start))[::-1]
        self._read = (start, stop, rows)

    def _known_count(self) -> int | None:
        """The exact count `exact_count` gives (asked once), on PostgreSQL only."""
        if self._exact is None and self._exact_count is not None and self._bounds_count():
            self._exact = self._exact_count()
            self._exact_count = None
        return self._exact

    def count(self) -> int:
        if not self._bounds_count():
            return self.queryset.count()
        limit = self.exact_count_limit
        assert limit is not None
        if self._exact is not None:
            return self._exact
        bounded = self._bounded
        if bounded is None:
            bounded = self._bounded_queryset().count()
        if bounded <= limit:
            return bounded
        exact = self._known_count()
        if exact is not None:
            return exact
        self.count_estimated = True
        estimate = max(estimated_rows(self.queryset), bounded)
        return self._estimate_seen_from_the_page(estimate)

    def _estimate_seen_from_the_page(self, estimate: int) -> int:
        """The estimate, mended by what the page read ahead saw: the planner may count
        fewer rows than there are (the real last pages would then be refused) or more
        (a `next` link would lead past the end)."""
        if self._read is None:
            return estimate
        start, stop, rows = self._read
        if len(rows) > stop - start:  # a row past this page: at least one more page
            return max(estimate, start + len(rows))
        if rows:  # the list ends on this page: its count is known exactly
            self.count_estimated = False
            return start + len(rows)
        return min(estimate, start)  # past the end: the paginator answers 404

    def __getitem__(self, key: slice) -> list:
        start = key.start or 0
        if self._read is not None and start == self._read[0] and key.stop <= self._read[1]:
            return self._read[2][: key.stop - start]
        return self._rows(key)

    def _rows(self, key: slice, *, with_count: bool = False) -> list:
        return self._page(self.queryset, key, with_count=with_count)

    def _page(self, queryset, key: slice, *, with_count: bool = False) -> list:
        """Rows `key` of `queryset`, projected, in one statement (with the bounded count
        when asked): the rows whose ids the list's own query selects, read by the page's
        statement (PageStatement), which is compiled once, not on every page."""
        query = queryset.query
        if query.distinct:  # DISTINCT would select the ordering too: no id subquery
            rows = self.project(queryset)
            return self._with_count(rows, key) if with_count else list(rows[key])
        ordering = query.order_by or (query.get_meta().ordering if query.default_ordering else ())
        with_count = with_count and self._bounds_count()
        statement = PageStatement.of(
            self.project, queryset.model, queryset.db, tuple(ordering), with_count=with_count
        )
        try:
            ids = queryset.values("pk")[key].query.sql_with_params()
            count = self._bounded_queryset().query.sql_with_params() if with_count else None
        except EmptyResultSet:  # as in _with_count
            if with_count:
                self._bounded = 0
            return []
        rows = statement.read(ids, count)
        if with_count:
            for row in rows:
                self._bounded = row.pop(self.COUNT_KEY)
        return rows


def _reversed_ordering(queryset):
    """`queryset` in exactly the opposite order (each term flipped: NULLs, first one way,
    come last the other way on PostgreSQL), or None when its ordering is not a list of
    field names ending with a unique one (the deal list's always is: StableOrderingFilter)."""
    terms = tuple(queryset.query.order_by)
    if not terms or not all(isinstance(term, str) and term != "?" for term in terms):
        return None
    if terms[-1].lstrip("-") not in ("pk", "id"):
        return None
    return queryset.order_by(*(t[1:] if t.startswith("-") else f"-{t}" for t in terms))


class PageStatement:
    """The statement that reads a page of a ProjectedRows list: `project` over the rows
    whose ids the list's own query selects (filtered, ordered and sliced), in the list's
    ordering, with the bounded count when asked.

    The projection is the same on every page of a list (the deal list's: 29 columns, two
    joins and the checked-at expression with its subqueries), yet building and compiling
    it through the ORM was the largest part of a page's Python time (bench/README.md, the
    floor row). So it is compiled once per connection, projection, ordering and count,
    with markers where the ids' statement and the count's go; a page compiles only those
    two narrow statements, puts them in, and reads the rows as `.values()` would (the same
    names, the database's values converted by the same converters).
    """

    IDS = "__page_ids__"
    COUNT = "__bounded_count__"
    _compiled: WeakKeyDictionary[Any, dict[tuple, "PageStatement"]] = WeakKeyDictionary()

    @classmethod
    def of(cls, project, model, using: str, ordering: tuple, *, with_count: bool):
        connection = connections[using]
        compiled = cls._compiled.setdefault(connection, {})
        key = (project, model, ordering, with_count)
        if key not in compiled:
            compiled[key] = cls(project, model, using, ordering, with_count=with_count)
        return compiled[key]

    def __init__(self, project, model, using: str, ordering: tuple, *, with_count: bool):
        self.using = using
        rows = model._default_manager.using(using).filter(pk__in=RawSQL(self.IDS, ()))
        rows = project(rows.order_by(*ordering))
        if with_count:
            count = RawSQL(self.COUNT, (), IntegerField())
            rows = rows.annotate(**{ProjectedRows.COUNT_KEY: count})
        query = rows.query
        compiler = query.get_compiler(using)
        sql, params = compiler.as_sql()
        # The names and converters ValuesIterable and results_iter would use.
        self.names = list(query.selected or (
            *query.extra_select, *query.values_select, *query.annotation_select
        ))  # fmt: skip
        columns = [column for column, _sql, _alias in compiler.select[: compiler.col_count]]
        self.converters = list(compiler.get_converters(columns).items())
        # The SQL split at the markers, each piece with its own parameters.
        self.pieces: list[tuple[str, tuple] | str] = []
        params = list(params)
        for piece in re.split(f"({self.IDS}|{self.COUNT})", sql):
            if piece in (self.IDS, self.COUNT):
                self.pieces.append(piece)
                continue
            taken = re.findall("%[%s]", piece).count("%s")
            self.pieces.append((piece, tuple(params[:taken])))
            del params[:taken]
        assert not params and self.pieces.count(self.IDS) == 1, sql

    def read(self, ids: tuple[str, tuple], count: tuple[str, tuple] | None) -> list[dict]:
        """The page's rows, given the ids' statement and (with a count) the statement of
        the ids to count, as `.sql_with_params()` gives them."""
        inserts = {self.IDS: ids}
        if count is not None:
            inserts[self.COUNT] = (f"SELECT COUNT(*) FROM ({count[0]}) AS bounded", count[1])
        sql: list[str] = []
        params: list[Any] = []
        for piece in self.pieces:
            text, args = inserts[piece] if isinstance(piece, str) else piece
            sql.append(text)
            params.extend(args)
        connection = connections[self.using]
        with connection.cursor() as cursor:
            cursor.execute("".join(sql), params)
            fetched = cursor.fetchall()
        names, converters = self.names, self.converters
        rows = []
        for values in map(list, fetched):
            for position, (functions, expression) in converters:
                value = values[position]
                for convert in functions:
                    value = convert(value, expression, connection)
                values[position] = value
            rows.append(dict(zip(names, values, strict=True)))
        return rows


# How long a list's planner estimate is reused. PostgreSQL's estimate itself only moves
# when the table is analyzed again, so a minute changes nothing a reader would notice,
# and a client paging through a long list does not pay an EXPLAIN on every page.
ESTIMATE_SECONDS = 60


def estimated_rows(queryset) -> int:
    """The planner's row estimate for `queryset` (PostgreSQL; one EXPLAIN, no rows read),
    kept ESTIMATE_SECONDS in the cache under the statement it estimates."""
    from django.core.cache import cache

    ids = queryset.values("pk").order_by()
    sql, params = ids.query.sql_with_params()
    digest = hashlib.sha256(repr((sql, params)).encode()).hexdigest()
    key = f"list-estimate:{queryset.db}:{digest}"
    rows = cache.get(key)
    if rows is None:
        plan = json.loads(ids.explain(format="json"))
        rows = int(plan[0]["Plan"]["Plan Rows"])
        cache.set(key, rows, ESTIMATE_SECONDS)
    return rows


def encode_cursor(row: dict) -> str:
    raw = json.dumps([row["updated_at"].isoformat(), row["id"]]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(text: str) -> tuple[dt.datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        when, pk = json.loads(raw)
        updated_at = dt.datetime.fromisoformat(when)
        if updated_at.tzinfo is None or not isinstance(pk, int):
            raise ValueError(text)
    except (ValueError, TypeError, json.JSONDecodeError):
        raise ValidationError({"cursor": ["Not a cursor from this list's next link."]}) from None
    return updated_at, pk


class EstimatedCountPagination(StandardPagination):
    """StandardPagination whose `count` may be the planner's estimate on a long list
    (ProjectedRows' `exact_count_limit`): `count_estimated` says so, and a client shows
    it as "about 480,000". Up to the limit the count is exact.

    In the list's default ordering (ProjectedRows.KEYSET_ORDERING) every page also names
    `next_cursor`; `?cursor=` starts the page right after that row, so a page deep in a
    long list costs what the first does (an OFFSET walks every row before it), and the
    `next` link of a cursor page carries the next cursor. Page numbers keep working."""

    exact_count_limit = 10_000
    cursor_query_param = "cursor"

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.rows = queryset
        self.cursor_page = None
        raw = request.query_params.get(self.cursor_query_param)
        if raw is None or not getattr(queryset, "keyset", False):
            self._read_ahead(queryset, request)
            page = super().paginate_queryset(queryset, request, view)
            self.has_more = bool(page is not None and self.page.has_next())
            self.last_row = page[-1] if page else None
            return page
        size = self.get_page_size(request) or self.page_size
        rows = queryset.after(*decode_cursor(raw), size + 1)
        self.has_more = len(rows) > size
        self.cursor_page = rows[:size]
        self.last_row = self.cursor_page[-1] if self.cursor_page else None
        return self.cursor_page

    def _read_ahead(self, rows, request) -> None:
        """Have ProjectedRows read the asked-for page and the list's count in one
        statement, so the paginator's count and slice are answered from it."""
        read_page = getattr(rows, "read_page", None)
        size = self.get_page_size(request)
        number = request.query_params.get(self.page_query_param) or "1"
        if read_page is None or not size or not number.isdigit() or int(number) < 1:
            return  # "last", or a page the paginator refuses anyway: read as asked
        start = (int(number) - 1) * size
        read_page(start, start + size)

    def _next_cursor(self) -> str | None:
        if not self.has_more or self.last_row is None or not getattr(self.rows, "keyset", False):
            return None
        return encode_cursor(self.last_row)

    def get_paginated_response(self, data: Any) -> Response:
        rows = self.rows
        next_cursor = self._next_cursor()
        if self.cursor_page is None:
            assert self.page is not None  # paginate_queryset ran
            count = self.page.paginator.count
            next_link, previous_link = self.get_next_link(), self.get_previous_link()
        else:
            count = rows.count()
            assert self.request is not None
            url = remove_query_param(self.request.build_absolute_uri(), self.page_query_param)
            base = remove_query_param(url, self.cursor_query_param)
            joiner = "&" if "?" in base else "?"
            next_link = (
                f"{base}{joiner}{urlencode({self.cursor_query_param: next_cursor})}"
                if next_cursor
                else None
            )
            previous_link = None
        return Response(
            {
                "count": count,
                "count_estimated": bool(getattr(rows, "count_estimated", False)),
                "next": next_link,
                "previous": previous_link,
                "next_cursor": next_cursor,
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
            "next_cursor": {
                "type": "string",
                "nullable": True,
                "description": "in the default ordering: send as `cursor` for the page "
                "after this one (null on the last page or in another ordering)",
            },
        }
        response.setdefault("required", ["count", "results"])
        return response

    def get_schema_operation_parameters(self, view) -> list:
        return [
            *super().get_schema_operation_parameters(view),
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "A `next_cursor` of this list (default ordering only): the "
                "page right after that deal, at any depth.",
                "schema": {"type": "string"},
            },
        ]
