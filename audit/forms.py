"""Filter form of the audit pages."""

from __future__ import annotations

from django import forms
from django.core.validators import RegexValidator

from audit.actors import ActorKind
from audit.models import Outcome
from audit.selectors import AuditFilters


class AuditFilterForm(forms.Form):
    actor = forms.ChoiceField(
        required=False, choices=[("", "Anyone"), *ActorKind.choices], label="Actor"
    )
    action = forms.CharField(
        required=False,
        max_length=100,
        label="Action starts with",
        validators=[RegexValidator(r"^[a-z0-9_.]*$", "Lowercase letters, digits, _ and . only.")],
        widget=forms.TextInput(attrs={"placeholder": "e.g. kms_config."}),
    )
    since = forms.DateField(
        required=False, label="From (UTC)", widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        required=False, label="To (UTC)", widget=forms.DateInput(attrs={"type": "date"})
    )
    outcome = forms.ChoiceField(
        required=False, choices=[("", "Any"), *Outcome.choices], label="Outcome"
    )

    def filters(self) -> AuditFilters:
        """The validated filters; an invalid form filters nothing rather than failing."""
        if not self.is_valid():
            return AuditFilters()
        data = self.cleaned_data
        return AuditFilters(
            actor_kind=data["actor"],
            action_prefix=data["action"],
            since=data["since"],
            until=data["until"],
            outcome=data["outcome"],
        )


class CheckpointUploadForm(forms.Form):
    checkpoint = forms.FileField(label="Checkpoint file (.json)")

    def clean_checkpoint(self) -> bytes:
        upload = self.cleaned_data["checkpoint"]
        if upload.size > 16 * 1024:
            raise forms.ValidationError("A checkpoint is a small JSON file (under 16 KiB).")
        return bytes(upload.read())
