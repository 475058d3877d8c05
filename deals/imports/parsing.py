"""Reading a CSV from another CRM: bytes → text → rows, headers → our fields, cells → values.

Everything here is pure (no database): the validation step uses it to turn a file into
planned writes, and each problem becomes a message a person can act on.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.utils import timezone

from deals.pricing import MAX_DEAL_TOTAL as MAX_AMOUNT

# Characters that make a spreadsheet treat a cell as a formula (OWASP "CSV injection");
# tab and carriage return are included because Excel strips them and reads what follows.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# Our own export escapes such cells with a leading single quote; reading them back undoes it.
ESCAPE_PREFIX = "'"
PHONE_RE = re.compile(r"^\+?[\d\s().\-/]{3,}(\s*(x|ext\.?)\s*\d+)?$", re.IGNORECASE)

DATE_FORMATS = {
    "iso": "ISO, year first (2026-12-31)",
    "dmy": "Day first (31/12/2026)",
    "mdy": "Month first (12/31/2026)",
}


class ImportFileError(Exception):
    """The file as a whole cannot be read (size, encoding, no header): nothing is imported."""

    def __init__(self, message: str, field: str = "file"):
        super().__init__(message)
        self.message = message
        self.field = field

    def as_validation_error(self) -> ValidationError:
        return ValidationError({self.field: [self.message]})


class CellError(Exception):
    """One cell is unusable; the message says why in plain words."""


# --- Targets: our fields and the headers other CRMs use for them -------------------------


@dataclass(frozen=True)
class Target:
    name: str
    label: str
    type: str = "text"  # text, email, phone, url, money, date, stage, owner, choice
    required: bool = False
    aliases: tuple[str, ...] = ()
    max_length: int | None = None
    help: str = ""


_ORG_ALIASES = (
    "organization",
    "organisation",
    "organization name",
    "organisation name",
    "company",
    "company name",
    "account",
    "account name",
    "prospect",
    "customer",
    "client",
)

TARGETS: dict[str, tuple[Target, ...]] = {
    "prospects": (
        # External id first so an "External ID" column wins over a plain "ID" column.
        Target(
            "external_id",
            "External id",
            aliases=(
                "external id",
                "id",
                "organization id",
                "organisation id",
                "company id",
                "account id",
                "record id",
            ),
            max_length=100,
        ),
        Target("name", "Name", required=True, aliases=("name", *_ORG_ALIASES), max_length=200),
        Target("industry", "Industry", aliases=("industry", "sector", "vertical"), max_length=100),
        Target(
            "size",
            "Size",
            type="choice",
            aliases=(
                "size",
                "company size",
                "employees",
                "number of employees",
                "employee count",
                "no of employees",
                "headcount",
            ),
            help="A band (small … enterprise), a range such as 51-200, or a plain employee count.",
        ),
        Target(
            "website",
            "Website",
            type="url",
            aliases=("website", "web site", "url", "domain", "web"),
            max_length=200,
        ),
        Target("notes", "Notes", aliases=("notes", "note", "description")),
    ),
    "contacts": (
        Target(
            "name",
            "Name",
            aliases=(
                "name",
                "full name",
                "contact name",
                "contact person",
                "person",
                "person name",
                "contact",
            ),
            max_length=200,
            help="Required, or First name + Last name.",
        ),
        Target("first_name", "First name", aliases=("first name", "firstname", "given name")),
        Target(
            "last_name", "Last name", aliases=("last name", "lastname", "surname", "family name")
        ),
        Target("prospect", "Organization", required=True, aliases=_ORG_ALIASES, max_length=200),
        Target(
            "title",
            "Job title",
            aliases=("job title", "title", "position", "role title"),
            max_length=200,
        ),
        Target(
            "email",
            "Email",
            type="email",
            aliases=(
                "email",
                "e-mail",
                "email address",
                "work email",
                "primary email",
                "email work",
            ),
            max_length=254,
        ),
        Target(
            "phone",
            "Phone",
            type="phone",
            aliases=(
                "phone",
                "phone number",
                "telephone",
                "work phone",
                "mobile",
                "mobile phone",
                "primary phone",
                "phone work",
            ),
            max_length=50,
        ),
        Target("buying_role", "Buying role", type="choice", aliases=("buying role", "role")),
        Target("notes", "Notes", aliases=("notes", "note", "description")),
    ),
    "deals": (
        Target(
            "external_id",
            "External id",
            aliases=("external id", "id", "deal id", "opportunity id", "record id"),
            max_length=100,
        ),
        Target(
            "title",
            "Deal name",
            required=True,
            aliases=(
                "deal name",
                "title",
                "deal title",
                "deal",
                "opportunity",
                "opportunity name",
                "name",
                "subject",
            ),
            max_length=200,
        ),
        Target("prospect", "Organization", required=True, aliases=_ORG_ALIASES, max_length=200),
        Target(
            "amount",
            "Value",
            type="money",
            aliases=(
                "value",
                "amount",
                "deal value",
                "deal amount",
                "opportunity amount",
                "price",
                "total",
            ),
            help="Becomes one proposal item, 'Imported value'.",
        ),
        Target("list_total", "List total", type="money", aliases=("list total",)),
        Target("net_total", "Net total", type="money", aliases=("net total",)),
        Target("cost_total", "Cost total", type="money", aliases=("cost total", "cost")),
        Target(
            "currency",
            "Currency",
            aliases=("currency", "deal currency", "currency code"),
            help="A code (EUR), a symbol (€) or an ISO number (978); none: the team's currency.",
        ),
        Target(
            "stage",
            "Stage",
            type="stage",
            aliases=("stage", "deal stage", "pipeline stage", "sales stage", "status"),
        ),
        Target(
            "owner",
            "Owner",
            type="owner",
            aliases=(
                "owner",
                "deal owner",
                "owner email",
                "owner name",
                "assigned to",
                "sales rep",
                "rep",
                "user",
                "owner username",
            ),
        ),
        Target(
            "expected_close_date",
            "Expected close date",
            type="date",
            aliases=(
                "expected close date",
                "close date",
                "expected close",
                "closing date",
                "expected closing date",
                "close by",
            ),
        ),
        Target(
            "lost_reason",
            "Lost reason",
            aliases=(
                "lost reason",
                "reason lost",
                "loss reason",
                "reason for loss",
                "closed lost reason",
            ),
        ),
        # Status beside stage: many CRMs keep won/lost apart from the pipeline stage.
        Target(
            "status",
            "Status (won / lost / open)",
            type="status",
            aliases=("status", "deal status", "opportunity status", "outcome"),
            help="Won or lost here closes the deal whatever the stage column says.",
        ),
        Target(
            "won_flag", "Won (yes / no)", type="bool", aliases=("won", "is won", "is closed won")
        ),
        Target("closed_flag", "Closed (yes / no)", type="bool", aliases=("closed", "is closed")),
        Target(
            "active_flag",
            "Active (archived when no)",
            type="bool",
            aliases=("active",),
            help="An archived record with a lost reason is imported as lost.",
        ),
        Target(
            "won_date",
            "Won on",
            type="datetime",
            aliases=("won time", "won date", "date won", "won on"),
        ),
        Target(
            "lost_date",
            "Lost on",
            type="datetime",
            aliases=("lost time", "lost date", "date lost", "lost on"),
        ),
        Target(
            "closed_date",
            "Closed on",
            type="datetime",
            aliases=("closed date", "date closed", "closed on", "actual close date", "close time"),
        ),
        Target(
            "notes_for_delivery",
            "Notes",
            aliases=("notes", "note", "description", "notes for delivery"),
        ),
        Target(
            "contact_name",
            "Contact person",
            aliases=("contact person", "contact name", "person", "contact"),
            max_length=200,
        ),
        Target(
            "contact_email",
            "Contact email",
            type="email",
            aliases=("email", "contact email", "person email", "e-mail", "email address"),
            max_length=254,
        ),
        Target(
            "contact_phone",
            "Contact phone",
            type="phone",
            aliases=("phone", "contact phone", "person phone", "phone number", "telephone"),
            max_length=50,
        ),
    ),
}

KINDS = tuple(TARGETS)


def targets_for(kind: str) -> dict[str, Target]:
    return {t.name: t for t in TARGETS[kind]}


def normalise_label(value: str) -> str:
    """'Deal  Owner ' → 'deal owner'; punctuation other than '-' becomes a space."""
    value = re.sub(r"[^0-9a-z\-]+", " ", value.strip().lower())
    return " ".join(value.split())


# --- Bytes → text → rows --------------------------------------------------------------


def decode_csv_bytes(raw: bytes) -> str:
    """The file's text; see decode_csv_bytes_with_encoding."""
    return decode_csv_bytes_with_encoding(raw)[0]


