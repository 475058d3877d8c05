"""Query-string filters of the sales API. Bad values (non-numeric ids, unknown choices,
ranges whose start is after their end) answer 400 with the parameter named."""

import datetime as dt

import django_filters as df
from django import forms
from django.db.models import Q
from django_filters.fields import IsoDateTimeField

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


class RangeCheckedFilterSet(df.FilterSet):
    """A FilterSet whose `(start, end)` pairs in `Meta.ranges` must not be out of order."""

    def is_valid(self):
        valid = super().is_valid()
        if not valid:
            return False
        for start, end in getattr(self.Meta, "ranges", ()):
            low = self.form.cleaned_data.get(start)
            high = self.form.cleaned_data.get(end)
            if low is not None and high is not None and low > high:
                self.form.add_error(end, f"Must not be before {start}.")
                valid = False
        return valid


# Ids are 64-bit; a bigger number would overflow the database driver instead of matching nothing.
MAX_ID = 2**63 - 1


class IdFilter(df.NumberFilter):
    field_class = forms.IntegerField


class RealIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 date-time the database can store: PostgreSQL refuses UTC offsets past
    ±15:59 and SQLite's conversion to UTC overflows at the ends of the calendar, either of
    which would be a 500 instead of a 400."""

    def to_python(self, value):
        value = super().to_python(value)
        offset = value.utcoffset() if value is not None else None
        if offset is not None:
            if abs(offset) > dt.timedelta(hours=14):
                raise forms.ValidationError("Use a UTC offset between -14:00 and +14:00.")
            try:
                value.astimezone(dt.UTC)
            except OverflowError:
                raise forms.ValidationError("Enter a date between the years 1 and 9999.") from None
        return value


class IsoDateTimeFilter(df.IsoDateTimeFilter):
    field_class = RealIsoDateTimeField


def _id(field_name: str, what: str) -> IdFilter:
    return IdFilter(
        field_name=field_name,
        min_value=1,
        max_value=MAX_ID,
        help_text=f"Only those of this {what} id.",
    )


def _created_range():
    return (
        IsoDateTimeFilter(
            field_name="created_at", lookup_expr="gte", help_text="Created at or after (ISO 8601)."
        ),
        IsoDateTimeFilter(
            field_name="created_at", lookup_expr="lte", help_text="Created at or before (ISO 8601)."
        ),
    )


class ProspectFilter(RangeCheckedFilterSet):
    team = _id("team_id", "sales team")
    size = df.ChoiceFilter(choices=Prospect.Size.choices, help_text="Company size band.")
    industry = df.CharFilter(lookup_expr="iexact", help_text="Industry (case-insensitive).")
    created_after, created_before = _created_range()

    class Meta:
        model = Prospect
        fields = ["team", "size", "industry"]
        ranges = [("created_after", "created_before")]


class ContactFilter(RangeCheckedFilterSet):
    prospect = _id("prospect_id", "prospect")
    buying_role = df.ChoiceFilter(
        choices=Contact.BuyingRole.choices, help_text="Role in the buying decision."
    )
    created_after, created_before = _created_range()

    class Meta:
        model = Contact
        fields = ["prospect", "buying_role"]
        ranges = [("created_after", "created_before")]


class DealFilter(RangeCheckedFilterSet):
    prospect = _id("prospect_id", "prospect")
    owner = _id("owner_id", "owning rep")
    team = _id("team_id", "sales team")
    stage = df.MultipleChoiceFilter(
        choices=Deal.Stage.choices, help_text="Stage; repeat the parameter for several."
    )
    balance = df.MultipleChoiceFilter(
        choices=Deal.Balance.choices, help_text="Health balance; repeat for several."
    )
    is_open = df.BooleanFilter(method="filter_is_open", help_text="Only open (or only closed).")
    scored = df.BooleanFilter(
        method="filter_scored", help_text="Only deals the health engine has scored (or not yet)."
    )
    q = df.CharFilter(
        method="filter_q", max_length=100, help_text="Title or prospect name contains this text."
    )
    expected_close_after = df.DateFilter(
        field_name="expected_close_date", lookup_expr="gte", help_text="Forecast close on/after."
    )
    expected_close_before = df.DateFilter(
        field_name="expected_close_date", lookup_expr="lte", help_text="Forecast close on/before."
    )
    created_after, created_before = _created_range()
    updated_after = IsoDateTimeFilter(
        field_name="updated_at", lookup_expr="gte", help_text="Changed at or after (ISO 8601)."
    )
    updated_before = IsoDateTimeFilter(
        field_name="updated_at", lookup_expr="lte", help_text="Changed at or before (ISO 8601)."
    )

    class Meta:
        model = Deal
        fields = ["prospect", "owner", "team", "stage", "balance"]
        ranges = [
            ("expected_close_after", "expected_close_before"),
            ("created_after", "created_before"),
            ("updated_after", "updated_before"),
        ]

    def filter_is_open(self, queryset, name, value):
        if value is None:
            return queryset
        if value:
            return queryset.filter(stage__in=Deal.OPEN_STAGES)
        return queryset.filter(stage__in=Deal.CLOSED_STAGES)

    def filter_scored(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.exclude(balance="") if value else queryset.filter(balance="")

    def filter_q(self, queryset, name, value):
        if not (value := (value or "").strip()):
            return queryset
        return queryset.filter(Q(title__icontains=value) | Q(prospect__name__icontains=value))


class DealChildFilter(RangeCheckedFilterSet):
    deal = _id("deal_id", "deal")
    prospect = _id("deal__prospect_id", "prospect")
    created_after, created_before = _created_range()

    class Meta:
        fields = ["deal", "prospect"]
        ranges = [("created_after", "created_before")]


class NeedFilter(DealChildFilter):
    prospect = _id("prospect_id", "prospect")
    discovery_call = _id("discovery_call_id", "discovery call")
    kind = df.ChoiceFilter(choices=Need.Kind.choices, help_text="Kind of need.")
    importance_min = IdFilter(
        field_name="importance",
        lookup_expr="gte",
        min_value=1,
        max_value=5,
        help_text="Importance at least (1–5).",
    )
    importance_max = IdFilter(
        field_name="importance",
        lookup_expr="lte",
        min_value=1,
        max_value=5,
        help_text="Importance at most (1–5).",
    )
    confirmed_by_buyer = df.BooleanFilter(help_text="Only needs the buyer confirmed (or not).")

    class Meta(DealChildFilter.Meta):
        model = Need
        fields = ["deal", "prospect", "discovery_call", "kind", "confirmed_by_buyer"]
        ranges = [*DealChildFilter.Meta.ranges, ("importance_min", "importance_max")]


class DiscoveryCallFilter(DealChildFilter):
    held_after = IsoDateTimeFilter(
        field_name="held_at", lookup_expr="gte", help_text="Held at or after (ISO 8601)."
    )
    held_before = IsoDateTimeFilter(
        field_name="held_at", lookup_expr="lte", help_text="Held at or before (ISO 8601)."
    )

    class Meta(DealChildFilter.Meta):
        model = DiscoveryCall
        ranges = [*DealChildFilter.Meta.ranges, ("held_after", "held_before")]


class LineItemFilter(DealChildFilter):
    need = _id("needs", "need")

    class Meta(DealChildFilter.Meta):
        model = LineItem
        fields = ["deal", "prospect", "need"]


class MilestoneFilter(DealChildFilter):
    side = df.ChoiceFilter(choices=BuyerMilestone.Side.choices, help_text="Whose step it is.")
    required_for_decision = df.BooleanFilter(help_text="Only steps the decision waits on.")
    completed = df.BooleanFilter(
        field_name="completed_at", lookup_expr="isnull", exclude=True, help_text="Done or not."
    )
    due_after = df.DateFilter(field_name="due_date", lookup_expr="gte", help_text="Due on/after.")
    due_before = df.DateFilter(field_name="due_date", lookup_expr="lte", help_text="Due on/before.")

    class Meta(DealChildFilter.Meta):
        model = BuyerMilestone
        fields = ["deal", "prospect", "side", "required_for_decision"]
        ranges = [*DealChildFilter.Meta.ranges, ("due_after", "due_before")]


class ActivityFilter(DealChildFilter):
    kind = df.ChoiceFilter(choices=Activity.Kind.choices, help_text="Kind of activity.")
    initiated_by = df.ChoiceFilter(
        choices=Activity.InitiatedBy.choices, help_text="Who started it."
    )
    close_attempt = df.BooleanFilter(help_text="Only close attempts (or none).")
    occurred_after = IsoDateTimeFilter(
        field_name="occurred_at", lookup_expr="gte", help_text="Occurred at or after (ISO 8601)."
    )
    occurred_before = IsoDateTimeFilter(
        field_name="occurred_at", lookup_expr="lte", help_text="Occurred at or before (ISO 8601)."
    )

    class Meta(DealChildFilter.Meta):
        model = Activity
        fields = ["deal", "prospect", "kind", "initiated_by", "close_attempt"]
        ranges = [*DealChildFilter.Meta.ranges, ("occurred_after", "occurred_before")]


class ConcessionFilter(DealChildFilter):
    kind = df.ChoiceFilter(choices=Concession.Kind.choices, help_text="Price cut or value add.")

    class Meta(DealChildFilter.Meta):
        model = Concession
        fields = ["deal", "prospect", "kind"]


class CommitmentFilter(DealChildFilter):
    status = df.MultipleChoiceFilter(
        choices=Commitment.Status.choices, help_text="Status; repeat for several."
    )
    due_after = df.DateFilter(field_name="due_date", lookup_expr="gte", help_text="Due on/after.")
    due_before = df.DateFilter(field_name="due_date", lookup_expr="lte", help_text="Due on/before.")

    class Meta(DealChildFilter.Meta):
        model = Commitment
        fields = ["deal", "prospect", "status"]
        ranges = [*DealChildFilter.Meta.ranges, ("due_after", "due_before")]


class DisclosureFilter(DealChildFilter):
    kind = df.ChoiceFilter(choices=Disclosure.Kind.choices, help_text="Kind of disclosure.")

    class Meta(DealChildFilter.Meta):
        model = Disclosure
        fields = ["deal", "prospect", "kind"]
