"""The inline forms of the deal page: the deal, its stage and each section."""

from django import forms

from deals.forms.new_deal import DealCreateForm
from deals.forms.widgets import (
    DATETIME_INPUT_FORMATS,
    IMPORTANCE_CHOICES,
    DateInput,
    DateTimeInput,
    now_for_input,
)
from deals.models import (
    Activity,
    BuyerMilestone,
    Commitment,
    Concession,
    Deal,
    Disclosure,
    LineItem,
    Need,
)


class DealEditForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    title = forms.CharField(max_length=200)
    expected_close_date = forms.DateField(
        required=False, widget=DateInput(), label="Expected close"
    )
    currency = forms.CharField(max_length=3)
    language = forms.ChoiceField(
        choices=[("en", "English"), ("de", "Deutsch")],  # Deal.language's choices
        required=False,  # left out of a post: the deal keeps its language
        label="Buyer's language",
        help_text="The buyer room and its emails use it.",
    )
    notes_for_delivery = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}), label="Notes for delivery"
    )

    clean_currency = DealCreateForm.clean_currency

    def clean_language(self) -> str:
        return self.cleaned_data["language"] or self.initial.get("language") or "en"

    @classmethod
    def for_deal(cls, deal, data=None):
        initial = {
            "version": deal.version,
            "title": deal.title,
            "expected_close_date": deal.expected_close_date,
            "currency": deal.currency,
            "language": deal.language,
            "notes_for_delivery": deal.notes_for_delivery,
        }
        return cls(data=data, initial=initial, prefix="deal")


class StageForm(forms.Form):
    ACTIONS = ("advance", "close_won", "close_lost", "reopen")

    action = forms.ChoiceField(choices=[(a, a) for a in ACTIONS])
    stage = forms.ChoiceField(
        required=False,
        choices=[(s, label) for s, label in Deal.Stage.choices if s in Deal.OPEN_STAGES],
    )
    lost_reason = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), label="Why was it lost?"
    )
    confirm = forms.BooleanField(required=False, label="I have read this and mean it")
    reason = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Why? (delivery will read this)",
    )
    # The version the page showed; a stale one is refused instead of overwriting.
    version = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def clean(self):
        data = super().clean()
        action = data.get("action")
        if action == "close_lost" and not (data.get("lost_reason") or "").strip():
            self.add_error("lost_reason", "Say why the deal was lost; the team learns from it.")
        if action in ("advance", "reopen") and not data.get("stage"):
            self.add_error("stage", "Pick a stage.")
        return data


class NeedForm(forms.ModelForm):
    importance = forms.TypedChoiceField(coerce=int, choices=IMPORTANCE_CHOICES, initial=3)

    class Meta:
        model = Need
        fields = ["kind", "statement", "importance", "confirmed_by_buyer"]
        widgets = {"statement": forms.TextInput()}
        labels = {"confirmed_by_buyer": "Buyer confirmed", "statement": "In the buyer's words"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = Need.Kind.choices
        if not self.instance.pk:
            self.initial.setdefault("kind", Need.Kind.PROBLEM)


class LineItemForm(forms.ModelForm):
    needs = forms.ModelMultipleChoiceField(
        queryset=Need.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Needs it serves",
    )

    class Meta:
        model = LineItem
        fields = ["name", "quantity", "unit_list_price", "unit_price", "unit_cost"]
        labels = {
            "unit_list_price": "List price / unit",
            "unit_price": "Offered price / unit",
            "unit_cost": "Our cost / unit",
        }

    def __init__(self, *args, deal, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["needs"].queryset = Need.objects.filter(deal=deal)
        if self.instance.pk and not self.is_bound:
            self.initial["needs"] = list(self.instance.needs.values_list("pk", flat=True))
        for name in ("quantity", "unit_list_price", "unit_price", "unit_cost"):
            self.fields[name].widget.attrs.update({"inputmode": "decimal", "min": "0"})

    def clean(self):
        data = super().clean()
        list_price, price = data.get("unit_list_price"), data.get("unit_price")
        if list_price is not None and price is not None and price > list_price:
            self.add_error("unit_price", "The offered price is above the list price.")
        return data


class MilestoneForm(forms.ModelForm):
    class Meta:
        model = BuyerMilestone
        fields = ["title", "side", "required_for_decision", "due_date"]
        widgets = {"due_date": DateInput()}
        labels = {"required_for_decision": "Required to decide"}


class ActivityForm(forms.ModelForm):
    occurred_at = forms.DateTimeField(
        widget=DateTimeInput(), input_formats=DATETIME_INPUT_FORMATS, label="When"
    )

    class Meta:
        model = Activity
        fields = ["kind", "initiated_by", "occurred_at", "notes", "close_attempt", "senior_present"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 2})}
        labels = {
            "initiated_by": "Started by",
            "close_attempt": "I asked them to commit (close attempt)",
            "senior_present": "A senior person from our side was there",
        }

    def __init__(self, *args, **kwargs):
        initial = kwargs.setdefault("initial", {})
        initial.setdefault("occurred_at", now_for_input())
        initial.setdefault("kind", Activity.Kind.CALL)
        initial.setdefault("initiated_by", Activity.InitiatedBy.REP)
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = Activity.Kind.choices
        self.fields["initiated_by"].choices = Activity.InitiatedBy.choices
        self.fields["notes"].widget.attrs["placeholder"] = "What was said, in a line or two"
        for name in ("close_attempt", "senior_present"):
            self.fields[name].help_text = ""


class ConcessionForm(forms.ModelForm):
    no_exchange = forms.BooleanField(
        required=False, label="The buyer gives nothing in exchange (this will be flagged)"
    )

    class Meta:
        model = Concession
        fields = ["kind", "description", "amount", "cost_to_seller", "in_exchange_for"]
        widgets = {"kind": forms.RadioSelect}
        labels = {
            "amount": "Amount",
            "cost_to_seller": "Cost to us",
            "in_exchange_for": "What does the buyer give in exchange?",
        }
        help_texts = {
            "amount": "Price cut: money off the total. Value add: its value to the buyer.",
            "in_exchange_for": "A longer term, a case study, a reference call, signing earlier…",
            "cost_to_seller": "What it costs us; a value add counts in our cost.",
        }

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("kind", Concession.Kind.VALUE_ADD)
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [
            (Concession.Kind.VALUE_ADD, "Add value (support, training, services)"),
            (Concession.Kind.PRICE, "Cut the price"),
        ]
        self.fields["description"].widget.attrs["placeholder"] = "e.g. 6 extra months of support"

    def clean(self):
        data = super().clean()
        if (
            data.get("kind") == Concession.Kind.PRICE
            and not (data.get("in_exchange_for") or "").strip()
            and not data.get("no_exchange")
        ):
            self.add_error(
                "in_exchange_for",
                "A price cut should be traded: say what the buyer gives back, "
                "or tick “gives nothing in exchange”.",
            )
        return data


class CommitmentForm(forms.ModelForm):
    class Meta:
        model = Commitment
        fields = ["description", "due_date"]
        widgets = {"due_date": DateInput()}
        labels = {"description": "What we promised"}


class CommitmentStatusForm(forms.Form):
    status = forms.ChoiceField(choices=Commitment.Status.choices)


class DisclosureForm(forms.ModelForm):
    class Meta:
        model = Disclosure
        fields = ["kind", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}
        labels = {"description": "What we told the buyer"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = Disclosure.Kind.choices
        self.initial.setdefault("kind", Disclosure.Kind.LIMITATION)


class MilestoneToggleForm(forms.Form):
    completed = forms.BooleanField(required=False)