def decode_csv_bytes_with_encoding(raw: bytes) -> tuple[str, str]:
    """(text, encoding read): UTF-8 with or without a byte-order mark, else Windows-1252.

    Salesforce report exports and Excel's plain "CSV (comma delimited)" are written in the
    Windows code page of the user's locale (cp1252 in Western Europe and the Americas), so
    a file that is not UTF-8 is read as cp1252 (Latin-1 for the five bytes cp1252 leaves
    undefined) and the dry run says so. UTF-16 and binary files are refused.
    """
    limit = settings.IMPORT_MAX_BYTES
    if len(raw) > limit:
        raise ImportFileError(
            f"The file is {_size(len(raw))}; the largest file you can import is {_size(limit)}. "
            "Split it into smaller files."
        )
    if not raw.strip():
        raise ImportFileError("The file is empty.")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ImportFileError(
            "The file is UTF-16 text. Save it as 'CSV UTF-8 (comma delimited)' and upload again."
        )
    if b"\x00" in raw[:4096]:
        raise ImportFileError("This is not a CSV text file (it contains binary data).")
    try:
        return raw.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return raw.decode("latin-1"), "latin-1"


ENCODING_NOTE = {
    "cp1252": "The file is not UTF-8; it was read as Windows-1252 (Western European). "
    "If accented letters look wrong below, save it as 'CSV UTF-8' and upload again.",
    "latin-1": "The file is not UTF-8; it was read as Latin-1 (ISO-8859-1). If accented "
    "letters look wrong below, save it as 'CSV UTF-8' and upload again.",
}


