"""Files that belong together: several CSVs (or a zip of them) read as one import.

Some CRMs export deals that refer to their organisation and person only by id
(Salesforce Data Loader's AccountId, Twenty's companyId, EspoCRM's accountId, Close's
lead_id). With the organisations' and people's files next to the deals file, the deals
are joined to them here, before the dry run: the joined names become columns of the
deals file ("Organization (joined)", "Contact person (joined)", …) that the mapping
step shows like any other column, and the dry run reports how many rows found a match.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from . import parsing as p
from .profiles import Profile

# A zip of a whole CRM export holds a handful of CSVs; anything much bigger is not one.
MAX_FILES = 12
ZIP_MAGIC = b"PK\x03\x04"

JOINED_ORGANIZATION = "Organization (joined)"
JOINED_CONTACT = "Contact person (joined)"
JOINED_EMAIL = "Contact email (joined)"
JOINED_PHONE = "Contact phone (joined)"

# Deal columns that name an organisation's / a person's id, whatever the CRM.
GENERIC_REFS = {
    "prospect": (
        "organization id",
        "organisation id",
        "org id",
        "org_id",
        "company id",
        "companyid",
        "account id",
        "accountid",
        "account_id",
        "company_id",
        "organization_id",
        "partner_id id",
        "lead_id",
        "lead id",
    ),
    "contact": (
        "person id",
        "person_id",
        "contact id",
        "contactid",
        "contact_id",
        "primary contact id",
        "pointofcontactid",
    ),
}
ID_HEADERS = ("id", "record id", "external id", "organization - id", "person - id")


@dataclass
class SourceFile:
    name: str
    text: str
    delimiter: str
    headers: list[str]
    encoding: str
    frame: dict = field(default_factory=dict)


def expand(files: list[tuple[str, bytes]]) -> tuple[list[tuple[str, bytes]], list[str]]:
    """Zips opened: (CSV files by name, names of members left out)."""
    out: list[tuple[str, bytes]] = []
    ignored: list[str] = []
    for name, raw in files:
        if raw[:4] != ZIP_MAGIC:
            out.append((name, raw))
            continue
        try:
            archive = zipfile.ZipFile(io.BytesIO(raw))
        except zipfile.BadZipFile:
            raise p.ImportFileError(f"{name} is not a zip file that can be opened.") from None
        total = 0
        for info in archive.infolist():
            if info.is_dir() or info.filename.startswith(("__MACOSX/", ".")):
                continue
            if not info.filename.lower().endswith((".csv", ".txt")):
                ignored.append(info.filename)
                continue
            total += info.file_size
            if total > settings.IMPORT_MAX_BYTES:
                raise p.ImportFileError(
                    f"{name} unpacks to more than {p.size_label(settings.IMPORT_MAX_BYTES)}; "
                    "import its files one by one."
                )
            out.append((info.filename.rsplit("/", 1)[-1], archive.read(info)))
    if len(out) > MAX_FILES:
        raise p.ImportFileError(
            f"{len(out)} files are too many for one import (at most {MAX_FILES})."
        )
    if not out:
        raise p.ImportFileError("The zip holds no CSV file.")
    return out, ignored


def read(name: str, raw: bytes) -> SourceFile:
    """Decode, find the delimiter, drop a report's title and footer lines, read the header."""
    try:
        text, encoding = p.decode_csv_bytes_with_encoding(raw)
        delimiter = p.sniff_delimiter(_first_table_line(text))
        text, top, bottom = p.strip_report_frame(text, delimiter)
        headers = p.read_header(text, delimiter)
    except p.ImportFileError as exc:
        if name:
            raise p.ImportFileError(f"{name}: {exc.message}", field=exc.field) from None
        raise
    return SourceFile(name, text, delimiter, headers, encoding, {"top": top, "bottom": bottom})


def _first_table_line(text: str) -> str:
    """The header line, skipping a report's title lines (which hold no delimiter)."""
    for line in text.split("\n", 10)[:10]:
        if any(_count(line, d) for d in (",", ";", "\t")):
            return line
    return text


def _count(line: str, delimiter: str) -> int:
    return p.count_outside_quotes(line, delimiter)


def role_of(source: SourceFile, profile: Profile | None) -> str:
    """deals | prospects | contacts: what the file holds, from the fields its headers map."""
    scores = {}
    for kind in p.KINDS:
        mapping = p.guess_mapping(kind, source.headers, profile)
        fields = {f for f in mapping.values() if f}
        weight = {
            "deals": {"stage", "amount", "expected_close_date", "status", "won_flag"},
            "prospects": {"industry", "size", "website"},
            "contacts": {"email", "first_name", "last_name", "phone", "title"},
        }[kind]
        scores[kind] = len(fields & weight) * 2 + len(fields)
    name = source.name.lower()
    for kind, words in (
        ("deals", ("deal", "opportunit")),
        ("prospects", ("organi", "compan", "account", "lead")),
        ("contacts", ("person", "people", "contact")),
    ):
        if any(w in name for w in words):
            scores[kind] += 3
    return max(scores, key=lambda k: scores[k])


