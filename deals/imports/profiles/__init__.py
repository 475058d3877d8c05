"""Export profiles of the CRMs teams move in from, and recognising which one wrote a file.

`detect(kind, headers)` names the profile whose signature headers the file carries
(most of them, and at least two); `None` means a generic file, read with the generic
aliases of parsing.TARGETS as before.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import (
    close,
    copper,
    espocrm,
    frappe,
    hubspot,
    odoo,
    pipedrive,
    salesforce,
    suitecrm,
    twenty,
    zoho,
)
from .base import Profile

PROFILES: dict[str, Profile] = {
    p.code: p
    for p in (
        pipedrive.PROFILE,
        hubspot.PROFILE,
        salesforce.REPORT,
        salesforce.DATA_LOADER,
        zoho.PROFILE,
        odoo.PROFILE,
        close.PROFILE,
        copper.PROFILE,
        twenty.PROFILE,
        frappe.PROFILE,
        suitecrm.PROFILE,
        espocrm.PROFILE,
    )
}
AUTO = "auto"
GENERIC = "generic"
# What `--source` and the API's `source` accept.
SOURCE_CHOICES = (AUTO, GENERIC, *PROFILES)
# A profile is recognised when at least this many of its signature headers are present
# and they are at least this share of its signature.
MIN_HITS = 3
MIN_SHARE = 0.5

KIND_WORDS = {"deals": "deals", "prospects": "organizations", "contacts": "people"}


@dataclass(frozen=True)
class Detection:
    profile: Profile | None
    hits: int = 0
    share: float = 0.0

    @property
    def code(self) -> str:
        return self.profile.code if self.profile else ""

    def sentence(self, kind: str) -> str:
        if self.profile is None:
            return "No CRM recognised from the headers: generic column names are used."
        article = "an" if self.profile.name[0] in "AEIOU" else "a"
        return f"Looks like {article} {self.profile.name} {KIND_WORDS.get(kind, kind)} export."


def detect(kind: str, headers: list[str]) -> Detection:
    best = Detection(None)
    for profile in PROFILES.values():
        hits, share = profile.score(kind, headers)
        if hits < MIN_HITS or share < MIN_SHARE:
            continue
        if (share, hits) > (best.share, best.hits):
            best = Detection(profile, hits, share)
    return best


def get(code: str | None) -> Profile | None:
    return PROFILES.get(code or "")


__all__ = ["AUTO", "GENERIC", "PROFILES", "SOURCE_CHOICES", "Detection", "Profile", "detect", "get"]