# Lines a report export writes around the table. Salesforce's "Export details" ends the
# file with a blank line, the report name, "Copyright (c) 2000-… salesforce.com, inc.",
# "Confidential Information - Do Not Distribute" and "Generated By: …" (Salesforce help,
# "Export a Report": https://help.salesforce.com/s/articleView?id=sf.reports_export.htm);
# summary reports add "Total"/"Grand Totals (n records)" rows. Zoho and HubSpot report
# exports may start with the report's title line above the header.
_TOTAL_CELL = re.compile(
    r"^\s*(grand totals?|totals?|subtotal|sum)\s*(\(\d[\d,.]* records?\))?\s*:?\s*$", re.IGNORECASE
)


def strip_report_frame(text: str, delimiter: str) -> tuple[str, int, int]:
    """(table text, title lines dropped above, footer lines dropped below).

    Works on lines (a footer never holds multi-line cells) and leaves the table itself as
    it is, so a plain export is returned unchanged without re-writing 100,000 rows.
    Below the table, lines with a single cell (no delimiter) and total rows are dropped;
    nothing is touched in a file of fewer than three columns.
    """
    lines = text.split("\n")

    def row_of(line: str) -> list[str]:
        try:
            return next(csv.reader([line], delimiter=delimiter), [])
        except csv.Error:
            return [line]

    def cells(line: str) -> list[str]:
        return [c for c in row_of(line) if c.strip()]

    top = next((i for i, line in enumerate(lines[:10]) if len(cells(line)) >= 2), 0)
    if len(cells(lines[top])) < 3:
        return text, 0, 0
    index = len(lines) - 1
    dropped = 0
    while index > top and len(lines) - index < 40:
        line = lines[index]
        found = cells(line)
        if not found:
            index -= 1
            continue
        if len(row_of(line)) == 1 or _TOTAL_CELL.match(found[0]):
            dropped += 1
            index -= 1
            continue
        break
    if top == 0 and not dropped:
        return text, 0, 0
    kept = lines[top : index + 1]
    return "\n".join(kept) + "\n", top, dropped


def _size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} MB"
    if n >= 1024:
        return f"{n / 1024:.0f} KB"
    return f"{n} bytes"