def join(
    kind: str, main: SourceFile, others: list[SourceFile], profile: Profile | None
) -> tuple[SourceFile, list[dict], dict[str, str]]:
    """(the main file with joined columns, what each join did, {joined header: field}).

    Only deals are joined: their organisation (when no column names it) and their contact
    person, by the id columns the CRM writes."""
    if kind != "deals" or not others:
        return main, [], {}
    mapping = p.guess_mapping(kind, main.headers, profile)
    mapped = set(mapping.values())
    normalised = [p.normalise_label(h) for h in main.headers]
    lookups: list[tuple[int, str, dict[str, tuple[str, ...]], list[str], dict]] = []
    added: dict[str, str] = {}
    summaries: list[dict] = []
    for what, columns, fields in (
        ("prospect", [JOINED_ORGANIZATION], ["prospect"]),
        (
            "contact",
            [JOINED_CONTACT, JOINED_EMAIL, JOINED_PHONE],
            ["contact_name", "contact_email", "contact_phone"],
        ),
    ):
        if set(fields) & mapped:
            continue  # the deals file names them already
        refs = [
            p.normalise_label(h) for h in (profile.refers_by_id.get(what, ()) if profile else ())
        ]
        refs += [p.normalise_label(h) for h in GENERIC_REFS[what]]
        index = next((normalised.index(r) for r in refs if r in normalised), None)
        if index is None:
            continue
        wanted_role = "prospects" if what == "prospect" else "contacts"
        table, source = _table(others, wanted_role, profile)
        if not table or source is None:
            continue
        summary: dict[str, Any] = {
            "column": main.headers[index],
            "file": source.name,
            "what": "organization" if what == "prospect" else "contact person",
            "rows": 0,
            "matched": 0,
            "unmatched": 0,
        }
        lookups.append((index, what, table, columns, summary))
        added.update(dict(zip(columns, fields, strict=True)))
        summaries.append(summary)
    if not lookups:
        return main, [], {}
    out = io.StringIO()
    writer = csv.writer(out, delimiter=main.delimiter, lineterminator="\r\n")
    reader = p.read_rows(main.text, main.delimiter)
    header = next(reader)
    writer.writerow([*header, *(c for *_, columns, _s in lookups for c in columns)])
    for cells in reader:
        if not any(c.strip() for c in cells):
            continue
        extra: list[str] = []
        for index, _what, table, columns, summary in lookups:
            key = cells[index].strip() if index < len(cells) else ""
            found = table.get(key)
            if key:
                summary["rows"] += 1
                summary["matched" if found else "unmatched"] += 1
            extra.extend(found or ("",) * len(columns))
        writer.writerow([*cells, *extra])
    joined = SourceFile(
        main.name,
        out.getvalue(),
        main.delimiter,
        [*main.headers, *added],
        main.encoding,
        main.frame,
    )
    return joined, summaries, added


def _table(
    others: list[SourceFile], role: str, profile: Profile | None
) -> tuple[dict[str, tuple[str, ...]], SourceFile | None]:
    """id → (name,) for organisations, id → (name, email, phone) for people."""
    for source in others:
        if role_of(source, profile) != role:
            continue
        mapping = p.guess_mapping(role, source.headers, profile)
        by_field = {f: source.headers.index(h) for h, f in mapping.items() if f}
        normalised = [p.normalise_label(h) for h in source.headers]
        id_index = next((normalised.index(h) for h in ID_HEADERS if h in normalised), None)
        if id_index is None and "external_id" in by_field:
            id_index = by_field["external_id"]
        if id_index is None:
            continue
        table: dict[str, tuple[str, ...]] = {}
        for _number, cells in p.iter_records(source.text, source.delimiter):

            def cell(
                name: str, cells: list[str] = cells, by_field: dict[str, int] = by_field
            ) -> str:
                i = by_field.get(name)
                return cells[i].strip() if i is not None and i < len(cells) else ""

            key = cells[id_index].strip() if id_index < len(cells) else ""
            if not key:
                continue
            if role == "prospects":
                if cell("name"):
                    table[key] = (cell("name"),)
            else:
                name = cell("name") or " ".join(
                    x for x in (cell("first_name"), cell("last_name")) if x
                )
                table[key] = (name, cell("email"), cell("phone"))
        return table, source
    return {}, None
