"""What every sales serializer shares: documented fields, bulk id fields, capped lists,
flat error keys."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.validators import MaxLengthValidator
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.relations import MANY_RELATION_KWARGS

from deals.api.filters import MAX_ID

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
        # An id past the database's 64-bit integers names no row (SQLite cannot even bind it).
        too_large = [pk for pk in pks if abs(pk) > MAX_ID]
        if too_large:
            child.fail("does_not_exist", pk_value=too_large[0])
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