def sniff_delimiter(text: str) -> str:
    """Comma or semicolon (tab too): whichever splits the header line into more columns."""
    first_line = text.split("\n", 1)[0]
    counts = {d: _count_outside_quotes(first_line, d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _count_outside_quotes(line: str, delimiter: str) -> int:
    count, quoted = 0, False
    for ch in line:
        if ch == '"':
            quoted = not quoted
        elif ch == delimiter and not quoted:
            count += 1
    return count


def read_rows(text: str, delimiter: str) -> Iterator[list[str]]:
    """Every record, header included; quoted cells may span lines."""
    return csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)


def read_header(text: str, delimiter: str) -> list[str]:
    """The header row with blank and repeated names made unique ('Column 4', 'Email (2)')."""
    try:
        raw = next(iter(read_rows(text, delimiter)))
    except StopIteration:
        raise ImportFileError("The file is empty.") from None
    except csv.Error as exc:
        raise ImportFileError(f"The header row cannot be read as CSV: {exc}.") from None
    headers: list[str] = []
    seen: dict[str, int] = {}
    for index, value in enumerate(raw):
        name = unescape_cell(value).strip() or f"Column {index + 1}"
        if name in seen:
            seen[name] += 1
            name = f"{name} ({seen[name]})"
        else:
            seen[name] = 1
        headers.append(name)
    if not any(h for h in raw if h.strip()):
        raise ImportFileError("The first row must name the columns; it is empty.")
    return headers


def iter_records(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """(row number as a spreadsheet shows it, cells) for each data row; blank rows skipped."""
    reader = read_rows(text, delimiter)
    next(reader, None)
    row_number = 1
    for cells in reader:
        row_number += 1
        if not any(c.strip() for c in cells):
            continue
        yield row_number, cells


def count_records(text: str, delimiter: str) -> int:
    return sum(1 for _ in iter_records(text, delimiter))


# --- Headers → our fields ------------------------------------------------------------


def guess_mapping(kind: str, headers: list[str], profile=None) -> dict[str, str]:
    """{header: field or ""}. A recognised CRM's own spellings come first (its profile);
    then each field still free is taken by the first header matching its generic aliases,
    in the order the aliases are listed (so "External ID" beats "ID")."""
    normalised = {h: normalise_label(h) for h in headers}
    mapping = dict.fromkeys(headers, "")
    taken: set[str] = set()
    if profile is not None:
        for name, spellings in profile.headers_for(kind).items():
            for spelling in spellings:
                match = next(
                    (h for h in headers if normalised[h] == spelling and not mapping[h]), None
                )
                if match:
                    mapping[match] = name
                    taken.add(name)
                    break
    for target in TARGETS[kind]:
        if target.name in taken:
            continue
        for alias in target.aliases:
            match = next((h for h in headers if normalised[h] == alias and not mapping[h]), None)
            if match:
                mapping[match] = target.name
                break
    return mapping


def check_mapping(
    kind: str, headers: list[str], mapping: dict[str, str], optional: frozenset[str] = frozenset()
) -> dict[str, str]:
    """A clean {header: field} mapping, or ImportFileError(field="mapping") saying what is
    wrong. `optional`: required fields the recognised CRM fills another way."""
    targets = targets_for(kind)
    clean: dict[str, str] = {}
    used: dict[str, str] = {}
    for header in headers:
        field = (mapping.get(header) or "").strip()
        if not field:
            clean[header] = ""
            continue
        if field not in targets:
            raise ImportFileError(
                f"Column '{header}' is mapped to '{field}', which is not a field of "
                f"{kind}. Choose one of: {', '.join(targets)}.",
                field="mapping",
            )
        if field in used:
            raise ImportFileError(
                f"Columns '{used[field]}' and '{header}' are both mapped to "
                f"{targets[field].label}; map only one of them.",
                field="mapping",
            )
        used[field] = header
        clean[header] = field
    unknown = [h for h in mapping if h not in headers and mapping[h]]
    if unknown:
        raise ImportFileError(
            f"The mapping names columns the file does not have: {', '.join(unknown)}.",
            field="mapping",
        )
    missing = [
        t for t in TARGETS[kind] if t.required and t.name not in used and t.name not in optional
    ]
    if kind == "contacts" and "name" not in used and not {"first_name", "last_name"} & set(used):
        missing.insert(0, targets["name"])
    if missing:
        names = ", ".join(t.label for t in missing)
        raise ImportFileError(
            f"The file has no column for {names}, which {'is' if len(missing) == 1 else 'are'} "
            f"required for {kind}. Map one of your columns to it "
            f"(the file's columns: {', '.join(headers)}).",
            field="mapping",
        )
    return clean


# --- Stages --------------------------------------------------------------------------

STAGE_LABELS = {
    "discovery": "Discovery",
    "qualification": "Qualification",
    "proposal": "Proposal",
    "negotiation": "Negotiation",
    "closed_won": "Closed won",
    "closed_lost": "Closed lost",
}

# Stage names of common CRMs (Pipedrive, HubSpot, Salesforce, Zoho) → ours. The user
# edits the table per import; this is only the starting point.
DEFAULT_STAGE_MAPPING = {
    **{code: code for code in STAGE_LABELS},
    **{normalise_label(label): code for code, label in STAGE_LABELS.items()},
    "lead": "discovery",
    "new": "discovery",
    "lead in": "discovery",
    "prospecting": "discovery",
    "contact made": "discovery",
    "appointment scheduled": "discovery",
    "discovery call": "discovery",
    "qualified": "qualification",
    "qualified to buy": "qualification",
    "needs analysis": "qualification",
    "demo scheduled": "qualification",
    "value proposition": "qualification",
    "proposal made": "proposal",
    "proposal sent": "proposal",
    "presentation scheduled": "proposal",
    "quote": "proposal",
    "proposal price quote": "proposal",
    "decision maker bought-in": "negotiation",
    "negotiations started": "negotiation",
    "negotiation review": "negotiation",
    "contract sent": "negotiation",
    "won": "closed_won",
    "closed won": "closed_won",
    "closedwon": "closed_won",
    "lost": "closed_lost",
    "closed lost": "closed_lost",
    "closedlost": "closed_lost",
}
_DEFAULT_STAGE_LOOKUP = {normalise_label(k): v for k, v in DEFAULT_STAGE_MAPPING.items()}


def stage_lookup(
    stage_mapping: dict[str, str], profile_stages: dict[str, str] | None = None
) -> dict[str, str]:
    """{normalised stage name: our stage}: the defaults, then the recognised CRM's default
    pipeline, then the user's table."""
    lookup = dict(_DEFAULT_STAGE_LOOKUP)
    lookup.update(profile_stages or {})
    for source, code in (stage_mapping or {}).items():
        if code:
            lookup[normalise_label(source)] = code
    return lookup


def map_stage(value: str, stage_mapping: dict[str, str], lookup: dict | None = None) -> str:
    """Our stage code for the file's stage name; the user's table wins over the defaults."""
    code = (lookup if lookup is not None else stage_lookup(stage_mapping)).get(
        normalise_label(value)
    )
    if code is None:
        raise CellError(
            f"'{value}' is not one of our stages; map it to one in the stage table "
            f"({', '.join(STAGE_LABELS.values())})"
        )
    if code not in STAGE_LABELS:
        raise CellError(f"stage table maps '{value}' to unknown stage '{code}'")
    return code


# --- Cells → values ------------------------------------------------------------------


def unescape_cell(value: str) -> str:
    """Undo the single-quote escape our export puts before = + - @."""
    if value.startswith(ESCAPE_PREFIX) and value[1:2] and value[1] in FORMULA_PREFIXES:
        return value[1:]
    return value


def looks_like_formula(text: str) -> bool:
    """True for what a spreadsheet would execute when the cell is opened.

    "=" and "@" always start a formula. "+" and "-" do when an expression follows
    ("-2+3", "+SUM(A1)", "-cmd|…"); a dash or plus followed by a space is how people write
    a bullet list ("- first point"), and a signed plain number is a number, not code.
    Tab and carriage return are looked through, as Excel strips them.
    """
    stripped = text.lstrip("\t\r")
    head = stripped[:1]
    if head in ("=", "@"):
        return True
    if head in ("+", "-"):
        rest = stripped[1:]
        if not rest or rest[0] in (" ", "\u00a0", "-", "+") or set(stripped) <= {"-", "+"}:
            return False  # "- bullet", "-- ", "---" (a dash line)
        return not _SIGNED_NUMBER.fullmatch(stripped)
    return False


_SIGNED_NUMBER = re.compile(r"[+-]\d[\d\s.,]*%?")


def clean_text(value: str, *, max_length: int | None = None, kind: str = "text") -> str:
    """Trimmed text; formula cells are refused (they run in Excel when reopened)."""
    escaped = value[:1] == ESCAPE_PREFIX and value[1:2] != "" and value[1:2] in FORMULA_PREFIXES
    text = (value[1:] if escaped else value).strip()
    if not escaped and set(text) == {"-"}:
        return ""  # "-" and "--" are how many CRMs export an empty cell
    if not escaped and looks_like_formula(text) and not (kind == "phone" and PHONE_RE.match(text)):
        first = text[:1] or value[:1]
        raise CellError(
            f"starts with {first!r} and reads as a spreadsheet formula (Excel would run it "
            "when the file is opened), so it is not imported. If it is plain text, put a "
            "single quote (') in front of it; a list written '- item' is fine as it is"
        )
    if max_length is not None and len(text) > max_length:
        raise CellError(f"is {len(text)} characters long; the most we keep is {max_length}")
    return text


_HTML_TAG = re.compile(r"</?[a-zA-Z][^>]*>")
_HTML_BREAK = re.compile(r"<\s*(br\s*/?|/p|/div|/h\d|/tr)\s*>", re.IGNORECASE)
_HTML_ITEM = re.compile(r"<\s*li[^>]*>", re.IGNORECASE)


def html_to_text(value: str) -> str:
    """Notes exported as HTML (Pipedrive and HubSpot notes, Close and Zoho rich text):
    paragraphs and breaks become new lines, list items "- " bullets, tags go."""
    if "<" not in value or not _HTML_TAG.search(value):
        return value
    import html

    text = _HTML_BREAK.sub("\n", value)
    text = _HTML_ITEM.sub("\n- ", text)
    text = html.unescape(_HTML_TAG.sub("", text))
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return "\n".join(line for line in lines if line).strip()


_URL = URLValidator()


def parse_url(value: str) -> str:
    url = value if "://" in value else f"https://{value}"
    try:
        _URL(url)
    except ValidationError:
        raise CellError("is not a web address") from None
    return url


def parse_email(value: str) -> str:
    try:
        validate_email(value)
    except ValidationError:
        raise CellError("is not an email address") from None
    return value.lower()


_CURRENCY_NOISE = re.compile(r"[\s\u00a0\u202f$€£¥]|^[A-Za-z]{3}\s*|\s*[A-Za-z]{3}$")
_THOUSANDS_COMMA = re.compile(r"^\d{1,3}(,\d{3})+(\.\d+)?$")
_THOUSANDS_DOT = re.compile(r"^\d{1,3}(\.\d{3})+(,\d+)?$")


def parse_money(value: str, *, delimiter: str = ",") -> Decimal:
    """'1,234.50', '1.234,50', '€ 1 234,50', 'USD 99' → Decimal; refuses negatives and
    amounts a deal cannot hold (usually a wrong column mapped, e.g. a phone number)."""
    raw = value.strip()
    if raw[:1] in ("=", "@"):
        raise CellError("is a spreadsheet formula, not a number")
    text = _CURRENCY_NOISE.sub("", raw)
    if "," in text and "." in text:
        if text.rfind(",") > text.rfind("."):
            text = text.replace(".", "").replace(",", ".")
        else:
            text = text.replace(",", "")
    elif "," in text:
        # "1,234" is a thousand in a comma file and 1.234 in a semicolon (European) file.
        if delimiter != ";" and _THOUSANDS_COMMA.match(text):
            text = text.replace(",", "")
        else:
            text = text.replace(",", ".")
    elif text.count(".") > 1 and _THOUSANDS_DOT.match(text):
        text = text.replace(".", "")
    if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", text):
        raise CellError("is not a number")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise CellError("is not a number") from None
    if amount < 0:
        raise CellError("is negative; amounts must be zero or more")
    if amount > MAX_AMOUNT:
        raise CellError(
            f"is larger than the biggest amount a deal can hold ({MAX_AMOUNT:,}); "
            "check that the right column is mapped"
        )
    return amount.quantize(Decimal("0.01"))


_ISO_RE = re.compile(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})([T ].*)?$")
_PARTS_RE = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})(?:[ T,]+(.*))?$")
# "Mar 5, 2026", "March 5 2026" (Zoho, Copper, Salesforce in US English), "5 Mar 2026",
# "05-Mar-2026" (Odoo and Excel), with an optional time after.
_MONTH_FIRST_RE = re.compile(r"^([A-Za-z]{3,9})\.?\s+(\d{1,2}),?\s+(\d{4})(?:[ T,]+(.*))?$")
_DAY_FIRST_RE = re.compile(r"^(\d{1,2})[\s\-]([A-Za-z]{3,9})\.?[\s\-,]+(\d{4})(?:[ T,]+(.*))?$")
_MONTHS = {
    name: index
    for index, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}
