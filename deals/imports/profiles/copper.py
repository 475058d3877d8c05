"""Copper: Opportunities list > Export.

Sources:
- Opportunity default fields: Name, Company, Primary Contact, Value, Pipeline, Stage,
  Status (Open, Won, Lost, Abandoned), Close Date, Owner, Loss Reason, Priority, Source,
  Win Probability, Description: "Default fields for all records",
  https://support.copper.com/en/articles/8823254-default-fields-for-all-records
- API: status Open | Won | Lost | Abandoned, monetary_value, close_date (MM/DD/YYYY in
  the US locale), loss_reason_id, primary_contact_id, company_id:
  https://developer.copper.com/opportunities/overview.html
- Default "Sales" pipeline stages: Qualified, Follow-up, Presentation, Contract Sent,
  Negotiation.
"""

from .base import NEGOTIATION, PROPOSAL, QUALIFICATION, Profile

PROFILE = Profile(
    code="copper",
    name="Copper",
    aliases={
        "deals": {
            "external_id": ("Opportunity ID", "ID"),
            "title": ("Name", "Opportunity Name"),
            "prospect": ("Company", "Company Name"),
            "amount": ("Value", "Monetary Value"),
            "currency": ("Currency",),
            "stage": ("Stage", "Pipeline Stage"),
            "status": ("Status",),
            "owner": ("Owner", "Assignee"),
            "expected_close_date": ("Close Date", "Expected Close Date"),
            "lost_reason": ("Loss Reason",),
            "contact_name": ("Primary Contact",),
            "notes_for_delivery": ("Description", "Details"),
        },
        "prospects": {
            "name": ("Company Name", "Name"),
            "industry": ("Industry",),
            "website": ("Website", "Email Domain"),
            "notes": ("Description",),
        },
        "contacts": {
            "name": ("Person Name", "Name"),
            "first_name": ("First Name",),
            "last_name": ("Last Name",),
            "prospect": ("Company", "Company Name"),
            "title": ("Title",),
            "email": ("Work Email", "Email"),
            "phone": ("Work Phone", "Phone"),
        },
    },
    signature={
        "deals": (
            "Name",
            "Company",
            "Primary Contact",
            "Pipeline",
            "Loss Reason",
            "Win Probability",
        ),
        "prospects": ("Company Name", "Email Domain", "Contact Type"),
        "contacts": ("Person Name", "Work Email", "Contact Type"),
    },
    stages={
        "Qualified": QUALIFICATION,
        "Follow-up": QUALIFICATION,
        "Presentation": PROPOSAL,
        "Contract Sent": NEGOTIATION,
        "Negotiation": NEGOTIATION,
    },
    statuses={"open": "open", "won": "won", "lost": "lost", "abandoned": "lost"},
    date_format="mdy",
    sources=("https://support.copper.com/en/articles/8823254-default-fields-for-all-records",),
)
