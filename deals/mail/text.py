"""The text of a mail body: HTML made plain, quoted replies and signatures stripped,
and inline-forwarded messages taken apart (their original sender, date and body), plus
the date parsing both the headers and forward blocks use. parsing.py reads the MIME
structure and calls these."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from email.utils import getaddresses, parsedate_to_datetime
from html.parser import HTMLParser

from django.utils import timezone

from .types import Person


def _parse_date(value: str) -> dt.datetime | None:
    if not value:
        return None
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment is None:
        return None
    if timezone.is_naive(moment):  # "-0000" or no zone: RFC 5322 says UTC is as good as any
        moment = moment.replace(tzinfo=dt.UTC)
    return moment


# --- bodies -------------------------------------------------------------------------------


class _TextFromHTML(HTMLParser):
    """Visible text of an HTML body; scripts, styles and the head are dropped, block
    elements become line breaks. Only text comes out, so nothing here is ever rendered."""

    BLOCK = frozenset(
        [
            "p",
            "div",
            "br",
            "li",
            "tr",
            "h1",
            "h2",
            "h3",
            "h4",
            "h5",
            "h6",
            "blockquote",
            "pre",
            "table",
            "ul",
            "ol",
            "hr",
            "section",
            "article",
        ]
    )
    SKIP = frozenset(("script", "style", "head", "title", "template"))

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0
        self.quote_depth = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in self.SKIP:
            self.skipping += 1
        elif tag == "blockquote" or (
            tag == "div" and any(k == "class" and v and "gmail_quote" in v for k, v in attrs)
        ):
            # Quoted earlier mail (Gmail, Apple Mail, Outlook on the web).
            self.quote_depth += 1
            self.parts.append("\n")
        elif tag in self.BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP and self.skipping:
            self.skipping -= 1
        elif tag == "blockquote" and self.quote_depth:
            self.quote_depth -= 1
            self.parts.append("\n")
        elif tag in self.BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self.skipping:
            return
        if self.quote_depth:
            # Kept as quoted lines so the reply stripper removes them like plain-text quotes.
            self.parts.append("\n".join("> " + line for line in data.splitlines()))
        else:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    parser = _TextFromHTML()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # html.parser is lenient; anything left is not worth a 500
        pass
    text = "".join(parser.parts).replace("\xa0", " ")
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


# --- quoted replies, signatures, forwards ------------------------------------------------

_REPLY_HEADER = re.compile(
    r"^(\s*(On|Am|Le|El)\s.{0,200}?(wrote|schrieb|a écrit|escribió)\s*:\s*$)",
    re.IGNORECASE | re.MULTILINE | re.DOTALL,
)
_ORIGINAL_MESSAGE = re.compile(
    r"^\s*(-{2,}\s*(Original Message|Ursprüngliche Nachricht|Message d'origine)\s*-{2,}"
    r"|_{20,}\s*$)",
    re.IGNORECASE | re.MULTILINE,
)
# Outlook's reply header block without a separator: "From: … / Sent: … / To: …".
_OUTLOOK_BLOCK = re.compile(r"^\s*From:\s.+\n\s*(Sent|Date):\s.+", re.IGNORECASE | re.MULTILINE)
_SIGNATURE = re.compile(
    r"^(-- ?$|—\s*$|Sent from my (iPhone|iPad|Android|Galaxy|mobile)|Get Outlook for |"
    r"Sent from Outlook|Sent from Mail for Windows|Von meinem iPhone gesendet)",
    re.IGNORECASE | re.MULTILINE,
)
_FORWARD_MARKER = re.compile(
    r"^[>\s]*(-{5,}\s*Forwarded message\s*-{5,}|Begin forwarded message:|"
    r"-{3,}\s*Original Message\s*-{3,}|-{5,}\s*Weitergeleitete Nachricht\s*-{5,}|"
    r"_{20,})\s*$",
    re.IGNORECASE | re.MULTILINE,
)
# Only these say "forwarded" whatever the subject; "Original Message" also opens replies.
_STRICT_FORWARD = re.compile(
    r"^[>\s]*(-{5,}\s*Forwarded message\s*-{5,}|Begin forwarded message:)\s*$",
    re.IGNORECASE | re.MULTILINE,
)
_FWD_SUBJECT = re.compile(r"^\s*(fwd?|fw|wg|tr)\s*:", re.IGNORECASE)
_FWD_FIELD = re.compile(
    r"^\s*[*>]*\s*(From|Von|De|Date|Sent|Datum|Gesendet|Subject|Betreff|To|An|Cc)\s*:\s*\**\s*(.*)$",
    re.IGNORECASE,
)


def strip_quotes_and_signature(text: str) -> str:
    """The new part of a reply: quoted earlier mail and the signature are cut."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    cut = len(text)
    for pattern in (_REPLY_HEADER, _ORIGINAL_MESSAGE, _OUTLOOK_BLOCK, _SIGNATURE):
        m = pattern.search(text)
        if m and m.start() < cut:
            cut = m.start()
    text = text[:cut]
    lines = [line for line in text.split("\n") if not line.lstrip().startswith(">")]
    text = "\n".join(line.rstrip() for line in lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


@dataclass
class _Forward:
    sender: Person | None
    sent_at: dt.datetime | None
    subject: str
    to: list[Person]
    body: str


def _parse_forward_block(text: str) -> _Forward | None:
    """An inline-forwarded message (Gmail, Apple Mail, Outlook): its header lines and body."""
    m = _FORWARD_MARKER.search(text)
    if not m:
        return None
    rest = text[m.end() :].lstrip("\n").split("\n")
    if text[: m.start()].rstrip(" ").endswith(">") or text[m.start() : m.end()].lstrip().startswith(
        ">"
    ):
        # Apple Mail quotes the forwarded message in its plain-text part.
        rest = [re.sub(r"^>\s?", "", line) for line in rest]
    fields: dict[str, str] = {}
    i = 0
    while i < len(rest) and (rest[i].strip() == "" and not fields):
        i += 1
    last = ""
    while i < len(rest):
        line = rest[i]
        fm = _FWD_FIELD.match(line)
        if fm:
            key = fm.group(1).lower()
            key = {
                "von": "from",
                "de": "from",
                "sent": "date",
                "datum": "date",
                "gesendet": "date",
                "betreff": "subject",
                "an": "to",
            }.get(key, key)
            fields.setdefault(key, fm.group(2).strip())
            last = key
        elif line.strip() == "":
            if fields:
                i += 1
                break
        elif last and line.startswith((" ", "\t")):
            fields[last] += " " + line.strip()
        else:
            break
        i += 1
    if "from" not in fields:
        return None
    pairs = getaddresses([fields["from"].replace("[mailto:", "<").replace("]", ">")])
    sender = None
    for display, spec in pairs:
        if "@" in spec:
            sender = Person(display.strip('"* '), spec.lower())
            break
    to = [
        Person(d, s.lower())
        for d, s in getaddresses([fields.get("to", "").replace("[mailto:", "<").replace("]", ">")])
        if "@" in s
    ]
    return _Forward(
        sender=sender,
        sent_at=_parse_loose_date(fields.get("date", "")),
        subject=fields.get("subject", ""),
        to=to,
        body="\n".join(rest[i:]),
    )


def _parse_loose_date(value: str) -> dt.datetime | None:
    """Forward headers carry dates as the client prints them, not RFC 5322."""
    if not value:
        return None
    moment = _parse_date(value)
    if moment is not None:
        return moment
    cleaned = re.sub(r"\s+at\s+", " ", value.replace(",", " "))
    cleaned = " ".join(cleaned.split())
    formats = (
        "%a %b %d %Y %I:%M %p",  # Gmail: Tue, Nov 3, 2026 at 10:02 AM
        "%A %B %d %Y %I:%M %p",  # Outlook: Tuesday, November 3, 2026 10:02 AM
        "%d %B %Y %H:%M:%S %Z",  # Apple Mail: 3 November 2026 at 10:02:00 GMT
        "%d %B %Y %H:%M:%S",
        "%B %d %Y %I:%M:%S %p %Z",
        "%B %d %Y %H:%M:%S %Z",
        "%d %B %Y %H:%M",
        "%Y-%m-%d %H:%M",
    )
    for fmt in formats:
        try:
            parsed = dt.datetime.strptime(cleaned, fmt)
        except ValueError:
            continue
        return parsed.replace(tzinfo=dt.UTC)
    # Apple Mail: "3 November 2026 at 10:02:00 GMT+1"
    m = re.match(r"(.*?)\s+GMT([+-]\d{1,2})(?::?(\d{2}))?$", cleaned)
    if m:
        for fmt in ("%d %B %Y %H:%M:%S", "%B %d %Y %I:%M:%S %p"):
            try:
                parsed = dt.datetime.strptime(m.group(1), fmt)
            except ValueError:
                continue
            hours = int(m.group(2))
            minutes = int(m.group(3) or 0) * (1 if hours >= 0 else -1)
            return parsed.replace(tzinfo=dt.timezone(dt.timedelta(hours=hours, minutes=minutes)))
    return None
