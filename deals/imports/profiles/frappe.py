"""Frappe CRM (frappe/crm): the list view's Export, or Desk's Data Export of "CRM Deal".

Sources:
- CRM Deal doctype (crm/fcrm/doctype/crm_deal/crm_deal.json): naming "CRM-DEAL-.YYYY.-",
  organization, status (link to CRM Deal Status), deal_owner, deal_value (older
  versions: annual_revenue), currency, expected_closure_date (older: close_date),
  probability, lost_reason, lost_notes, email, mobile_no, first_name, last_name:
  https://github.com/frappe/crm
- A deal has no title field: it is shown by its organisation; imported deals are named
  after it.
- Default deal statuses (CRM Deal Status fixtures): Qualification, Demo/Making,
  Proposal/Quotation, Negotiation, Ready to Close, Won, Lost.
- Desk exports use the field labels ("ID", "Organization", "Status", "Deal Owner",
  "Deal Value", "Expected Closure Date", "Lost Reason"); the list view export uses the
  same labels.
"""

from .base import LOST, NEGOTIATION, PROPOSAL, QUALIFICATION, WON, Profile

PROFILE = Profile(
    code="frappe",
    name="Frappe CRM",
    aliases={
        "deals": {
            "external_id": ("ID", "name"),
            "prospect": ("Organization", "organization", "Organization Name"),
            "amount": ("Deal Value", "deal_value", "Annual Revenue", "annual_revenue"),
            "currency": ("Currency", "currency"),
            "stage": ("Status", "status"),
            "owner": ("Deal Owner", "deal_owner"),
            "expected_close_date": (
                "Expected Closure Date",
                "expected_closure_date",
                "Close Date",
                "close_date",
            ),
            "lost_reason": ("Lost Reason", "lost_reason"),
            "contact_email": ("Email", "email"),
            "contact_phone": ("Mobile No", "mobile_no"),
            "contact_name": ("Contact", "First Name"),
        },
        "prospects": {
            "external_id": ("ID", "name"),
            "name": ("Organization Name", "organization_name"),
            "industry": ("Industry", "industry"),
            "size": ("No. of Employees", "no_of_employees"),
            "website": ("Website", "website"),
        },
        "contacts": {
            "first_name": ("First Name", "first_name"),
            "last_name": ("Last Name", "last_name"),
            "prospect": ("Company Name", "company_name"),
            "title": ("Designation", "designation"),
            "email": ("Email Address", "email_id", "Email"),
            "phone": ("Mobile No", "mobile_no", "Phone"),
        },
    },
    signature={
        "deals": (
            ("Deal Owner", "deal_owner"),
            ("Expected Closure Date", "expected_closure_date"),
            ("Deal Value", "deal_value", "Annual Revenue", "annual_revenue"),
            ("Organization", "organization"),
            ("ID", "name"),
        ),
        "prospects": (
            ("Organization Name", "organization_name"),
            ("No. of Employees", "no_of_employees"),
            ("Annual Revenue", "annual_revenue"),
            ("Territory", "territory"),
        ),
        "contacts": (
            ("Email Address", "email_id"),
            ("Designation", "designation"),
            ("Company Name", "company_name"),
            ("Mobile No", "mobile_no"),
        ),
    },
    stages={
        "Qualification": QUALIFICATION,
        "Demo/Making": QUALIFICATION,
        "Proposal/Quotation": PROPOSAL,
        "Negotiation": NEGOTIATION,
        "Ready to Close": NEGOTIATION,
        "Won": WON,
        "Lost": LOST,
    },
    title_from_organization=True,
    sources=("https://github.com/frappe/crm",),
)
