"""Patient forms: every field validated with a message that names it and its allowed range."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import forms
from django.utils import timezone

from prolotrack.accounts.models import CLINICIAN_ROLES, User
from prolotrack.core.rules.vocabulary import History, Symptom
from prolotrack.patients.models import (
    BREAK_GLASS_MINUTES,
    BREAK_GLASS_REASON_MAX,
    BREAK_GLASS_REASON_MIN,
    Allergy,
    Patient,
    Sex,
)


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


# The intake screening ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Question:
    """One yes/no question of the screening: the field it answers and the code it records."""

    field: str  # "symptoms", "history" or "infection_at_site"
    code: str
    label: str


@dataclass(frozen=True)
class QuestionGroup:
    key: str
    title: str
    hint: str
    questions: tuple[Question, ...]


def _symptom(code: Symptom, label: str) -> Question:
    return Question("symptoms", code.value, label)


def _history(code: History, label: str) -> Question:
    return Question("history", code.value, label)


# Every symptom and history item of the core vocabulary, in plain words (DOMAIN 3.1 low back,
# 3.2 neck, 2.3 infection at the site); a test checks that none is missing.
SCREENING_GROUPS = (
    QuestionGroup(
        "low_back",
        "Low back",
        "Signs of cauda equina syndrome or of a nerve root being squeezed.",
        (
            _symptom(
                Symptom.BLADDER_DYSFUNCTION,
                "New trouble passing urine, or not feeling when the bladder is full",
            ),
            _symptom(
                Symptom.BOWEL_DYSFUNCTION,
                "New loss of bowel control, or not feeling when the bowel is full",
            ),
            _symptom(
                Symptom.SADDLE_ANAESTHESIA,
                "Numbness between the legs, around the back passage or the genitals",
            ),
            _symptom(
                Symptom.BILATERAL_SCIATICA,
                "Sciatica down both legs, or spreading from one leg to both",
            ),
            _symptom(
                Symptom.PROGRESSIVE_WEAKNESS, "Weakness in the legs or arms that is getting worse"
            ),
        ),
    ),
    QuestionGroup(
        "neck",
        "Neck",
        "Signs of pressure on the spinal cord, or of meningitis.",
        (
            _symptom(Symptom.GAIT_DISTURBANCE, "New unsteady walking or poor balance"),
            _symptom(
                Symptom.HAND_CLUMSINESS, "New clumsy hands: dropping things, trouble with buttons"
            ),
            _symptom(
                Symptom.SEVERE_HEADACHE_NECK_STIFFNESS,
                "Severe headache with a stiff neck, worse when bending the head forward",
            ),
        ),
    ),
    QuestionGroup(
        "general",
        "General",
        "Signs of infection, cancer or a fracture, and infection where the needle would go.",
        (
            _symptom(Symptom.FEVER, "Fever or chills, or feeling generally unwell"),
            _symptom(Symptom.UNEXPLAINED_WEIGHT_LOSS, "Weight loss without trying"),
            _symptom(Symptom.NIGHT_PAIN, "Constant pain at night that rest does not ease"),
            _history(History.CANCER, "Has had cancer"),
            _history(
                History.MAJOR_TRAUMA, "Recent major injury, such as a fall from a height or a crash"
            ),
            _history(History.OSTEOPOROSIS, "Osteoporosis (thin, fragile bones)"),
            _history(History.STEROID_USE, "Takes steroid tablets long-term, such as prednisone"),
            _history(History.IV_DRUG_USE, "Injects drugs"),
            _history(
                History.IMMUNOSUPPRESSION,
                "Weak immune system: HIV, chemotherapy or drugs that suppress immunity",
            ),
            Question(
                "infection_at_site",
                "yes",
                "Skin infection or open sores where the injections would go",
            ),
        ),
    ),
)


def _choices(field: str) -> list[tuple[str, str]]:
    return [
        (q.code, q.label) for group in SCREENING_GROUPS for q in group.questions if q.field == field
    ]


@dataclass(frozen=True)
class Checkbox:
    question: Question
    id: str
    checked: bool

    @property
    def name(self) -> str:
        return self.question.field


class ScreeningForm(forms.Form):
    """The intake screening: one checkbox per question, ticked for yes."""

    symptoms = forms.MultipleChoiceField(
        choices=_choices("symptoms"),
        required=False,
        error_messages={"invalid_choice": "%(value)s is not a symptom of the screening list."},
    )
    history = forms.MultipleChoiceField(
        choices=_choices("history"),
        required=False,
        error_messages={"invalid_choice": "%(value)s is not a history item of the screening list."},
    )
    infection_at_site = forms.BooleanField(required=False)
    notes = forms.CharField(
        label="Notes (optional)",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="For example when a symptom started, or the referral made.",
    )

    @property
    def groups(self) -> list[tuple[QuestionGroup, list[Checkbox]]]:
        """The questions by group, each with its input id and whether it is ticked."""
        answers: Mapping[str, Any] = self.data if self.is_bound else {}
        ticked: dict[str, set[str]] = {
            "symptoms": set(_getlist(answers, "symptoms")),
            "history": set(_getlist(answers, "history")),
            "infection_at_site": {"yes"} if answers.get("infection_at_site") else set(),
        }
        return [
            (
                group,
                [
                    Checkbox(q, f"id_{q.field}_{q.code}", q.code in ticked[q.field])
                    for q in group.questions
                ],
            )
            for group in SCREENING_GROUPS
        ]


def _getlist(data: Mapping[str, Any], key: str) -> list[str]:
    getlist = getattr(data, "getlist", None)
    if getlist is not None:
        return [str(v) for v in getlist(key)]
    value = data.get(key) or []
    return [str(v) for v in value] if isinstance(value, list | tuple) else [str(value)]


class BreakGlassForm(forms.Form):
    """The reason a practitioner gives to open the record of a patient outside their care."""

    reason = forms.CharField(
        label="Reason",
        min_length=BREAK_GLASS_REASON_MIN,
        max_length=BREAK_GLASS_REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=(
            f"Why you need this record now, in {BREAK_GLASS_REASON_MIN}-{BREAK_GLASS_REASON_MAX} "
            f"characters. It is kept in the audit trail and reviewed by the clinic; access ends "
            f"after {BREAK_GLASS_MINUTES} minutes."
        ),
        error_messages={
            "required": "Give the reason you need this record.",
            "min_length": (
                f"Give a reason of at least {BREAK_GLASS_REASON_MIN} characters that a "
                "reviewer can check."
            ),
            "max_length": f"Keep the reason to {BREAK_GLASS_REASON_MAX} characters at most.",
        },
    )
    next = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean_reason(self) -> str:
        reason = " ".join(self.cleaned_data["reason"].split())
        if len(reason) < BREAK_GLASS_REASON_MIN:
            raise forms.ValidationError(self.fields["reason"].error_messages["min_length"])
        return reason


class CareTeamForm(forms.Form):
    """Put a practitioner of the clinic on a patient's care team."""

    clinician = forms.ModelChoiceField(
        queryset=User.objects.none(),
        label="Practitioner",
        empty_label="Choose a practitioner",
        error_messages={
            "required": "Choose the practitioner to add.",
            "invalid_choice": "Choose a practitioner of this clinic who is not on the team yet.",
        },
    )

    def __init__(self, *args: Any, patient: Patient, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["clinician"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = (
            User.objects.filter(
                clinic_id=patient.clinic_id, role__in=CLINICIAN_ROLES, is_active=True
            )
            .exclude(care_memberships__patient=patient)
            .order_by("last_name", "first_name", "username")
        )
        field.label_from_instance = lambda user: user.display_name  # type: ignore[attr-defined]
