"""What an export profile says about one CRM's files, and how a file is matched to one.

A profile is data: the header spellings the CRM writes for each of our fields (per kind of
file), the stage names of its default pipeline, the words of its status column, columns in
minor units, its own currency ids, a date order hint, and the columns by which its deals
refer to organisations and people in other files. Each profile module cites where the
facts come from.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..parsing import normalise_label


@dataclass(frozen=True)
class Profile:
    code: str
    name: str
    # kind → our field → the CRM's header spellings (as written; normalised on lookup).
    aliases: dict[str, dict[str, tuple[str, ...]]]
    # kind → headers this CRM writes that generic files rarely have: detection evidence.
    # An entry may be a tuple of alternative spellings of one header.
    signature: dict[str, tuple[str | tuple[str, ...], ...]]
    # Stage names of the default pipeline(s) (labels and internal ids) → our stage.
    stages: dict[str, str] = field(default_factory=dict)
    # Words of a separate status column → won | lost | open | deleted.
    statuses: dict[str, str] = field(default_factory=dict)
    # Header → divisor, for amounts exported in minor units (cents, micros).
    minor_units: dict[str, int] = field(default_factory=dict)
    # The CRM's own currency ids → ISO code ("default": the team's default currency).
    currencies: dict[str, str] = field(default_factory=dict)
    # "dmy" / "mdy" when the CRM writes ambiguous dates in one order by default.
    date_format: str | None = None
    # Deals without a title column (Frappe CRM, Close) are named after their organisation.
    title_from_organization: bool = False
    # Deal columns that hold an organisation's / a person's id (joined from other files).
    refers_by_id: dict[str, tuple[str, ...]] = field(default_factory=dict)
    sources: tuple[str, ...] = ()

    def headers_for(self, kind: str) -> dict[str, tuple[str, ...]]:
        """our field → normalised header spellings, for one kind of file."""
        return {
            name: tuple(normalise_label(h) for h in spellings)
            for name, spellings in self.aliases.get(kind, {}).items()
        }

    def stage_table(self) -> dict[str, str]:
        return {normalise_label(k): v for k, v in self.stages.items()}

    def status_words(self) -> dict[str, str]:
        return {normalise_label(k): v for k, v in self.statuses.items()}

    def minor_unit_divisors(self) -> dict[str, int]:
        return {normalise_label(k): v for k, v in self.minor_units.items()}

    def currency_ids(self) -> dict[str, str]:
        return {k.strip().lower(): v for k, v in self.currencies.items()}

    def score(self, kind: str, headers: list[str]) -> tuple[int, float]:
        """(signature headers present, share of the signature present)."""
        entries = self.signature.get(kind, ())
        if not entries:
            return 0, 0.0
        present = {normalise_label(h) for h in headers}
        hits = sum(
            1
            for entry in entries
            if any(
                normalise_label(h) in present
                for h in ((entry,) if isinstance(entry, str) else entry)
            )
        )
        return hits, hits / len(entries)


# Our stage codes, for the profile tables.
DISCOVERY = "discovery"
QUALIFICATION = "qualification"
PROPOSAL = "proposal"
NEGOTIATION = "negotiation"
WON = "closed_won"
LOST = "closed_lost"
