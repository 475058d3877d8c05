"""Forms of the import pages: upload, then the mapping step (columns, stages, options)."""

from typing import Any

from django import forms
from django.conf import settings

from deals.models import ImportJob
from winwin_crm.accounts.models import Team

from . import parsing, profiles
from . import services as s


class _MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class _MultipleFileField(forms.FileField):
    """Several files in one input (Django's documented pattern)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", _MultipleFileInput(attrs={"accept": ".csv,text/csv"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data if d]
        return [single(data, initial)] if data else []


SOURCE_LABELS = [
    (profiles.AUTO, "Recognise it from the headers"),
    (profiles.GENERIC, "Another CRM or a spreadsheet (generic column names)"),
    *((code, profile.name) for code, profile in profiles.PROFILES.items()),
]


class UploadForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="The export of the CRM you are leaving (or a zip of its files): UTF-8 or "
        "Windows-1252, comma, semicolon or tab separated.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.zip,text/csv,application/zip"}),
    )
    more_files = _MultipleFileField(
        label="Files that belong to it (optional)",
        required=False,
        help_text="Organizations and people files of the same export, when the deals refer "
        "to them only by id: they are joined to the deals.",
    )
    source = forms.ChoiceField(
        label="Exported from", choices=SOURCE_LABELS, initial=profiles.AUTO, required=False
    )
    kind = forms.ChoiceField(
        label="What the file holds", choices=ImportJob.Kind.choices, initial=ImportJob.Kind.DEALS
    )
    team = forms.ModelChoiceField(label="Import into team", queryset=Team.objects.none())

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        teams = s.import_teams(user)
        self.fields["team"].queryset = teams
        if teams.count() == 1:
            self.fields["team"].initial = teams.first()

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = settings.IMPORT_MAX_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                f"The file is {parsing.size_label(upload.size)}; the largest file you can "
                f"import is {parsing.size_label(limit)}. Split it into smaller files."
            )
        return upload

    def clean_more_files(self):
        files = self.cleaned_data.get("more_files") or []
        limit = settings.IMPORT_MAX_BYTES
        total = sum(f.size for f in files)
        if total > limit:
            raise forms.ValidationError(
                f"The files are {parsing.size_label(total)}; the largest import is "
                f"{parsing.size_label(limit)}."
            )
        return files


IGNORE = ("", "— ignore this column —")


class MappingForm(forms.Form):
    """One select per file column, one per stage name in the file, and the options."""

    date_format = forms.ChoiceField(
        label="Dates in the file",
        choices=list(parsing.DATE_FORMATS.items()),
        help_text="ISO dates are always understood; 01/02/2026 needs a day-first or "
        "month-first choice.",
    )
    update_existing = forms.BooleanField(
        label="Update records that already exist (otherwise skip them)",
        required=False,
    )

    def __init__(
        self, *args: Any, job: ImportJob, headers: list[str], samples: dict, **kwargs: Any
    ) -> None:
        initial = {
            "date_format": job.date_format,
            "update_existing": job.update_existing,
            "default_owner": job.default_owner_id,
        }
        kwargs["initial"] = initial
        super().__init__(*args, **kwargs)
        self.job = job
        self.headers = headers
        choices = [IGNORE] + [
            (t.name, f"{t.label}{' (required)' if t.required else ''}")
            for t in parsing.TARGETS[job.kind]
        ]
        self.column_fields = []
        for index, header in enumerate(headers):
            name = f"col_{index}"
            self.fields[name] = forms.ChoiceField(
                label=header,
                choices=choices,
                required=False,
                initial=job.column_mapping.get(header, ""),
                help_text=samples.get(header, ""),
            )
            self.column_fields.append(name)
        stage_choices = [("", "— not mapped —"), *parsing.STAGE_LABELS.items()]
        self.stage_fields = []
        self.stage_values = list((job.stage_mapping or {}).items())
        for index, (value, code) in enumerate(self.stage_values):
            name = f"stage_{index}"
            self.fields[name] = forms.ChoiceField(
                label=value, choices=stage_choices, required=False, initial=code
            )
            self.stage_fields.append(name)
        if job.kind == ImportJob.Kind.DEALS:
            self.fields["default_owner"] = forms.ModelChoiceField(
                label="Default owner",
                queryset=s.team_reps(job.team),
                required=False,
                empty_label="— none: rows must name a rep of the team —",
                help_text="Owns the deals whose owner column matches no rep of the team.",
            )

    def column_mapping(self) -> dict[str, str]:
        return {
            header: self.cleaned_data.get(f"col_{index}") or ""
            for index, header in enumerate(self.headers)
        }

    def stage_mapping(self) -> dict[str, str]:
        return {
            value: self.cleaned_data.get(f"stage_{index}") or ""
            for index, (value, _code) in enumerate(self.stage_values)
        }

    def options(self) -> dict:
        options = {
            "date_format": self.cleaned_data["date_format"],
            "update_existing": self.cleaned_data["update_existing"],
        }
        if "default_owner" in self.fields:
            options["default_owner"] = self.cleaned_data.get("default_owner")
        return options


class CommitForm(forms.Form):
    on_error = forms.ChoiceField(
        label="If a row has an error",
        choices=ImportJob.OnError.choices,
        widget=forms.RadioSelect,
        initial=ImportJob.OnError.ABORT,
    )