_TIME_RE = re.compile(
    r"^(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?\s*([AaPp][Mm])?\s*"
    r"(Z|UTC|GMT|[+-]\d{2}:?\d{2})?$"
)


def parse_date(value: str, date_format: str) -> dt.date:
    """A calendar date. ISO is always accepted, with or without a time; a date-time with
    a zone (2026-03-05T23:30:00-08:00, Close and HubSpot API dumps) is the date it was
    in this installation's time zone. 31/12/2026 needs "dmy", 12/31/2026 needs "mdy"."""
    moment = parse_datetime(value, date_format)
    return timezone.localtime(moment).date() if moment.tzinfo is not None else moment.date()


def parse_datetime(value: str, date_format: str) -> dt.datetime:
    """A date with its time when the cell has one; aware when the cell names a zone,
    otherwise naive (the caller reads it in the current time zone)."""
    text = value.strip()
    match = _ISO_RE.match(text)
    rest: str | None
    if match:
        day = _make_date(int(match[1]), int(match[2]), int(match[3]), value)
        rest = (match[4] or "")[1:]
        return _with_time(day, rest)
    for pattern, month_group, day_group in ((_MONTH_FIRST_RE, 1, 2), (_DAY_FIRST_RE, 2, 1)):
        match = pattern.match(text)
        if match and match[month_group].lower() in _MONTHS:
            day = _make_date(
                int(match[3]), _MONTHS[match[month_group].lower()], int(match[day_group]), value
            )
            return _with_time(day, match[4] or "")
    match = _PARTS_RE.match(text)
    if not match:
        raise CellError("is not a date; use 2026-12-31, 31/12/2026 or 12/31/2026")
    first, second, year = int(match[1]), int(match[2]), int(match[3])
    if len(match[3]) == 2:
        year += 2000
    if date_format == "dmy":
        return _with_time(_make_date(year, second, first, value), match[4] or "")
    if date_format == "mdy":
        return _with_time(_make_date(year, first, second, value), match[4] or "")
    hint = "day first" if first > 12 else "month first" if second > 12 else "day or month first"
    raise CellError(
        f"is not an ISO date (2026-12-31); it looks {hint}: choose that date format for this import"
    )


