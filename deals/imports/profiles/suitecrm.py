"""SuiteCRM 7 / 8: Opportunities list > Bulk Action > Export.

Sources:
- The export writes one column per vardef field of Opportunity with its database name
  when exported from SuiteCRM 7 (id, name, date_entered, …, amount, amount_usdollar,
  currency_id, date_closed, next_step, sales_stage, probability, lead_source,
  assigned_user_name, account_name) and the field labels in localized exports
  ("Opportunity Name", "Account Name", "Opportunity Amount", "Expected Close Date",
  "Sales Stage", "Assigned to"): modules/Opportunities/vardefs.php,
  https://github.com/salesagility/SuiteCRM
- sales_stage_dom (include/language/en_us.lang.php): Prospecting, Qualification, Needs
  Analysis, Value Proposition, Id. Decision Makers, Perception Analysis, Proposal/Price
  Quote, Negotiation/Review, Closed Won, Closed Lost.
- currency_id "-99" is the installation's default currency (modules/Currencies).
- Dates follow the user's preference (default m/d/Y).
"""

from .base import DISCOVERY, LOST, NEGOTIATION, PROPOSAL, QUALIFICATION, WON, Profile

PROFILE = Profile(
    code="suitecrm",
    name="SuiteCRM",
    aliases={
        "deals": {
            "external_id": ("id", "ID"),
            "title": ("name", "Opportunity Name"),
            "prospect": ("account_name", "Account Name"),
            "amount": ("amount", "Opportunity Amount", "Amount"),
            "currency": ("currency_id", "Currency", "currency_name"),
            "stage": ("sales_stage", "Sales Stage"),
            "owner": ("assigned_user_name", "Assigned to", "assigned_user_id"),
            "expected_close_date": ("date_closed", "Expected Close Date"),
            "notes_for_delivery": ("description", "Description"),
        },
        "prospects": {
            "external_id": ("id",),
            "name": ("name", "Name"),
            "industry": ("industry", "Industry"),
            "size": ("employees", "Employees"),
            "website": ("website", "Website"),
            "notes": ("description",),
        },
        "contacts": {
            "first_name": ("first_name", "First Name"),
            "last_name": ("last_name", "Last Name"),
            "prospect": ("account_name", "Account Name"),
            "title": ("title", "Title"),
            "email": ("email1", "email_address", "Email Address"),
            "phone": ("phone_work", "Office Phone"),
        },
    },
    signature={
        "deals": (
            "sales_stage",
            "date_closed",
            "amount_usdollar",
            "currency_id",
            "assigned_user_name",
            "account_name",
        ),
        "prospects": ("account_type", "billing_address_city", "assigned_user_name", "employees"),
        "contacts": ("email1", "phone_work", "account_name", "assigned_user_name"),
    },
    stages={
        "Prospecting": DISCOVERY,
        "Qualification": QUALIFICATION,
        "Needs Analysis": QUALIFICATION,
        "Value Proposition": QUALIFICATION,
        "Id. Decision Makers": QUALIFICATION,
        "Perception Analysis": PROPOSAL,
        "Proposal/Price Quote": PROPOSAL,
        "Negotiation/Review": NEGOTIATION,
        "Closed Won": WON,
        "Closed Lost": LOST,
    },
    currencies={"-99": "default"},
    date_format="mdy",
    sources=("https://github.com/salesagility/SuiteCRM",),
)
