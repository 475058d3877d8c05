"""Our fields per kind of import, and the headers other CRMs use for them."""

from __future__ import annotations

import re
from dataclasses import dataclass


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
