"""Serializers of the sales API: validate input and shape output, nothing else.

Every field carries an OpenAPI description: model help_text where it exists, else the
text in `HELP` or the serializer's `Meta.help_texts`. One module per group of resources
(`prospects`, `discovery`, `deals`, `children`); `base` holds the shared field classes.
Callers import from here.
"""

from deals.api.serializers.base import (
    HELP,
    BulkManyRelatedField,
    BulkPrimaryKeyRelatedField,
    CappedListSerializer,
    DocumentedModelSerializer,
    DocumentedSerializerMixin,
    flatten_errors,
    inline_choice_field,
)
from deals.api.serializers.children import (
    ActivitySerializer,
    CommitmentSerializer,
    ConcessionSerializer,
    DisclosureSerializer,
    LineItemSerializer,
)
from deals.api.serializers.deals import (
    CONFIRM_HELP,
    REASON_HELP,
    ConflictSerializer,
    DealListSerializer,
    DealReopenSerializer,
    DealSerializer,
    DealStageSerializer,
    HistoryChangeSerializer,
    HistoryEntrySerializer,
    PercentField,
)
from deals.api.serializers.discovery import (
    MILESTONE_HELP,
    NEED_HELP,
    DiscoveryCallSerializer,
    MilestoneInlineSerializer,
    MilestoneSerializer,
    NeedInlineSerializer,
    NeedSerializer,
)
from deals.api.serializers.prospects import ContactSerializer, ProspectSerializer

__all__ = [
    "ActivitySerializer",
    "BulkManyRelatedField",
    "BulkPrimaryKeyRelatedField",
    "CONFIRM_HELP",
    "CappedListSerializer",
    "CommitmentSerializer",
    "ConcessionSerializer",
    "ConflictSerializer",
    "ContactSerializer",
    "DealListSerializer",
    "DealReopenSerializer",
    "DealSerializer",
    "DealStageSerializer",
    "DisclosureSerializer",
    "DiscoveryCallSerializer",
    "DocumentedModelSerializer",
    "DocumentedSerializerMixin",
    "HELP",
    "HistoryChangeSerializer",
    "HistoryEntrySerializer",
    "LineItemSerializer",
    "MILESTONE_HELP",
    "MilestoneInlineSerializer",
    "MilestoneSerializer",
    "NEED_HELP",
    "NeedInlineSerializer",
    "NeedSerializer",
    "PercentField",
    "ProspectSerializer",
    "REASON_HELP",
    "flatten_errors",
    "inline_choice_field",
]
