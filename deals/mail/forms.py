from django import forms

from .sources import KINDS

# An mbox upload may hold many messages; each is still capped at 10 MB.
MAX_UPLOAD_BYTES = 50 * 1024 * 1024


class MailUploadForm(forms.Form):
    file = forms.FileField(
        label="Mail or calendar file",
        help_text="An .eml message, an .mbox mailbox or an .ics invite.",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        name = (upload.name or "").lower()
        if not name.endswith((*KINDS, ".mbx")):
            raise forms.ValidationError("Upload an .eml, .mbox or .ics file.")
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError("The file is larger than 50 MB.")
        return upload


class AssignForm(forms.Form):
    deal = forms.TypedChoiceField(coerce=int, label="Deal")

    def __init__(self, *args, deals=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["deal"].choices = [(d.id, f"{d.title}") for d in deals]
