"""Zoho CRM: Setup > Data Administration > Export (Deals, Accounts, Contacts) or a list
view's "Export".

Sources:
- Deal fields (label / API name): Record Id (id, exported as "zcrm_…"), Deal Name
  (Deal_Name), Account Name (Account_Name), Amount, Closing Date (Closing_Date), Stage,
  Deal Owner (Owner), Contact Name (Contact_Name), Currency, Exchange Rate, Probability
  (%), Reason For Loss (Reason_For_Loss__s), Description:
  https://www.zoho.com/crm/developer/docs/api/v6/field-meta.html and
  https://help.zoho.com/portal/en/kb/crm/data-administration/export-data
- Default Stage picklist: Qualification, Needs Analysis, Value Proposition, Identify
  Decision Makers (Id. Decision Makers), Perception Analysis, Proposal/Price Quote,
  Negotiation/Review, Closed Won, Closed Lost, Closed-Lost to Competition
  (https://help.zoho.com/portal/en/kb/crm/customize-crm-account/customizing-fields/articles/stage-probability-mapping).
- Accounts: Account Name, Industry, Employees, Website; Contacts: First Name, Last Name,
  Account Name, Email, Phone, Title.
"""

from .base import LOST, NEGOTIATION, PROPOSAL, QUALIFICATION, WON, Profile

PROFILE = Profile(
    code="zoho",
    name="Zoho CRM",
    aliases={
        "deals": {
            "external_id": ("Record Id", "Deal Id", "id"),
            "title": ("Deal Name", "Deal_Name"),
            "prospect": ("Account Name", "Account_Name"),
            "amount": ("Amount",),
            "currency": ("Currency",),
            "stage": ("Stage",),
            "owner": ("Deal Owner", "Owner"),
            "expected_close_date": ("Closing Date", "Closing_Date"),
            "lost_reason": ("Reason For Loss", "Reason_For_Loss__s", "Lost Reason"),
            "contact_name": ("Contact Name", "Contact_Name"),
            "notes_for_delivery": ("Description",),
        },
        "prospects": {
            "external_id": ("Record Id",),
            "name": ("Account Name",),
            "industry": ("Industry",),
            "size": ("Employees",),
            "website": ("Website",),
            "notes": ("Description",),
        },
        "contacts": {
            "first_name": ("First Name",),
            "last_name": ("Last Name",),
            "prospect": ("Account Name",),
            "title": ("Title",),
            "email": ("Email",),
            "phone": ("Phone", "Mobile"),
        },
    },
    signature={
        "deals": (
            "Record Id",
            "Deal Name",
            "Closing Date",
            "Deal Owner",
            "Account Name",
            "Exchange Rate",
        ),
        "prospects": ("Record Id", "Account Name", "Account Owner", "Account Number"),
        "contacts": ("Record Id", "Contact Owner", "First Name", "Last Name", "Account Name"),
    },
    stages={
        "Qualification": QUALIFICATION,
        "Needs Analysis": QUALIFICATION,
        "Value Proposition": QUALIFICATION,
        "Identify Decision Makers": QUALIFICATION,
        "Id. Decision Makers": QUALIFICATION,
        "Perception Analysis": PROPOSAL,
        "Proposal/Price Quote": PROPOSAL,
        "Negotiation/Review": NEGOTIATION,
        "Closed Won": WON,
        "Closed Lost": LOST,
        "Closed-Lost to Competition": LOST,
        "Closed Lost to Competition": LOST,
    },
    sources=("https://help.zoho.com/portal/en/kb/crm/data-administration/export-data",),
)
