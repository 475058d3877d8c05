"""HubSpot: "Export view" of the deals, companies and contacts indexes.

Sources:
- Exported columns are the property labels: "Record ID", "Deal Name", "Deal Stage",
  "Amount", "Close Date", "Deal owner", "Pipeline", "Create Date", "Closed Lost Reason",
  "Closed Won Reason", "Currency" (deal_currency_code), "Is Closed Won" (hs_is_closed_won);
  associated records as "Associated Company" / "Associated Company IDs":
  https://knowledge.hubspot.com/crm-deals/hubspots-default-deal-properties and
  https://knowledge.hubspot.com/import-and-export/export-records
- Default sales pipeline stages (labels and internal ids): Appointment Scheduled
  (appointmentscheduled), Qualified To Buy (qualifiedtobuy), Presentation Scheduled
  (presentationscheduled), Decision Maker Bought-In (decisionmakerboughtin), Contract Sent
  (contractsent), Closed Won (closedwon), Closed Lost (closedlost):
  https://knowledge.hubspot.com/object-settings/set-up-and-customize-pipelines
- Companies: "Company name", "Company Domain Name", "Industry", "Number of Employees";
  contacts: "First Name", "Last Name", "Email", "Phone Number", "Job Title"
  (https://knowledge.hubspot.com/properties/hubspots-default-company-properties,
  https://knowledge.hubspot.com/properties/hubspots-default-contact-properties).
"""

from .base import DISCOVERY, LOST, NEGOTIATION, PROPOSAL, QUALIFICATION, WON, Profile

PROFILE = Profile(
    code="hubspot",
    name="HubSpot",
    aliases={
        "deals": {
            "external_id": ("Record ID", "Deal ID", "hs_object_id"),
            "title": ("Deal Name", "dealname"),
            "prospect": (
                "Associated Company",
                "Associated Company (Primary)",
                "Company name",
                "Associated Company Name",
            ),
            "amount": ("Amount", "amount"),
            "currency": ("Currency", "deal_currency_code"),
            "stage": ("Deal Stage", "dealstage"),
            "won_flag": ("Is Closed Won", "hs_is_closed_won"),
            "closed_flag": ("Is Deal Closed?", "hs_is_closed"),
            "owner": ("Deal owner", "Deal Owner", "hubspot_owner_id"),
            "expected_close_date": ("Close Date", "closedate"),
            "lost_reason": ("Closed Lost Reason", "closed_lost_reason"),
            "notes_for_delivery": ("Deal Description", "description"),
            "contact_name": ("Associated Contact",),
            "contact_email": ("Associated Contact Email",),
        },
        "prospects": {
            "external_id": ("Record ID", "Company ID"),
            "name": ("Company name", "Name"),
            "industry": ("Industry",),
            "size": ("Number of Employees", "numberofemployees"),
            "website": ("Company Domain Name", "Website URL", "domain"),
            "notes": ("Description", "About Us"),
        },
        "contacts": {
            "first_name": ("First Name", "firstname"),
            "last_name": ("Last Name", "lastname"),
            "prospect": ("Associated Company", "Company Name", "company"),
            "title": ("Job Title", "jobtitle"),
            "email": ("Email", "email"),
            "phone": ("Phone Number", "phone"),
        },
    },
    signature={
        "deals": ("Record ID", "Deal Name", "Deal Stage", "Deal owner", "Close Date", "Pipeline"),
        "prospects": ("Record ID", "Company name", "Company Domain Name", "Company owner"),
        "contacts": ("Record ID", "First Name", "Last Name", "Contact owner", "Lifecycle Stage"),
    },
    stages={
        "Appointment Scheduled": DISCOVERY,
        "appointmentscheduled": DISCOVERY,
        "Qualified To Buy": QUALIFICATION,
        "qualifiedtobuy": QUALIFICATION,
        "Presentation Scheduled": PROPOSAL,
        "presentationscheduled": PROPOSAL,
        "Decision Maker Bought-In": NEGOTIATION,
        "decisionmakerboughtin": NEGOTIATION,
        "Contract Sent": NEGOTIATION,
        "contractsent": NEGOTIATION,
        "Closed Won": WON,
        "closedwon": WON,
        "Closed Lost": LOST,
        "closedlost": LOST,
    },
    sources=(
        "https://knowledge.hubspot.com/crm-deals/hubspots-default-deal-properties",
        "https://knowledge.hubspot.com/object-settings/set-up-and-customize-pipelines",
    ),
)
