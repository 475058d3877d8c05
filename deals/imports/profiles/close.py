"""Close: Opportunities > Export (CSV) or POST /api/v1/export/opportunity/.

Sources:
- Opportunity export columns: id, lead_id, lead_name, status_id, status_label,
  status_type (active | won | lost), value, value_currency, value_formatted,
  value_period, confidence, date_won, user_id, user_name, contact_id, contact_name, note,
  date_created, date_updated; `value` is in cents ("value is in cents", Close API
  Opportunities, https://developer.close.com/api/resources/opportunities ; statuses,
  https://developer.close.com/api/resources/opportunity-statuses ; exports,
  https://developer.close.com/api/resources/exports/create-opportunity ; the same headers
  in Close's own sample exporter, https://gist.github.com/anemitz/6119641).
- Default opportunity statuses: Active (active), Won (won), Lost (lost).
- Date-times: "original" format 2026-03-05 14:30:00.123456+00:00, or ISO 8601.
- The lead is the company; leads export: id, display_name / name, url, description.
- An opportunity has no name field; Close shows it under its lead.
"""

from .base import DISCOVERY, LOST, WON, Profile

PROFILE = Profile(
    code="close",
    name="Close",
    aliases={
        "deals": {
            "external_id": ("id", "opportunity_id"),
            "title": ("opportunity_name",),
            "prospect": ("lead_name", "Lead Name"),
            "amount": ("value", "Value"),
            "currency": ("value_currency", "Value Currency"),
            "stage": ("status_label", "Status Label"),
            "status": ("status_type", "Status Type"),
            "owner": ("user_name", "User Name", "user_email"),
            "expected_close_date": ("expected_close_date",),
            "won_date": ("date_won", "Date Won"),
            "lost_date": ("date_lost", "Date Lost"),
            "contact_name": ("contact_name", "Contact Name"),
            "notes_for_delivery": ("note", "Note"),
        },
        "prospects": {
            "external_id": ("id",),
            "name": ("display_name", "name", "lead_name"),
            "website": ("url",),
            "notes": ("description",),
        },
        "contacts": {
            "name": ("name", "contact_name"),
            "prospect": ("lead_name", "lead_display_name"),
            "title": ("title",),
            "email": ("email", "primary_email"),
            "phone": ("phone", "primary_phone"),
        },
    },
    signature={
        "deals": (
            "lead_name",
            "status_type",
            "status_label",
            "value_currency",
            "user_name",
            "lead_id",
        ),
        "prospects": ("display_name", "status_label", "url", "html_url"),
        "contacts": ("lead_id", "lead_name", "primary_email", "primary_phone"),
    },
    stages={"Active": DISCOVERY, "Won": WON, "Lost": LOST},
    statuses={"active": "open", "won": "won", "lost": "lost"},
    minor_units={"value": 100},
    # An opportunity has no name of its own in Close: it is the lead's, with its note.
    title_from_organization=True,
    refers_by_id={"prospect": ("lead_id",), "contact": ("contact_id",)},
    sources=("https://developer.close.com/api/resources/opportunities",),
)
