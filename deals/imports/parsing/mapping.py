"""Headers → our fields, and the other CRM's stages → ours."""

from __future__ import annotations

from deals.imports.parsing.base import CellError, ImportFileError
from deals.imports.parsing.targets import TARGETS, normalise_label, targets_for


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
