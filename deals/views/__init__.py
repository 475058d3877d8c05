"""The rep's pages: my deals, new deal, the deal page with its htmx sections, discovery call.

One module per job: `my_deals` (list and new deal), `discovery` (the call form), `page`
(the deal page, its header, edit and stage moves), `inline` (the small write endpoints of
the sections), `responses` (how a write answers) and `context` (what each part shows).
The URLconf reads the views from here.
"""

from deals.views.discovery import discovery_call_create
from deals.views.inline import (
    activity_add,
    commitment_add,
    commitment_status,
    concession_add,
    disclosure_add,
    line_item_add,
    line_item_delete,
    line_item_edit,
    milestone_add,
    milestone_toggle,
    need_add,
    need_edit,
)
from deals.views.my_deals import deal_create, deal_list
from deals.views.page import deal_detail, deal_edit, deal_section, deal_stage, deal_summary

__all__ = [
    "activity_add",
    "commitment_add",
    "commitment_status",
    "concession_add",
    "deal_create",
    "deal_detail",
    "deal_edit",
    "deal_list",
    "deal_section",
    "deal_stage",
    "deal_summary",
    "disclosure_add",
    "discovery_call_create",
    "line_item_add",
    "line_item_delete",
    "line_item_edit",
    "milestone_add",
    "milestone_toggle",
    "need_add",
    "need_edit",
]