def _with_time(day: dt.date, rest: str) -> dt.datetime:
    rest = rest.strip()
    if not rest:
        return dt.datetime(day.year, day.month, day.day)
    match = _TIME_RE.match(rest)
    if not match:
        # An unreadable time after a good date: the date is what the deal needs.
        return dt.datetime(day.year, day.month, day.day)
    hour, minute, second = int(match[1]), int(match[2]), int(match[3] or 0)
    if match[4]:
        hour = hour % 12 + (12 if match[4].lower() == "pm" else 0)
    if hour > 23 or minute > 59 or second > 59:
        return dt.datetime(day.year, day.month, day.day)
    moment = dt.datetime(day.year, day.month, day.day, hour, minute, second)
    zone = match[5]
    if zone:
        if zone.upper() in ("Z", "UTC", "GMT"):
            return moment.replace(tzinfo=dt.UTC)
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        offset = dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        return moment.replace(tzinfo=dt.timezone(sign * offset))
    return moment


def aware(moment: dt.datetime) -> dt.datetime:
    """A naive file time read in the installation's time zone."""
    if moment.tzinfo is not None:
        return moment
    return timezone.make_aware(moment, timezone.get_current_timezone())


def _make_date(year: int, month: int, day: int, original: str) -> dt.date:
    if not 1900 <= year <= 2200:
        raise CellError(f"has the year {year}, which cannot be right")
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise CellError("is not a real date (check the day and month order you chose)") from None


