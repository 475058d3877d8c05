"""Pipedrive: "Export data" from the deals, organizations and people list views.

Sources:
- Export headers are the field names prefixed with the item type ("Deal - Title",
  "Organization - Name", "Person - Email"), the same names Pipedrive's importer offers:
  https://support.pipedrive.com/en/article/importing-data-into-pipedrive-with-spreadsheets
  and https://support.pipedrive.com/en/article/how-can-i-export-my-data ; the deal fields
  (title, value, currency, stage, status open/won/lost/deleted, won_time, lost_time,
  lost_reason, expected_close_date, org_id, person_id, user_id) are those of the Deals API:
  https://developers.pipedrive.com/docs/api/v1/Deals
- A deal is won or lost by its status, not by a stage: the pipeline's stages are all open
  stages ("Deals: what they are", https://support.pipedrive.com/en/article/deals-what-they-are-and-how-to-add-them).
- Default pipeline stages of a new company account: Qualified, Contact Made, Demo
  Scheduled, Proposal Made, Negotiations Started (older accounts: Lead In, Contact Made,
  Needs Defined, Proposal Made, Negotiations Started).
"""

from .base import DISCOVERY, NEGOTIATION, PROPOSAL, QUALIFICATION, Profile

PROFILE = Profile(
    code="pipedrive",
    name="Pipedrive",
    aliases={
        "deals": {
            "external_id": ("Deal - ID", "ID"),
            "title": ("Deal - Title", "Title"),
            "prospect": ("Deal - Organization", "Organization", "Organization - Name"),
            "amount": ("Deal - Value", "Value"),
            "currency": ("Deal - Currency", "Currency", "Currency of Value"),
            "stage": ("Deal - Stage", "Stage"),
            "status": ("Deal - Status", "Status"),
            "owner": ("Deal - Owner", "Owner", "Deal - Creator"),
            "expected_close_date": ("Deal - Expected close date", "Expected close date"),
            "won_date": ("Deal - Won time", "Won time"),
            "lost_date": ("Deal - Lost time", "Lost time"),
            "closed_date": ("Deal - Deal closed on", "Deal closed on", "Close time"),
            "lost_reason": ("Deal - Lost reason", "Lost reason"),
            "contact_name": ("Deal - Contact person", "Contact person", "Person - Name"),
            "contact_email": ("Person - Email", "Person - Email - Work"),
            "contact_phone": ("Person - Phone", "Person - Phone - Work"),
            "notes_for_delivery": ("Deal - Note", "Note"),
        },
        "prospects": {
            "external_id": ("Organization - ID",),
            "name": ("Organization - Name",),
            "industry": ("Organization - Industry",),
            "size": ("Organization - Number of employees", "Organization - Employee count"),
            "website": ("Organization - Website",),
            "notes": ("Organization - Note",),
        },
        "contacts": {
            "name": ("Person - Name",),
            "first_name": ("Person - First name",),
            "last_name": ("Person - Last name",),
            "prospect": ("Person - Organization", "Organization - Name"),
            "title": ("Person - Job title",),
            "email": ("Person - Email - Work", "Person - Email"),
            "phone": ("Person - Phone - Work", "Person - Phone"),
            "notes": ("Person - Note",),
        },
    },
    signature={
        "deals": (
            "Deal - Title",
            "Deal - Value",
            "Deal - Stage",
            "Deal - Status",
            "Deal - Organization",
            "Deal - Owner",
        ),
        "prospects": ("Organization - Name", "Organization - ID", "Organization - Owner"),
        "contacts": ("Person - Name", "Person - Organization", "Person - Email - Work"),
    },
    stages={
        "Lead In": DISCOVERY,
        "Qualified": QUALIFICATION,
        "Contact Made": DISCOVERY,
        "Needs Defined": QUALIFICATION,
        "Demo Scheduled": QUALIFICATION,
        "Proposal Made": PROPOSAL,
        "Negotiations Started": NEGOTIATION,
    },
    statuses={"open": "open", "won": "won", "lost": "lost", "deleted": "deleted"},
    sources=(
        "https://support.pipedrive.com/en/article/how-can-i-export-my-data",
        "https://developers.pipedrive.com/docs/api/v1/Deals",
    ),
)
