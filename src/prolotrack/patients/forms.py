"""Patient forms: every field validated with a message that names it and its allowed range."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import forms
from django.utils import timezone

from prolotrack.patients.models import Allergy, Patient, Sex


class LocalisedDecimalField(forms.DecimalField):
    """Accepts a comma as decimal separator, as typed on many keyboards (UX.md)."""

    def to_python(self, value: Any) -> Decimal | None:
        if isinstance(value, str):
            value = value.strip().replace(",", ".")
        return super().to_python(value)


class PatientForm(forms.ModelForm):
    weight_kg = LocalisedDecimalField(
        label="Weight (kg)",
        required=False,
        min_value=Decimal("1"),
        max_value=Decimal("400"),
        decimal_places=1,
        # A text box, not type=number: browsers refuse a typed comma in number inputs.
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
        help_text="Needed for the lidocaine dose limit (mg per kg). 1-400 kg.",
        error_messages={
            "min_value": "Weight must be between 1 and 400 kg.",
            "max_value": "Weight must be between 1 and 400 kg.",
        },
    )
    allergies = forms.MultipleChoiceField(
        choices=Allergy.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Allergies that change what may be injected.",
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Patient
        fields = [
            "chart_number",
            "given_name",
            "family_name",
            "birth_date",
            "sex",
            "weight_kg",
            "diabetes",
            "anticoagulant",
            "bleeding_disorder",
            "pregnant",
            "allergies",
            "email",
            "phone",
        ]
        widgets = {"birth_date": forms.DateInput(attrs={"type": "date"})}
        labels = {
            "chart_number": "Chart number",
            "anticoagulant": "Takes an anticoagulant",
            "bleeding_disorder": "Has a bleeding disorder",
            "pregnant": "Pregnant",
            "diabetes": "Diabetes",
        }

    def __init__(self, *args: Any, clinic: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.clinic = clinic
        self.fields["sex"].choices = Sex.choices
        if self.instance.pk:
            self.fields["version"].initial = self.instance.version

    def clean_birth_date(self) -> dt.date:
        value: dt.date = self.cleaned_data["birth_date"]
        today = timezone.localdate()
        if value > today:
            raise forms.ValidationError("The birth date cannot be in the future.")
        if value < today.replace(year=today.year - 120):
            raise forms.ValidationError("The birth date is more than 120 years ago.")
        return value

    def clean_chart_number(self) -> str:
        value: str = self.cleaned_data["chart_number"].strip()
        clash = Patient.objects.filter(clinic=self.clinic, chart_number=value)
        if self.instance.pk:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise forms.ValidationError("Another patient of this clinic has this chart number.")
        return value


class PatientSearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=100, label="Search patients")
