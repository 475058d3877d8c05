"""Serializers of the sales API: validate input and shape output, nothing else.

Every field carries an OpenAPI description: model help_text where it exists, else the
text in `HELP` or the serializer's `Meta.help_texts`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.relations import MANY_RELATION_KWARGS

from deals import limits, pricing, selectors, visibility
from deals.models import (
    Activity,
    BuyerMilestone,
    Commitment,
    Concession,
    Contact,
    Deal,
    Disclosure,
    DiscoveryCall,
    LineItem,
    Need,
    Prospect,
)
from deals.visibility import Viewer
from winwin_crm.accounts.models import Team

HELP = {
    "id": "Unique id.",
    "created_at": "When the record was created.",
    "updated_at": "When the record was last changed.",
    "created_by": "Id of the user who created it.",
    "deal": "Id of the deal it belongs to (a deal you may see).",
    "prospect": "Id of the prospect (buying organisation).",
    "notes": "Free-text notes.",
    "name": "Name.",
    "description": "What it is, in plain words.",
    "external_id": "Id in the system this record was imported from, if any.",
}


class DocumentedSerializerMixin:
    """Fill in a description for any field that has none, from Meta.help_texts or HELP."""

    def get_fields(self):
        fields = super().get_fields()
        extra = getattr(getattr(self, "Meta", None), "help_texts", {})
        for name, field in fields.items():
            if not field.help_text:
                field.help_text = extra.get(name) or HELP.get(name)
        return fields


class DocumentedModelSerializer(DocumentedSerializerMixin, serializers.ModelSerializer):
    """Model serializer whose foreign-key choices are scoped to what the user may see."""

    # field name -> selector used as the queryset of that related field
    scoped_fields: dict = {}

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        user = getattr(request, "user", None)
        # Reads never resolve related ids, so only writes pay for scoping the choices.
        writing = request is None or request.method not in ("GET", "HEAD", "OPTIONS")
        for name, selector in self.scoped_fields.items() if writing else ():
            field = fields.get(name)
            if field is None or field.read_only:
                continue
            target = field.child_relation if hasattr(field, "child_relation") else field
            if user is not None and user.is_authenticated:
                target.queryset = selector(user=user)
            else:
                target.queryset = target.queryset.none()
        # A foreign key that fixes where a record lives is set on create only.
        if self.instance is not None and not isinstance(self.instance, list):
            for name in getattr(self.Meta, "create_only_fields", ()):
                if name in fields:
                    fields[name].read_only = True
        return fields

    def to_internal_value(self, data):
        # DRF drops read-only fields from a write without a word, so a client believes it
        # changed `net_total` or moved a record to another deal. Name them instead; sending
        # one back unchanged (a PUT of what GET returned) is fine.
        if isinstance(data, Mapping):
            sent = [n for n, f in self.fields.items() if f.read_only and n in data]
            if sent:
                current = self.to_representation(self.instance) if self._single_instance() else {}
                refused = [n for n in sent if n not in current or current[n] != data[n]]
                if refused:
                    raise serializers.ValidationError(
                        dict.fromkeys(refused, ["This field is read-only; leave it out."])
                    )
        return super().to_internal_value(data)

    def _single_instance(self) -> bool:
        return self.instance is not None and not isinstance(self.instance, list | tuple)


class BulkManyRelatedField(serializers.ManyRelatedField):
    """A list of ids resolved in one query (DRF's ManyRelatedField runs one per id), at
    most `max_items` of them; an unknown or invisible id is named in the 400."""

    def __init__(self, *args: Any, max_items: int, **kwargs: Any) -> None:
        self.max_items = max_items
        super().__init__(*args, **kwargs)
        self.validators.append(MaxLengthValidator(max_items))  # documents maxItems

    def to_internal_value(self, data: Any) -> list:
        if isinstance(data, str | bytes | Mapping) or not hasattr(data, "__iter__"):
            self.fail("not_a_list", input_type=type(data).__name__)
        data = list(data)
        if not self.allow_empty and not data:
            self.fail("empty")
        if len(data) > self.max_items:
            raise serializers.ValidationError(f"At most {self.max_items} ids in one request.")
        child = self.child_relation
        pks: list[int] = []
        for value in data:
            if isinstance(value, bool) or not isinstance(value, int | str):
                child.fail("incorrect_type", data_type=type(value).__name__)
            try:
                pks.append(int(value))
            except ValueError:
                child.fail("incorrect_type", data_type=type(value).__name__)
        pks = list(dict.fromkeys(pks))
        queryset = child.get_queryset()
        assert queryset is not None  # scoped in get_fields, or the model's manager
        found = {obj.pk: obj for obj in queryset.filter(pk__in=pks)}
        missing = [pk for pk in pks if pk not in found]
        if missing:
            child.fail("does_not_exist", pk_value=missing[0])
        return [found[pk] for pk in pks]


class BulkPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """PrimaryKeyRelatedField whose `many=True` form is a BulkManyRelatedField."""

    @classmethod
    def many_init(cls, *args: Any, max_items: int, **kwargs: Any) -> BulkManyRelatedField:
        list_kwargs: dict[str, Any] = {"child_relation": cls(*args, **kwargs)}
        for key in kwargs:
            if key in MANY_RELATION_KWARGS:
                list_kwargs[key] = kwargs[key]
        return BulkManyRelatedField(max_items=max_items, **list_kwargs)


class CappedListSerializer(serializers.ListSerializer):
    """A nested list whose `max_length` the schema shows as maxItems (drf-spectacular reads
    it from a validator; the cap itself is checked by max_length before any row is)."""

    def get_validators(self) -> list:
        validators = list(super().get_validators())
        max_length = getattr(self, "max_length", None)
        if max_length is not None:
            validators.append(MaxLengthValidator(max_length))
        return validators


def inline_choice_field(choices, **kwargs) -> serializers.ChoiceField:
    """A ChoiceField documented as an inline enum: for a second serializer that offers the
    same choices as a model field, so the schema keeps one named enum per model field."""
    field_class = extend_schema_field({"type": "string", "enum": [c[0] for c in choices]})(
        type("InlineChoiceField", (serializers.ChoiceField,), {})
    )
    return field_class(choices=choices, **kwargs)


def flatten_errors(detail, prefix: str = "") -> dict:
    """Turn DRF's nested list errors into keys like "needs[1].importance"."""
    flat: dict = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            if isinstance(key, int) or str(key).isdigit():
                name = f"{prefix}[{key}]"  # DRF keys rows of a nested list by index
            else:
                name = f"{prefix}.{key}" if prefix else str(key)
            if isinstance(value, dict) or (
                isinstance(value, list) and value and isinstance(value[0], dict | list)
            ):
                flat.update(flatten_errors(value, name))
            else:
                flat[name] = value
    elif isinstance(detail, list):
        for index, value in enumerate(detail):
            if value:
                flat.update(flatten_errors(value, f"{prefix}[{index}]"))
    return flat


# --- prospects and contacts ----------------------------------------------------------------


def _prospect_teams(*, user: Viewer) -> QuerySet[Team]:
    return visibility.prospect_teams(user)


class ProspectSerializer(DocumentedModelSerializer):
    scoped_fields = {"team": _prospect_teams}

    class Meta:
        model = Prospect
        fields = [
            "id", "name", "team", "industry", "size", "website", "notes", "external_id",
            "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["created_at", "updated_at"]
        create_only_fields = ["team"]
        extra_kwargs = {"team": {"required": False}}
        help_texts = {
            "team": "Id of the owning sales team; defaults to your own sales team.",
            "industry": "The prospect's industry, e.g. Software, Retail.",
            "size": "Company size band.",
            "website": "The prospect's website URL.",
            "notes": "Free-text notes about the organisation.",
        }


class ContactSerializer(DocumentedModelSerializer):
    scoped_fields = {"prospect": selectors.prospect_list}

    class Meta:
        model = Contact
        fields = [
            "id", "prospect", "name", "title", "email", "phone", "buying_role", "notes",
            "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["created_at", "updated_at"]
        create_only_fields = ["prospect"]
        help_texts = {
            "prospect": "Id of the prospect this person works at.",
            "name": "The person's full name.",
            "email": "Work email address.",
            "phone": "Phone number.",
            "buying_role": "Their role in the buying decision.",
        }


# --- needs, milestones and discovery calls -------------------------------------------------

NEED_HELP = {
    "prospect": "Id of the prospect whose need it is (taken from the deal).",
    "discovery_call": "Id of the discovery call where it came up, if any.",
    "kind": "What sort of need: a goal, a problem, an interest or a dream.",
}
MILESTONE_HELP = {
    "deal": "Id of the deal whose mutual plan this step belongs to.",
    "discovery_call": "Id of the discovery call where it was agreed, if any.",
    "title": "The step, e.g. 'Security review'.",
    "side": "Whose step it is: the buyer's or the seller's.",
    "due_date": "When the step is planned to be done.",
    "completed_at": "When it was done; empty while open.",
    "completed": "Set true to mark the step done, false to reopen it.",
}


class NeedSerializer(DocumentedModelSerializer):
    scoped_fields = {
        "deal": selectors.deal_list,
        "discovery_call": selectors.discovery_call_list,
    }

    class Meta:
        model = Need
        fields = [
            "id", "deal", "prospect", "discovery_call", "kind", "statement", "importance",
            "confirmed_by_buyer", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["prospect", "created_at", "updated_at"]
        create_only_fields = ["deal"]
        extra_kwargs = {"deal": {"required": True, "allow_null": False}}
        help_texts = NEED_HELP


class NeedInlineSerializer(DocumentedModelSerializer):
    """A need captured on a discovery call (the deal and prospect come from the call)."""

    kind = inline_choice_field(Need.Kind.choices, help_text=NEED_HELP["kind"])

    class Meta:
        model = Need
        fields = ["id", "kind", "statement", "importance", "confirmed_by_buyer"]
        help_texts = NEED_HELP
        list_serializer_class = CappedListSerializer


class MilestoneSerializer(DocumentedModelSerializer):
    scoped_fields = {"deal": selectors.deal_list}
    completed = serializers.BooleanField(required=False, write_only=True)
    is_completed = serializers.SerializerMethodField(help_text="True when the step is done.")

    class Meta:
        model = BuyerMilestone
        fields = [
            "id", "deal", "discovery_call", "title", "side", "required_for_decision",
            "due_date", "completed", "is_completed", "completed_at", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["discovery_call", "completed_at", "created_at", "updated_at"]
        create_only_fields = ["deal"]
        help_texts = MILESTONE_HELP

    def get_is_completed(self, obj) -> bool:
        return obj.completed_at is not None


class MilestoneInlineSerializer(DocumentedModelSerializer):
    """A buyer milestone captured on a discovery call."""

    class Meta:
        model = BuyerMilestone
        fields = ["id", "title", "side", "required_for_decision", "due_date"]
        help_texts = MILESTONE_HELP
        list_serializer_class = CappedListSerializer


class DiscoveryCallSerializer(DocumentedModelSerializer):
    scoped_fields = {"deal": selectors.deal_list, "attendees": selectors.contact_list}
    attendees = BulkPrimaryKeyRelatedField(  # type: ignore[call-arg]  # max_items: many_init
        many=True,
        required=False,
        queryset=Contact.objects.all(),
        max_items=limits.MAX_ATTENDEES_PER_CALL,
        help_text=(
            f"Ids of the prospect's contacts who attended "
            f"(at most {limits.MAX_ATTENDEES_PER_CALL})."
        ),
    )
    needs = NeedInlineSerializer(  # type: ignore[call-arg]  # max_length: ListSerializer
        many=True,
        required=False,
        max_length=limits.MAX_NEEDS_PER_CALL,
        help_text=(
            "Needs uncovered on the call, created with it in one transaction "
            f"(at most {limits.MAX_NEEDS_PER_CALL})."
        ),
    )
    milestones = MilestoneInlineSerializer(  # type: ignore[call-arg]  # ListSerializer's
        many=True,
        required=False,
        max_length=limits.MAX_MILESTONES_PER_CALL,
        help_text=(
            "Buyer milestones agreed on the call, created with it in one transaction "
            f"(at most {limits.MAX_MILESTONES_PER_CALL})."
        ),
    )

    class Meta:
        model = DiscoveryCall
        fields = [
            "id", "deal", "held_at", "attendees", "summary", "next_step", "needs",
            "milestones", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["created_at", "updated_at"]
        create_only_fields = ["deal", "needs", "milestones"]
        help_texts = {
            "attendees": "Ids of the prospect's contacts who attended.",
            "summary": "What was learned on the call.",
        }
        extra_kwargs = {"attendees": {"required": False}}

    def to_internal_value(self, data):
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError as exc:
            # Errors of nested rows are keyed like the service's: "needs[1].importance".
            raise serializers.ValidationError(flatten_errors(exc.detail)) from None


# --- deals ---------------------------------------------------------------------------------


# A percent can be any size (a deal sold far below cost has a margin of −100,000 %), so
# the schema must not borrow a DecimalField's digit limit for its pattern.
@extend_schema_field(
    {"type": "string", "format": "decimal", "pattern": r"^-?\d+\.\d{2}$", "nullable": True}
)
class PercentField(serializers.DecimalField):
    def __init__(self, **kwargs):
        # No digit limit: a deal sold far below cost has a margin of -100,000 % or less.
        super().__init__(max_digits=None, decimal_places=2, read_only=True, **kwargs)


def _confirm_field(help_text: str) -> serializers.BooleanField:
    return serializers.BooleanField(required=False, default=False, help_text=help_text)


def _reason_field(help_text: str) -> serializers.CharField:
    return serializers.CharField(
        required=False, allow_blank=True, max_length=2000, default="", help_text=help_text
    )


CONFIRM_HELP = (
    "Closing as won with a required buyer milestone open, an important need nothing serves "
    "or nothing disclosed is a 400 naming it unless this is true and `reason` says why."
)
REASON_HELP = "Why the rep closes despite the concerns; kept on the stage history for delivery."


class HealthCheckedAtField(serializers.DateTimeField):
    """A deal's "checked at": annotated by the API's queryset as `health_checked_at`
    (deals.health.checked), read with one query for a deal a write just returned."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def get_attribute(self, instance: Any) -> Any:
        if hasattr(instance, "health_checked_at"):
            return instance.health_checked_at
        from deals.health.checked import health_checked_at

        return health_checked_at(instance)


class DealSerializer(DocumentedModelSerializer):
    scoped_fields = {"prospect": selectors.prospect_list}
    health_computed_at = HealthCheckedAtField(
        allow_null=True,
        help_text=("When the health was last computed or checked by the hourly sweep (read-only)."),
    )
    version = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text=(
            'Optimistic lock, required on every update (or an `If-Match: "<version>"` '
            "header; GET sends it as the ETag): without it 400; if the deal changed since, "
            "409 with the current version. Ignored on create."
        ),
    )
    discount_pct = PercentField(
        help_text=(
            "Discount off list price in percent (two decimals): 1 − net/list; negative "
            "when sold above list."
        )
    )
    margin_pct = PercentField(
        help_text="Seller margin in percent (two decimals): (net − cost) / net."
    )
    prospect_name = serializers.CharField(
        source="prospect.name", read_only=True, help_text="The prospect's name."
    )
    owner_username = serializers.CharField(
        source="owner.username", read_only=True, help_text="The owning rep's username."
    )
    # Empty until the health engine first computes the deal: documented as such.
    balance = serializers.ChoiceField(
        choices=Deal.Balance.choices,
        allow_blank=True,
        read_only=True,
        help_text="win_win, buyer_loses, seller_loses or lose_lose; empty until computed.",
    )
    confirm = serializers.BooleanField(
        write_only=True, required=False, default=False, help_text=CONFIRM_HELP
    )
    reason = serializers.CharField(
        write_only=True, required=False, allow_blank=True, max_length=2000, default="",
        help_text=REASON_HELP,
    )  # fmt: skip
    stage_changed_at = serializers.DateTimeField(
        read_only=True, help_text="When the deal entered its current stage."
    )

    class Meta:
        model = Deal
        fields = [
            "id", "title", "prospect", "prospect_name", "owner", "owner_username", "team",
            "stage", "currency", "language", "expected_close_date", "lost_reason", "closed_at",
            "notes_for_delivery", "external_id", "version",
            "list_total", "net_total", "cost_total", "discount_pct", "margin_pct",
            "buyer_score", "seller_score", "balance", "open_flag_count", "health_computed_at",
            "last_buyer_contact_at", "created_at", "updated_at", "stage_changed_at",
            "confirm", "reason",
        ]  # fmt: skip
        read_only_fields = [
            "owner", "team", "closed_at", "list_total", "net_total", "cost_total",
            "buyer_score", "seller_score", "balance", "open_flag_count", "health_computed_at",
            "last_buyer_contact_at", "created_at", "updated_at",
        ]  # fmt: skip
        create_only_fields = ["prospect"]
        help_texts = {
            "title": "A short name for the opportunity.",
            "prospect": "Id of the prospect (buying organisation) the deal is with.",
            "stage": (
                "Pipeline stage. closed_lost needs lost_reason; closed_won needs at least one "
                "line item; leaving a closed stage needs POST /deals/{id}/reopen/."
            ),
            "list_total": "Σ quantity × unit list price of the line items.",
            "net_total": "Σ quantity × unit price − Σ price-cut concessions.",
            "cost_total": "Σ quantity × unit cost + Σ cost to seller of value-add concessions.",
            "buyer_score": "Buyer-side health score 0–100 (read-only, from the health engine).",
            "seller_score": "Seller-side health score 0–100 (read-only, from the health engine).",
            "balance": "win_win, buyer_loses, seller_loses or lose_lose (read-only).",
            "open_flag_count": "Number of open health flags (read-only).",
            "health_computed_at": (
                "When the health was last computed or checked by the hourly sweep (read-only)."
            ),
            "last_buyer_contact_at": "The latest buyer-initiated activity (read-only).",
            "closed_at": "When the deal was closed won or lost.",
            "notes_for_delivery": "Free text the rep wants the delivery team to read.",
        }

    def validate_currency(self, value: str) -> str:
        if len(value) != 3 or not value.isalpha():
            raise serializers.ValidationError("Use a three-letter ISO 4217 code, e.g. EUR.")
        return value.upper()


class DealListSerializer(serializers.BaseSerializer):
    """Read-only rows of the deal list: the same fields, in the same order and formats, as
    DealSerializer (the schema documents the list with DealSerializer), built from the
    `.values()` rows of `columns` instead of model instances.

    A page of 50 through DealSerializer costs ~1,400 DRF field calls plus four model
    instances per row; this is one dict per row. tests/api/test_deal_list_api.py compares
    every list item with the detail JSON of the same deal.
    """

    columns = (
        "id", "title", "prospect_id", "owner_id", "team_id", "stage", "currency", "language",
        "expected_close_date", "lost_reason", "closed_at", "notes_for_delivery",
        "external_id", "version", "list_total", "net_total", "cost_total", "buyer_score",
        "seller_score", "balance", "open_flag_count", "health_computed_at",
        "last_buyer_contact_at", "created_at", "updated_at", "stage_changed_at",
    )  # fmt: skip

    @classmethod
    def rows(cls, queryset):
        """The deals of `queryset` (already filtered and ordered) as the dicts this reads."""
        from deals.health.checked import deal_checked_at

        if "health_checked_at" not in queryset.query.annotations:
            queryset = queryset.annotate(health_checked_at=deal_checked_at())
        return queryset.values(
            *cls.columns, "health_checked_at", "prospect__name", "owner__username"
        )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # DRF's DateTimeField renders in the current time zone; look it up once, not per
        # value. The database hands back UTC, so in UTC there is nothing to convert.
        self._tz = timezone.get_current_timezone() if settings.USE_TZ else None
        self._in_utc = self._tz is dt.UTC or getattr(self._tz, "key", None) == "UTC"

    def _datetime(self, value):
        if value is None:
            return None
        if self._tz is None:
            if value.tzinfo is not None:
                value = value.astimezone(dt.UTC).replace(tzinfo=None)
        elif not (self._in_utc and value.tzinfo is dt.UTC):
            value = value.astimezone(self._tz)
        text = value.isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    def to_representation(self, row):
        when = self._datetime
        discount = pricing.percent(pricing.discount_pct(row["list_total"], row["net_total"]))
        margin = pricing.percent(pricing.margin_pct(row["net_total"], row["cost_total"]))
        close_date = row["expected_close_date"]
        return {
            "id": row["id"],
            "title": row["title"],
            "prospect": row["prospect_id"],
            "prospect_name": row["prospect__name"],
            "owner": row["owner_id"],
            "owner_username": row["owner__username"],
            "team": row["team_id"],
            "stage": row["stage"],
            "currency": row["currency"],
            "language": row["language"],
            "expected_close_date": close_date.isoformat() if close_date else None,
            "lost_reason": row["lost_reason"],
            "closed_at": when(row["closed_at"]),
            "notes_for_delivery": row["notes_for_delivery"],
            "external_id": row["external_id"],
            "version": row["version"],
            "list_total": _money(row["list_total"]),
            "net_total": _money(row["net_total"]),
            "cost_total": _money(row["cost_total"]),
            "discount_pct": _money(discount),
            "margin_pct": _money(margin),
            "buyer_score": row["buyer_score"],
            "seller_score": row["seller_score"],
            "balance": row["balance"],
            "open_flag_count": row["open_flag_count"],
            "health_computed_at": when(row["health_checked_at"]),
            "last_buyer_contact_at": when(row["last_buyer_contact_at"]),
            "created_at": when(row["created_at"]),
            "updated_at": when(row["updated_at"]),
            "stage_changed_at": when(row["stage_changed_at"]),
        }


def _money(value):
    """A two-decimal amount as DRF's DecimalField(decimal_places=2) writes it."""
    return None if value is None else f"{pricing.money(value):f}"


class DealStageSerializer(DocumentedSerializerMixin, serializers.Serializer):
    stage = inline_choice_field(Deal.Stage.choices, help_text="The stage to move the deal to.")
    lost_reason = serializers.CharField(
        required=False, allow_blank=True, help_text="Why the deal was lost (for closed_lost)."
    )
    version = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="Required (or If-Match): the version you read; without it 400, stale 409.",
    )
    confirm = _confirm_field(CONFIRM_HELP)
    reason = _reason_field(REASON_HELP)


class DealReopenSerializer(DocumentedSerializerMixin, serializers.Serializer):
    stage = serializers.ChoiceField(
        choices=[(s, Deal.Stage(s).label) for s in Deal.OPEN_STAGES],
        default=Deal.Stage.NEGOTIATION,
        help_text="The open stage to reopen the deal into.",
    )
    version = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="Required (or If-Match): the version you read; without it 400, stale 409.",
    )
    confirm = _confirm_field("Must be true: reopening a closed deal is meant, not a slip.")
    reason = _reason_field("Why the deal is reopened (required); delivery sees it.")


class ConflictSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="What went wrong.")
    current_version = serializers.IntegerField(help_text="The deal's version now.")


class HistoryChangeSerializer(serializers.Serializer):
    field = serializers.CharField(help_text="The changed field.")
    old = serializers.JSONField(allow_null=True, help_text="Value before the change.")
    new = serializers.JSONField(allow_null=True, help_text="Value after the change.")


class HistoryEntrySerializer(serializers.Serializer):
    model = serializers.ChoiceField(
        choices=["deal", "line_item", "concession", "commitment"],
        help_text="Which kind of record changed.",
    )
    object_id = serializers.IntegerField(help_text="Id of the changed record.")
    object_repr = serializers.CharField(help_text="The record's title, name or description.")
    action = serializers.ChoiceField(
        choices=["created", "changed", "deleted"], help_text="What happened to the record."
    )
    at = serializers.DateTimeField(help_text="When it happened.")
    user_id = serializers.IntegerField(allow_null=True, help_text="Who did it (user id).")
    username = serializers.CharField(help_text="Who did it (username; empty if unknown).")
    changes = HistoryChangeSerializer(many=True, help_text="Field changes, old → new.")


# --- deal children -------------------------------------------------------------------------


class LineItemSerializer(DocumentedModelSerializer):
    scoped_fields = {"deal": selectors.deal_list, "needs": selectors.need_list}
    needs = BulkPrimaryKeyRelatedField(  # type: ignore[call-arg]  # max_items: many_init
        many=True,
        required=False,
        queryset=Need.objects.all(),
        max_items=limits.MAX_NEEDS_PER_LINE_ITEM,
        help_text=(
            "Ids of the buyer's needs this item serves (needs of the deal's prospect; at "
            f"most {limits.MAX_NEEDS_PER_LINE_ITEM})."
        ),
    )
    line_list_total = serializers.SerializerMethodField(
        help_text="quantity × unit list price of this item."
    )
    line_net_total = serializers.SerializerMethodField(
        help_text="quantity × unit price of this item."
    )

    class Meta:
        model = LineItem
        fields = [
            "id", "deal", "name", "quantity", "unit_list_price", "unit_price", "unit_cost",
            "needs", "line_list_total", "line_net_total", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["created_at", "updated_at"]
        create_only_fields = ["deal"]
        extra_kwargs = {"needs": {"required": False}}
        help_texts = {
            "name": "What is sold, e.g. 'Platform licence'.",
            "quantity": "How many units (more than 0).",
            "unit_list_price": "List price per unit (0 or more).",
            "needs": "Ids of the buyer's needs this item serves (needs of the deal's prospect).",
        }

    @extend_schema_field(serializers.DecimalField(max_digits=28, decimal_places=2))
    def get_line_list_total(self, obj) -> str:
        return str(pricing.line_total(obj.quantity, obj.unit_list_price))

    @extend_schema_field(serializers.DecimalField(max_digits=28, decimal_places=2))
    def get_line_net_total(self, obj) -> str:
        return str(pricing.line_total(obj.quantity, obj.unit_price))


class ActivitySerializer(DocumentedModelSerializer):
    scoped_fields = {"deal": selectors.deal_list}

    class Meta:
        model = Activity
        fields = [
            "id", "deal", "kind", "initiated_by", "occurred_at", "notes", "close_attempt",
            "senior_present", "created_by", "created_at", "updated_at",
            "source", "message_id", "thread", "auto_reply",
        ]  # fmt: skip
        # Captured mail sets these (deals/mail/); typed activities are "manual".
        read_only_fields = [
            "created_by", "created_at", "updated_at", "source", "message_id", "thread",
            "auto_reply",
        ]  # fmt: skip
        create_only_fields = ["deal"]
        help_texts = {
            "source": "manual, email, calendar, buyer_room or import.",
            "kind": "call, email, meeting, note or support request.",
            "initiated_by": "Who started it: the rep or the buyer.",
            "occurred_at": "When it happened.",
            "notes": "What was said; pressure phrases here raise a flag.",
        }


class ConcessionSerializer(DocumentedModelSerializer):
    scoped_fields = {"deal": selectors.deal_list}

    class Meta:
        model = Concession
        fields = [
            "id", "deal", "kind", "description", "amount", "cost_to_seller", "in_exchange_for",
            "created_by", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["created_by", "created_at", "updated_at"]
        create_only_fields = ["deal"]
        help_texts = {
            "kind": "price (a cut off the total) or value_add (something extra for the buyer).",
            "description": "What was conceded, e.g. '6 extra months of support'.",
        }


class CommitmentSerializer(DocumentedModelSerializer):
    scoped_fields = {"deal": selectors.deal_list}

    class Meta:
        model = Commitment
        fields = [
            "id", "deal", "description", "due_date", "status", "owner", "completed_at",
            "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["owner", "completed_at", "created_at", "updated_at"]
        create_only_fields = ["deal"]
        help_texts = {
            "description": "What was promised to the buyer.",
            "due_date": "When it is due.",
            "status": "open, done or broken. New commitments are open.",
            "completed_at": "When it was marked done.",
        }


class DisclosureSerializer(DocumentedModelSerializer):
    scoped_fields = {"deal": selectors.deal_list}

    class Meta:
        model = Disclosure
        fields = [
            "id", "deal", "kind", "description", "disclosed_at", "created_by", "created_at",
            "updated_at",
        ]  # fmt: skip
        read_only_fields = ["disclosed_at", "created_by", "created_at", "updated_at"]
        create_only_fields = ["deal"]
        help_texts = {
            "kind": "limitation, risk, a cheaper alternative, or pricing.",
            "description": "What was disclosed to the buyer.",
            "disclosed_at": "When it was disclosed.",
        }