SIZE_CHOICES = {
    "small": "small",
    "medium": "medium",
    "large": "large",
    "enterprise": "enterprise",
    "1-50": "small",
    "1-10": "small",
    "11-50": "small",
    "51-200": "medium",
    "201-500": "medium",
    "51-500": "medium",
    "501-1000": "large",
    "1001-5000": "large",
    "501-5000": "large",
    "5000": "enterprise",
    "5001": "enterprise",
    "10000": "enterprise",
}

BUYING_ROLES = {
    "champion": "champion",
    "decision maker": "decision_maker",
    "decision_maker": "decision_maker",
    "economic buyer": "decision_maker",
    "influencer": "influencer",
    "user": "user",
    "end user": "user",
    "blocker": "blocker",
}


def size_band(employees: int) -> str:
    """Our bands: small up to 50 people, medium up to 500, large up to 5,000, then enterprise."""
    if employees <= 50:
        return "small"
    if employees <= 500:
        return "medium"
    if employees <= 5000:
        return "large"
    return "enterprise"


_EMPLOYEES_RE = re.compile(r"^(\d[\d,.\s\u00a0]*?)\s*(?:[-–]\s*\d[\d,.\s]*)?\+?$")


def _whole_number(text: str) -> int:
    """'1,200' / '1.200' / '1 200' → 1200; '12.5' → 12 (a separator before exactly three
    digits groups thousands, otherwise it is the decimal point)."""
    text = re.sub(r"[\s\u00a0]", "", text)
    groups = re.split(r"[.,]", text)
    if len(groups) > 1 and all(len(g) == 3 for g in groups[1:]):
        return int("".join(groups))
    return int(groups[0] or 0)


def parse_choice(target_name: str, value: str) -> str:
    key = normalise_label(value).replace("employees", "").replace(" ", "")
    if target_name == "size":
        key = key.rstrip("+")
        found = SIZE_CHOICES.get(key) or SIZE_CHOICES.get(normalise_label(value).split(" ")[0])
        if found:
            return found
        # A plain count ("250", "1,200", "1.200") or a range ("1,001-5,000", "10,001+"),
        # as HubSpot's "Number of Employees", Salesforce's NumberOfEmployees, Pipedrive's
        # and Zoho's "Employees" hold it: the band of its lower end.
        text = value.strip().lower().replace("employees", "").replace("people", "").strip()
        match = _EMPLOYEES_RE.match(text)
        if match:
            return size_band(_whole_number(match[1]))
        raise CellError(
            "is not a company size (small, medium, large, enterprise, a range such as 51-200 "
            "or a number of employees)"
        )
    found = BUYING_ROLES.get(normalise_label(value)) or BUYING_ROLES.get(value.strip().lower())
    if not found:
        raise CellError(
            "is not a buying role (champion, decision maker, influencer, user, blocker)"
        )
    return found


