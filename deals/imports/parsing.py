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
            aliases=("size", "company size", "employees", "number of employees"),
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
            max_length=3,
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
        Target("lost_reason", "Lost reason", aliases=("lost reason", "reason lost", "loss reason")),
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
    """UTF-8 with or without a byte-order mark; anything else is refused with a reason."""
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
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ImportFileError(
            f"The file is not UTF-8 text (byte 0x{raw[exc.start]:02X} on line {line} cannot be "
            "read). It was probably saved as Windows-1252 or Latin-1: save it as "
            "'CSV UTF-8' and upload again."
        ) from None


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


def guess_mapping(kind: str, headers: list[str]) -> dict[str, str]:
    """{header: field or ""}: each field is taken by the first header matching its aliases,
    in the order the aliases are listed (so "External ID" beats "ID")."""
    normalised = {h: normalise_label(h) for h in headers}
    mapping = dict.fromkeys(headers, "")
    for target in TARGETS[kind]:
        for alias in target.aliases:
            match = next((h for h in headers if normalised[h] == alias and not mapping[h]), None)
            if match:
                mapping[match] = target.name
                break
    return mapping


def check_mapping(kind: str, headers: list[str], mapping: dict[str, str]) -> dict[str, str]:
    """A clean {header: field} mapping, or ImportFileError(field="mapping") saying what is wrong."""
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
    missing = [t for t in TARGETS[kind] if t.required and t.name not in used]
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


def stage_lookup(stage_mapping: dict[str, str]) -> dict[str, str]:
    """{normalised stage name: our stage}: the defaults overlaid with the user's table."""
    lookup = dict(_DEFAULT_STAGE_LOOKUP)
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


def clean_text(value: str, *, max_length: int | None = None, kind: str = "text") -> str:
    """Trimmed text; formula-looking cells are refused (they run in Excel when reopened)."""
    escaped = value[:1] == ESCAPE_PREFIX and value[1:2] != "" and value[1:2] in FORMULA_PREFIXES
    text = (value[1:] if escaped else value).strip()
    if not escaped and set(text) == {"-"}:
        return ""  # "-" and "--" are how many CRMs export an empty cell
    if (
        not escaped
        and text[:1] in FORMULA_PREFIXES
        and not (kind == "phone" and PHONE_RE.match(text))
    ):
        raise CellError(
            f"starts with {text[:1]!r}, so a spreadsheet would run it as a formula; formulas "
            "are not imported. If it is plain text, put a single quote (') in front of it"
        )
    if max_length is not None and len(text) > max_length:
        raise CellError(f"is {len(text)} characters long; the most we keep is {max_length}")
    return text


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


_ISO_RE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})([T ].*)?$")
_PARTS_RE = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})$")


def parse_date(value: str, date_format: str) -> dt.date:
    """ISO is always accepted; 31/12/2026 needs "dmy" and 12/31/2026 needs "mdy"."""
    text = value.strip()
    match = _ISO_RE.match(text)
    if match:
        return _make_date(int(match[1]), int(match[2]), int(match[3]), value)
    match = _PARTS_RE.match(text)
    if not match:
        raise CellError("is not a date; use 2026-12-31, 31/12/2026 or 12/31/2026")
    first, second, year = int(match[1]), int(match[2]), int(match[3])
    if len(match[3]) == 2:
        year += 2000
    if date_format == "dmy":
        return _make_date(year, second, first, value)
    if date_format == "mdy":
        return _make_date(year, first, second, value)
    hint = "day first" if first > 12 else "month first" if second > 12 else "day or month first"
    raise CellError(
        f"is not an ISO date (2026-12-31); it looks {hint}: choose that date format for this import"
    )


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


def parse_choice(target_name: str, value: str) -> str:
    key = normalise_label(value).replace("employees", "").replace(" ", "")
    if target_name == "size":
        key = key.rstrip("+")
        found = SIZE_CHOICES.get(key) or SIZE_CHOICES.get(normalise_label(value).split(" ")[0])
        if not found:
            raise CellError("is not a company size (small, medium, large, enterprise or 51-200)")
        return found
    found = BUYING_ROLES.get(normalise_label(value)) or BUYING_ROLES.get(value.strip().lower())
    if not found:
        raise CellError(
            "is not a buying role (champion, decision maker, influencer, user, blocker)"
        )
    return found
