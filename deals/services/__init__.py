"""Writes of the sales side. Every function validates, writes in one transaction and queues
a health recompute of the deal it touched once the transaction commits.

Permissions: callers fetch objects through `deals.selectors` (so invisible objects are a
404 before a service runs); services still refuse writes the user may not make
(`PermissionDenied`, a 403) so pages, the API and scripts cannot bypass the rule.

One module per job (`deal`, `stages`, `versioning`, `pricing`, `prospects`, `needs`,
`discovery`, `line_items`, `milestones`, `activities`, `concessions`, `commitments`,
`disclosures`; `common` holds what they share). Callers import from here. A test that
replaces a service another service calls patches the module that makes the call
(`deals.services.discovery.discovery_call_create`), since the caller looks it up there.
"""

from deals.services.activities import (
    ACTIVITY_FIELDS,
    _refresh_last_buyer_contact,
    activity_delete,
    activity_log,
    activity_update,
)
from deals.services.commitments import commitment_add, commitment_set_status, commitment_update
from deals.services.concessions import (
    CONCESSION_FIELDS,
    concession_add,
    concession_delete,
    concession_update,
)
from deals.services.deal import DEAL_FIELDS, deal_create, deal_create_with_prospect, deal_update
from deals.services.disclosures import disclosure_add, disclosure_delete, disclosure_update
from deals.services.discovery import (
    discovery_call_create,
    discovery_call_delete,
    discovery_call_log,
    discovery_call_update,
)
from deals.services.line_items import (
    LINE_ITEM_FIELDS,
    line_item_create,
    line_item_delete,
    line_item_update,
)
from deals.services.milestones import (
    MILESTONE_FIELDS,
    milestone_create,
    milestone_delete,
    milestone_set_completed,
    milestone_update,
)
from deals.services.needs import NEED_FIELDS, need_create, need_delete, need_update
from deals.services.pricing import pricing_refresh
from deals.services.prospects import (
    CONTACT_FIELDS,
    PROSPECT_FIELDS,
    contact_create,
    contact_delete,
    contact_update,
    prospect_create,
    prospect_update,
)
from deals.services.stages import (
    CONFIRM_CLOSE,
    STAGE_FIELDS,
    CloseNeedsConfirmation,
    StageMove,
    deal_change_stage,
    deal_reopen,
    stage_history_record,
)
from deals.services.versioning import DEAL_DERIVED_FIELDS, DealVersionConflict

__all__ = [
    "ACTIVITY_FIELDS",
    "CONCESSION_FIELDS",
    "CONFIRM_CLOSE",
    "CONTACT_FIELDS",
    "CloseNeedsConfirmation",
    "DEAL_DERIVED_FIELDS",
    "DEAL_FIELDS",
    "DealVersionConflict",
    "LINE_ITEM_FIELDS",
    "MILESTONE_FIELDS",
    "NEED_FIELDS",
    "PROSPECT_FIELDS",
    "STAGE_FIELDS",
    "StageMove",
    "_refresh_last_buyer_contact",
    "activity_delete",
    "activity_log",
    "activity_update",
    "commitment_add",
    "commitment_set_status",
    "commitment_update",
    "concession_add",
    "concession_delete",
    "concession_update",
    "contact_create",
    "contact_delete",
    "contact_update",
    "deal_change_stage",
    "deal_create",
    "deal_create_with_prospect",
    "deal_reopen",
    "deal_update",
    "disclosure_add",
    "disclosure_delete",
    "disclosure_update",
    "discovery_call_create",
    "discovery_call_delete",
    "discovery_call_log",
    "discovery_call_update",
    "line_item_create",
    "line_item_delete",
    "line_item_update",
    "milestone_create",
    "milestone_delete",
    "milestone_set_completed",
    "milestone_update",
    "need_create",
    "need_delete",
    "need_update",
    "pricing_refresh",
    "prospect_create",
    "prospect_update",
    "stage_history_record",
]