_TRUE = frozenset({"true", "yes", "y", "1", "x", "t", "on", "wahr", "ja", "oui", "si", "vrai"})
_FALSE = frozenset({"false", "no", "n", "0", "f", "off", "falsch", "nein", "non", "faux"})


def parse_bool(value: str) -> bool:
    """TRUE/FALSE (Salesforce, Odoo), true/false (HubSpot, API dumps), yes/no, 1/0."""
    key = value.strip().lower().strip(".")
    if key in _TRUE:
        return True
    if key in _FALSE:
        return False
    raise CellError("is neither yes nor no (true/false, yes/no, 1/0)")


# What a status column says → won | lost | open | deleted. Profiles add their own words.
STATUS_WORDS = {
    "won": "won",
    "closed won": "won",
    "win": "won",
    "lost": "lost",
    "closed lost": "lost",
    "abandoned": "lost",
    "open": "open",
    "active": "open",
    "in progress": "open",
    "deleted": "deleted",
}


def parse_status(value: str, words: dict[str, str] | None = None) -> str:
    key = normalise_label(value)
    found = (words or {}).get(key) or STATUS_WORDS.get(key)
    if found is None:
        raise CellError("is not a status we know (won, lost, open, abandoned)")
    return found


# Currencies given as a symbol, an ISO 4217 numeric code or a name. "$" is read as USD and
# "¥" as JPY: a file in CAD or CNY names its code. Sources: ISO 4217 list
# (https://www.six-group.com/en/products-services/financial-information/data-standards.html).
CURRENCY_SYMBOLS = {
    "$": "USD",
    "us$": "USD",
    "€": "EUR",
    "£": "GBP",
    "¥": "JPY",
    "₹": "INR",
    "₩": "KRW",
    "₽": "RUB",
    "₺": "TRY",
    "₪": "ILS",
    "r$": "BRL",
    "chf": "CHF",
    "fr.": "CHF",
    "kr": "SEK",
    "zł": "PLN",
    "a$": "AUD",
    "c$": "CAD",
    "ca$": "CAD",
}
CURRENCY_NUMERIC = {
    "840": "USD",
    "978": "EUR",
    "826": "GBP",
    "392": "JPY",
    "756": "CHF",
    "124": "CAD",
    "036": "AUD",
    "36": "AUD",
    "752": "SEK",
    "578": "NOK",
    "208": "DKK",
    "985": "PLN",
    "356": "INR",
    "986": "BRL",
    "156": "CNY",
    "484": "MXN",
    "710": "ZAR",
    "554": "NZD",
    "702": "SGD",
    "344": "HKD",
}
CURRENCY_NAMES = {
    "us dollar": "USD",
    "dollar": "USD",
    "euro": "EUR",
    "pound sterling": "GBP",
    "british pound": "GBP",
    "swiss franc": "CHF",
    "japanese yen": "JPY",
    "canadian dollar": "CAD",
    "australian dollar": "AUD",
}
_CODE_RE = re.compile(r"^[A-Za-z]{3}$")


def parse_currency(value: str, *, default: str, extra: dict[str, str] | None = None) -> str:
    """An ISO 4217 code from what exporters write: "EUR", "eur", "€", "978", Odoo's
    external id "base.EUR", "EUR - Euro", or a profile's own ids (SuiteCRM's -99 is the
    installation's default currency: the team's here)."""
    text = value.strip()
    key = text.lower()
    if extra and key in extra:
        code = extra[key]
        return default if code == "default" else code
    if key.startswith("base."):
        key = key[5:]
        text = text[5:]
    if _CODE_RE.match(text):
        return text.upper()
    head = re.split(r"[\s\-–(]", text, maxsplit=1)[0]
    if _CODE_RE.match(head) and head.upper() == head:
        return head.upper()  # "EUR - Euro", "USD (US Dollar)"
    found = CURRENCY_SYMBOLS.get(key) or CURRENCY_NUMERIC.get(key) or CURRENCY_NAMES.get(key)
    if found:
        return found
    raise CellError("is not a currency (a code such as EUR, a symbol such as €, or 978)")
