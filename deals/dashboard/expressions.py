"""SQL expressions the dashboard's live reads and its rollups share, so both count alike."""

import datetime as dt

from django.db.models import BooleanField, ExpressionWrapper, F, FloatField, Func, Q


class MoneyRatio(Func):
    """`numerator / denominator` of two money columns, per row.

    PostgreSQL divides the numerics exactly, and faster than casting every row to float
    (numeric to float8 goes through text; bench/RESULTS.md).
    SQLite keeps whole amounts as integers and would divide them as integers, so there
    the numerator becomes REAL.
    """

    arity = 2
    output_field = FloatField()

    def as_sql(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, template="(%(expressions)s)", arg_joiner=" / ")

    def as_sqlite(self, compiler, connection, **extra_context):
        numerator, denominator = self.get_source_expressions()
        num_sql, num_params = compiler.compile(numerator)
        den_sql, den_params = compiler.compile(denominator)
        return f"(CAST({num_sql} AS REAL) / {den_sql})", [*num_params, *den_params]


def sla_missed_q(now: dt.datetime, prefix: str = "") -> Q:
    """A handoff claimed after its SLA, or still unclaimed past it at `now`."""
    return Q(**{f"{prefix}sla_due_at__isnull": False}) & (
        Q(**{f"{prefix}claimed_at__gt": F(f"{prefix}sla_due_at")})
        | Q(**{f"{prefix}claimed_at__isnull": True, f"{prefix}sla_due_at__lt": now})
    )


def open_on_snapshot_day() -> ExpressionWrapper:
    """On a snapshot: the deal was not closed by the end of the snapshot's day (the same
    rule the dashboard's "open deals" history has always used)."""
    return ExpressionWrapper(
        Q(deal__closed_at__isnull=True) | Q(deal__closed_at__date__gt=F("day")),
        output_field=BooleanField(),
    )
