"""Odoo CRM: list view > select > Action > Export of crm.lead (and res.partner).

Sources:
- crm.lead fields (label / technical name): Opportunity (name), Customer (partner_id),
  Expected Revenue (expected_revenue), Stage (stage_id), Salesperson (user_id), Expected
  Closing (date_deadline), Closed Date (date_closed), Lost Reason (lost_reason_id), Active
  (active), Currency (company_currency), Probability, Contact Name, Email (email_from),
  Phone, Notes (description, HTML): odoo/addons/crm/models/crm_lead.py,
  https://github.com/odoo/odoo/blob/17.0/addons/crm/models/crm_lead.py
- Default stages (crm_stage_data.xml): New, Qualified, Proposition, Won (is_won); there is
  no lost stage: "Mark Lost" archives the lead (active = False) with a lost reason:
  https://www.odoo.com/documentation/17.0/applications/sales/crm/pipeline/lost_opportunities.html
- "I want to update data (import-compatible export)" writes technical names, external ids
  ("__export__.crm_lead_12_ab34") and many2one values as display names; res.currency's
  external id is "base.EUR" (https://www.odoo.com/documentation/17.0/applications/essentials/export_import_data.html).
- Contacts (res.partner): Name, Company Name / Related Company, Email, Phone, Job Position.
"""

from .base import DISCOVERY, PROPOSAL, QUALIFICATION, WON, Profile

PROFILE = Profile(
    code="odoo",
    name="Odoo",
    aliases={
        "deals": {
            "external_id": ("ID", "External ID", "id"),
            "title": ("Opportunity", "name"),
            "prospect": ("Customer", "partner_id", "Company Name", "partner_name"),
            "amount": ("Expected Revenue", "expected_revenue"),
            "currency": ("Currency", "company_currency"),
            "stage": ("Stage", "stage_id"),
            "active_flag": ("Active", "active"),
            "owner": ("Salesperson", "user_id"),
            "expected_close_date": ("Expected Closing", "date_deadline"),
            "closed_date": ("Closed Date", "date_closed"),
            "lost_reason": ("Lost Reason", "lost_reason_id"),
            "contact_name": ("Contact Name", "contact_name"),
            "contact_email": ("Email", "email_from"),
            "contact_phone": ("Phone", "phone"),
            "notes_for_delivery": ("Notes", "Internal Notes", "description"),
        },
        "prospects": {
            "external_id": ("ID", "id"),
            "name": ("Name", "Display Name", "name"),
            "industry": ("Industry", "industry_id"),
            "size": ("Employees", "employee"),
            "website": ("Website Link", "Website", "website"),
            "notes": ("Notes", "comment"),
        },
        "contacts": {
            "name": ("Name", "name"),
            "prospect": ("Company Name", "Related Company", "parent_id"),
            "title": ("Job Position", "function"),
            "email": ("Email", "email"),
            "phone": ("Phone", "phone", "Mobile"),
        },
    },
    signature={
        "deals": ("Opportunity", "Customer", "Expected Revenue", "Salesperson", "Expected Closing"),
        "prospects": ("Name", "Is a Company", "Related Company", "Tax ID"),
        "contacts": ("Name", "Related Company", "Job Position", "Is a Company"),
    },
    stages={
        "New": DISCOVERY,
        "Qualified": QUALIFICATION,
        "Proposition": PROPOSAL,
        "Won": WON,
    },
    currencies={"base.eur": "EUR", "base.usd": "USD"},
    sources=(
        "https://github.com/odoo/odoo/blob/17.0/addons/crm/models/crm_lead.py",
        "https://www.odoo.com/documentation/17.0/applications/sales/crm/pipeline/lost_opportunities.html",
    ),
)
