"""EspoCRM: Opportunities list > Export (CSV), which writes attribute names.

Sources:
- Opportunity entity (application/Espo/Modules/Crm/Resources/metadata/entityDefs/
  Opportunity.json): name, amount, amountCurrency, stage (Prospecting, Qualification,
  Proposal, Negotiation, Closed Won, Closed Lost), lastStage, probability, closeDate,
  accountId / accountName, contactId / contactName, assignedUserId / assignedUserName,
  description: https://github.com/espocrm/espocrm
- Export: https://docs.espocrm.com/user-guide/export/ (CSV or XLSX, attribute names as
  headers; link fields as <link>Id and <link>Name).
"""

from .base import DISCOVERY, LOST, NEGOTIATION, PROPOSAL, QUALIFICATION, WON, Profile

PROFILE = Profile(
    code="espocrm",
    name="EspoCRM",
    aliases={
        "deals": {
            "external_id": ("id",),
            "title": ("name",),
            "prospect": ("accountName",),
            "amount": ("amount",),
            "currency": ("amountCurrency",),
            "stage": ("stage",),
            "owner": ("assignedUserName", "assignedUserId"),
            "expected_close_date": ("closeDate",),
            "contact_name": ("contactName",),
            "notes_for_delivery": ("description",),
        },
        "prospects": {
            "external_id": ("id",),
            "name": ("name",),
            "industry": ("industry",),
            "website": ("website",),
            "notes": ("description",),
        },
        "contacts": {
            "first_name": ("firstName",),
            "last_name": ("lastName",),
            "prospect": ("accountName",),
            "title": ("title",),
            "email": ("emailAddress",),
            "phone": ("phoneNumber",),
        },
    },
    signature={
        "deals": (
            "amountCurrency",
            "closeDate",
            "assignedUserName",
            "accountName",
            "lastStage",
            "accountId",
        ),
        "prospects": ("billingAddressCity", "assignedUserName", "emailAddress", "sicCode"),
        "contacts": ("firstName", "lastName", "accountName", "emailAddress", "phoneNumber"),
    },
    stages={
        "Prospecting": DISCOVERY,
        "Qualification": QUALIFICATION,
        "Proposal": PROPOSAL,
        "Negotiation": NEGOTIATION,
        "Closed Won": WON,
        "Closed Lost": LOST,
    },
    refers_by_id={"prospect": ("accountId",), "contact": ("contactId",)},
    sources=("https://github.com/espocrm/espocrm", "https://docs.espocrm.com/user-guide/export/"),
)
