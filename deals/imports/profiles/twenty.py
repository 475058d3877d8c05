"""Twenty: a view's "Export" (CSV of the visible fields) or an API dump of opportunities.

Sources:
- Opportunity standard object: name, amount (currency composite: amountMicros,
  currencyCode), closeDate, stage (NEW, SCREENING, MEETING, PROPOSAL, CUSTOMER), company
  (companyId), pointOfContact (pointOfContactId), owner: twentyhq/twenty,
  packages/twenty-server/src/modules/opportunity/standard-objects/opportunity.workspace-entity.ts
  (https://github.com/twentyhq/twenty) and https://twenty.com/developers
- The CSV export writes a composite field as one column per sub-field, labelled
  "Amount / Amount Micros" and "Amount / Currency Code" (older versions:
  "Amount Amount Micros"); the amount is in micros (1,000,000 per unit).
- Companies: name, domainName, employees; people: name (firstName, lastName), emails
  (primaryEmail), phones, jobTitle, companyId.
"""

from .base import DISCOVERY, PROPOSAL, QUALIFICATION, WON, Profile

_MICROS = (
    "Amount / Amount Micros",
    "Amount Amount Micros",
    "amountMicros",
    "amount.amountMicros",
    "amount_amountMicros",
)
_CURRENCY = (
    "Amount / Currency Code",
    "Amount Currency Code",
    "currencyCode",
    "amount.currencyCode",
    "amount_currencyCode",
)

PROFILE = Profile(
    code="twenty",
    name="Twenty",
    aliases={
        "deals": {
            "external_id": ("Id", "id"),
            "title": ("Name", "name"),
            "prospect": ("Company", "Company / Name", "company.name"),
            "amount": _MICROS,
            "currency": _CURRENCY,
            "stage": ("Stage", "stage"),
            "owner": ("Owner", "Account Owner", "owner.name"),
            "expected_close_date": ("Close date", "Close Date", "closeDate"),
            "contact_name": ("Point of Contact", "pointOfContact.name"),
        },
        "prospects": {
            "external_id": ("Id", "id"),
            "name": ("Name", "name"),
            "size": ("Employees", "employees"),
            "website": (
                "Domain Name",
                "Domain Name / Primary Link Url",
                "domainName",
                "domainName.primaryLinkUrl",
            ),
        },
        "contacts": {
            "first_name": ("Name / First Name", "First Name", "name.firstName"),
            "last_name": ("Name / Last Name", "Last Name", "name.lastName"),
            "prospect": ("Company", "company.name"),
            "title": ("Job Title", "jobTitle"),
            "email": ("Emails / Primary Email", "Emails", "emails.primaryEmail"),
            "phone": ("Phones / Primary Phone Number", "phones.primaryPhoneNumber"),
        },
    },
    signature={
        "deals": (
            _MICROS,
            _CURRENCY,
            ("Point of Contact", "pointOfContactId"),
            ("Close date", "closeDate"),
            ("companyId", "Company"),
        ),
        "prospects": (
            ("Domain Name", "domainName", "Domain Name / Primary Link Url"),
            "ICP",
            ("Linkedin", "Linkedin / Primary Link Url", "linkedinLink"),
            ("Annual Recurring Revenue / Amount Micros", "annualRecurringRevenue"),
        ),
        "contacts": (
            ("Emails / Primary Email", "emails.primaryEmail"),
            ("Name / First Name", "name.firstName"),
            ("Phones / Primary Phone Number", "phones.primaryPhoneNumber"),
            ("companyId", "Company"),
        ),
    },
    stages={
        "NEW": DISCOVERY,
        "New": DISCOVERY,
        "SCREENING": QUALIFICATION,
        "Screening": QUALIFICATION,
        "MEETING": QUALIFICATION,
        "Meeting": QUALIFICATION,
        "PROPOSAL": PROPOSAL,
        "Proposal": PROPOSAL,
        "CUSTOMER": WON,
        "Customer": WON,
    },
    minor_units=dict.fromkeys(_MICROS, 1000000),
    refers_by_id={"prospect": ("companyId", "Company Id"), "contact": ("pointOfContactId",)},
    sources=("https://github.com/twentyhq/twenty",),
)
