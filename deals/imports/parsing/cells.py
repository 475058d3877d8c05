"""Cells → values: text, HTML, URLs, e-mail, money, dates, sizes, choices, booleans, currencies."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.utils import timezone

from deals.imports.parsing.base import ESCAPE_PREFIX, FORMULA_PREFIXES, PHONE_RE, CellError
from deals.imports.parsing.targets import normalise_label
from deals.pricing import MAX_DEAL_TOTAL as MAX_AMOUNT


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
