import pytest

from deals.imports import services


def csv_bytes(rows, delimiter=",", bom=False, encoding="utf-8") -> bytes:
    """rows: lists of cells; quoted when needed, joined with CRLF like spreadsheets do."""
    import csv
    import io

    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    data = buffer.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


DEAL_HEADER = ["Deal Name", "Organization", "Value", "Stage", "Deal owner", "Expected close date"]


@pytest.fixture
def make_job(manager_user, team):
    def make(rows, kind="deals", user=None, **options):
        return services.import_job_create(
            user=user or manager_user,
            file_name=f"{kind}.csv",
            raw=rows if isinstance(rows, bytes) else csv_bytes(rows),
            kind=kind,
            **options,
        )

    return make
