"""Forms of the rep pages. They validate input only; the services in deals.services write.

One module per page: `deal_list`, `new_deal`, `discovery`, `deal_page`; `widgets` holds
the shared inputs. Views import from here.
"""

from deals.forms.deal_list import DealFilterForm
from deals.forms.deal_page import (
    ActivityForm,
    CommitmentForm,
    CommitmentStatusForm,
    ConcessionForm,
    DealEditForm,
    DisclosureForm,
    LineItemForm,
    MilestoneForm,
    MilestoneToggleForm,
    NeedForm,
    StageForm,
)
from deals.forms.discovery import (
    DiscoveryCallForm,
    MilestoneRowForm,
    MilestoneRowFormSet,
    NeedRowForm,
    NeedRowFormSet,
    NewAttendeeForm,
    NewAttendeeFormSet,
    changed_rows,
)
from deals.forms.new_deal import DealCreateForm
from deals.forms.widgets import DATETIME_INPUT_FORMATS, IMPORTANCE_CHOICES, DateInput, DateTimeInput

__all__ = [
    "ActivityForm",
    "CommitmentForm",
    "CommitmentStatusForm",
    "ConcessionForm",
    "DATETIME_INPUT_FORMATS",
    "DateInput",
    "DateTimeInput",
    "DealCreateForm",
    "DealEditForm",
    "DealFilterForm",
    "DisclosureForm",
    "DiscoveryCallForm",
    "IMPORTANCE_CHOICES",
    "LineItemForm",
    "MilestoneForm",
    "MilestoneRowForm",
    "MilestoneRowFormSet",
    "MilestoneToggleForm",
    "NeedForm",
    "NeedRowForm",
    "NeedRowFormSet",
    "NewAttendeeForm",
    "NewAttendeeFormSet",
    "StageForm",
    "changed_rows",
]
