"""Forms of the rep pages. They validate input only; the services in deals.services write."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from deals.models import (
    Activity,
    BuyerMilestone,
    Commitment,
    Concession,
    Contact,
    Deal,
    Disclosure,
    LineItem,
    Need,
    Prospect,
)
from deals.visibility import prospect_scope_q

DATETIME_INPUT_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%dT%H:%M")


def _now_for_input():
    return timezone.localtime().replace(second=0, microsecond=0)


IMPORTANCE_CHOICES = [
    (5, "5 · critical"),
    (4, "4 · important"),
    (3, "3 · matters"),
    (2, "2 · minor"),
    (1, "1 · nice to have"),
]


# ---------------------------------------------------------------------------------------
# Deal list filters


class DealFilterForm(forms.Form):
    SORTS = {
        "updated": ("-updated_at", "-id"),
        "title": ("title", "id"),
        "-title": ("-title", "-id"),
        "net": ("net_total", "id"),
        "-net": ("-net_total", "-id"),
        "close": ("expected_close_date", "id"),
        "-close": ("-expected_close_date", "-id"),
        "flags": ("open_flag_count", "id"),
        "-flags": ("-open_flag_count", "-id"),
        "contact": ("last_buyer_contact_at", "id"),
        "-contact": ("-last_buyer_contact_at", "-id"),
        "stage": ("stage", "id"),
        "-stage": ("-stage", "-id"),
        # Days in stage: fewest first is the latest stage change first.
        "days": ("-stage_changed_at", "id"),
        "-days": ("stage_changed_at", "-id"),
    }
    PAGE_SIZES = (10, 25, 50, 100)

    q = forms.CharField(required=False, max_length=100, label="Search")
    stage = forms.ChoiceField(
        required=False, choices=[("", "All stages"), ("open", "All open"), *Deal.Stage.choices]
    )
    balance = forms.ChoiceField(
        required=False,
        choices=[("", "Any balance"), *Deal.Balance.choices, ("pending", "Not scored yet")],
    )
    sort = forms.ChoiceField(required=False, choices=[(k, k) for k in SORTS])
    per_page = forms.TypedChoiceField(
        required=False,
        coerce=int,
        choices=[(n, n) for n in PAGE_SIZES],
        empty_value=25,  # type: ignore[arg-type]  # coerce=int: the empty value is a size
        initial=25,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs.update(
            {"placeholder": "Deal or prospect…", "type": "search", "autocomplete": "off"}
        )

    def filters(self) -> dict[str, str | list[str]]:
        """The choices as the deal list API's filter parameters (selectors.deal_list applies
        them); invalid values are left out, so a list never errors."""
        data = self.cleaned_data if self.is_valid() else {}
        params: dict[str, str | list[str]] = {}
        if q := (data.get("q") or "").strip():
            params["q"] = q
        stage = data.get("stage")
        if stage == "open":
            params["is_open"] = "true"
        elif stage:
            params["stage"] = [stage]
        balance = data.get("balance")
        if balance == "pending":
            params["scored"] = "false"
        elif balance:
            params["balance"] = [balance]
        return params

    @property
    def ordering(self) -> tuple[str, ...]:
        return self.SORTS[self.current_sort]

    @property
    def current_sort(self) -> str:
        return (self.cleaned_data.get("sort") if self.is_valid() else "") or "updated"

    @property
    def page_size(self) -> int:
        return (self.cleaned_data.get("per_page") if self.is_valid() else None) or 25


# ---------------------------------------------------------------------------------------
# New prospect + deal


class DealCreateForm(forms.Form):
    prospect = forms.ModelChoiceField(
        queryset=Prospect.objects.none(),
        required=False,
        empty_label="— New prospect —",
        label="Prospect",
        help_text="Pick one of your team's prospects, or leave on “New prospect”.",
    )
    prospect_name = forms.CharField(required=False, max_length=200, label="New prospect name")
    prospect_industry = forms.CharField(required=False, max_length=100, label="Industry")
    prospect_size = forms.ChoiceField(
        required=False, choices=[("", "—"), *Prospect.Size.choices], label="Size"
    )
    contact_name = forms.CharField(required=False, max_length=200, label="Name")
    contact_title = forms.CharField(required=False, max_length=200, label="Job title")
    contact_email = forms.EmailField(required=False, label="Email")
    contact_role = forms.ChoiceField(
        required=False,
        choices=Contact.BuyingRole.choices,
        initial=Contact.BuyingRole.CHAMPION,
        label="Buying role",
    )
    title = forms.CharField(max_length=200, label="Deal title")
    expected_close_date = forms.DateField(
        required=False,
        widget=DateInput(),
        label="Expected close",
        help_text="Your forecast of when the buyer will decide.",
    )
    currency = forms.CharField(max_length=3, initial="USD", label="Currency")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["prospect"].queryset = Prospect.objects.filter(prospect_scope_q(user)).order_by(
            "name"
        )
        self.fields["title"].widget.attrs["placeholder"] = "e.g. Onboarding automation, 50 seats"
        self.fields["prospect_name"].widget.attrs["placeholder"] = "The buying organisation"
        # The cursor starts in the form's first field: the prospect picker.
        self.fields["prospect"].widget.attrs["autofocus"] = True
        self.fields["currency"].widget.attrs.update({"maxlength": 3, "style": "max-width:6rem"})

    def clean_currency(self):
        currency = self.cleaned_data["currency"].strip().upper()
        if len(currency) != 3 or not currency.isalpha():
            raise ValidationError("Use a three-letter ISO code such as USD or EUR.")
        return currency

    def clean(self):
        data = super().clean()
        prospect, name = data.get("prospect"), (data.get("prospect_name") or "").strip()
        if prospect is None and not name and "prospect" not in self.errors:
            self.add_error("prospect_name", "Name the new prospect, or pick an existing one.")
        if prospect is not None and name:
            self.add_error(
                "prospect_name",
                "You picked an existing prospect; clear this name or choose “New prospect”.",
            )
        if (data.get("contact_title") or data.get("contact_email")) and not data.get(
            "contact_name"
        ):
            self.add_error("contact_name", "Give the contact's name.")
        return data


# ---------------------------------------------------------------------------------------
# Discovery call: one form, three repeatable row sets


class DiscoveryCallForm(forms.Form):
    held_at = forms.DateTimeField(
        widget=DateTimeInput(), input_formats=DATETIME_INPUT_FORMATS, label="When"
    )
    attendees = forms.ModelMultipleChoiceField(
        queryset=Contact.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Who was on the call",
    )
    summary = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}), label="Summary"
    )
    next_step = forms.CharField(
        required=False,
        max_length=300,
        label="Agreed next step",
        help_text="What the buyer said they will do next.",
    )

    def __init__(self, *args, deal, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("held_at", _now_for_input())
        super().__init__(*args, **kwargs)
        self.fields["attendees"].queryset = Contact.objects.filter(prospect_id=deal.prospect_id)
        self.fields["summary"].widget.attrs["placeholder"] = (
            "What did you learn about how they work and decide?"
        )
        self.fields["held_at"].widget.attrs["autofocus"] = True  # the form's first field
        self.fields["next_step"].widget.attrs["placeholder"] = (
            "e.g. They send the security questionnaire by Friday"
        )

    def clean_held_at(self):
        held_at = self.cleaned_data["held_at"]
        if held_at > timezone.now() + timezone.timedelta(days=1):
            raise ValidationError("A discovery call is logged after it happens.")
        return held_at


class NewAttendeeForm(forms.Form):
    name = forms.CharField(max_length=200, label="Name")
    title = forms.CharField(max_length=200, required=False, label="Job title")
    buying_role = forms.ChoiceField(
        choices=Contact.BuyingRole.choices, initial=Contact.BuyingRole.INFLUENCER, label="Role"
    )


class NeedRowForm(forms.Form):
    kind = forms.ChoiceField(choices=Need.Kind.choices, initial=Need.Kind.PROBLEM, label="Kind")
    statement = forms.CharField(
        max_length=1000,
        label="In the buyer's words",
        widget=forms.TextInput(attrs={"placeholder": "e.g. Onboarding a customer takes 3 weeks"}),
    )
    importance = forms.TypedChoiceField(
        coerce=int, choices=IMPORTANCE_CHOICES, initial=3, label="Importance"
    )
    confirmed_by_buyer = forms.BooleanField(required=False, label="Buyer confirmed")


class MilestoneRowForm(forms.Form):
    title = forms.CharField(
        max_length=200,
        label="Milestone",
        widget=forms.TextInput(attrs={"placeholder": "e.g. Security review"}),
    )
    side = forms.ChoiceField(
        choices=BuyerMilestone.Side.choices, initial=BuyerMilestone.Side.BUYER, label="Side"
    )
    required_for_decision = forms.BooleanField(
        required=False, initial=True, label="Required to decide"
    )
    due_date = forms.DateField(required=False, widget=DateInput(), label="Due")


def _row_formset(form_class, extra):
    return forms.formset_factory(form_class, extra=extra, max_num=30, validate_max=True)


NewAttendeeFormSet = _row_formset(NewAttendeeForm, extra=0)
NeedRowFormSet = _row_formset(NeedRowForm, extra=2)
MilestoneRowFormSet = _row_formset(MilestoneRowForm, extra=1)


def changed_rows(formset) -> list[dict]:
    """The cleaned data of the rows the user filled in (untouched blank rows are skipped)."""
    return [
        form.cleaned_data
        for form in formset.forms
        if form.has_changed() and form.cleaned_data and not form.cleaned_data.get("DELETE")
    ]


# ---------------------------------------------------------------------------------------
# Inline forms on the deal page


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
        initial.setdefault("occurred_at", _now_for_input())
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
