"""Patients, their screening facts and their conditions."""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from prolotrack.accounts.models import Clinic, User
from prolotrack.core.catalog import Side
from prolotrack.core.rules.vocabulary import History, Symptom, in_order
from prolotrack.ops.scoping import clinic_manager


class Sex(models.TextChoices):
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    OTHER = "other", "Other"
    UNKNOWN = "unknown", "Unknown"


class Allergy(models.TextChoices):
    """Allergies that change what may be injected (DOMAIN 2.2 and 2.3)."""

    CORN = "corn", "Corn (dextrose is usually corn-derived)"
    LOCAL_ANAESTHETIC = "local_anaesthetic", "Local anaesthetic (lidocaine)"


class PatientQuerySet(models.QuerySet["Patient"]):
    def for_clinic(self, clinic: Clinic) -> PatientQuerySet:
        return self.filter(clinic=clinic)

    def search(self, text: str) -> PatientQuerySet:
        """Patients whose name or chart number contains every word of ``text``."""
        qs = self
        for word in text.split()[:5]:
            qs = qs.filter(
                models.Q(family_name__icontains=word)
                | models.Q(given_name__icontains=word)
                | models.Q(chart_number__icontains=word)
            )
        return qs


class Patient(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="patients")
    chart_number = models.CharField(max_length=32, help_text="The clinic's own patient number.")
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    birth_date = models.DateField()
    sex = models.CharField(max_length=16, choices=Sex.choices, default=Sex.UNKNOWN)
    weight_kg = models.DecimalField(
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        help_text="Needed for the lidocaine dose limit (mg per kg).",
    )
    diabetes = models.BooleanField(default=False)
    anticoagulant = models.BooleanField(
        default=False, help_text="Warfarin, heparins, DOACs, clopidogrel and similar."
    )
    bleeding_disorder = models.BooleanField(default=False)
    pregnant = models.BooleanField(default=False)
    allergies = models.JSONField(default=list, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=32, blank=True)
    user = models.OneToOneField(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="patient_record",
        help_text="The patient's own sign-in, for the diary.",
    )
    # The clinicians who treat this patient and so open their clinical pages; anyone else of
    # the clinic breaks the glass first (patients.access, patients.break_glass).
    care_team = models.ManyToManyField(
        User,
        through="CareTeamMember",
        through_fields=("patient", "user"),
        related_name="care_patients",
        blank=True,
    )
    # Optimistic locking: every change bumps it; a save with a stale version is refused.
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = clinic_manager(PatientQuerySet)

    class Meta:
        ordering = ["family_name", "given_name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["clinic", "chart_number"], name="patient_chart_number_unique"
            ),
            models.CheckConstraint(
                name="patient_weight_range",
                condition=models.Q(weight_kg__isnull=True)
                | models.Q(weight_kg__gte=1, weight_kg__lte=400),
            ),
            models.CheckConstraint(
                name="patient_sex_valid", condition=models.Q(sex__in=Sex.values)
            ),
        ]
        indexes = [
            # The patient list: a clinic's patients in name order, searched by name.
            models.Index(Lower("family_name"), "clinic", name="patient_clinic_name_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.family_name}, {self.given_name}"

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    def age_on(self, day: dt.date) -> int:
        years = day.year - self.birth_date.year
        if (day.month, day.day) < (self.birth_date.month, self.birth_date.day):
            years -= 1
        return years


class Condition(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="conditions")
    code = models.CharField(max_length=64, help_text="A condition code of the catalog.")
    region = models.CharField(max_length=32)
    side = models.CharField(
        max_length=16,
        choices=[(s.value, s.value.title()) for s in Side] + [("both", "Both")],
        blank=True,
    )
    onset = models.DateField(null=True, blank=True)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    # Its queries need the clinic's scope (ops.scoping).
    objects = clinic_manager()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.code


class ScreeningQuerySet(models.QuerySet["Screening"]):
    def latest_for(self, patient: Patient) -> Screening | None:
        """The patient's most recent screening: the one the safety rules read."""
        return self.filter(patient=patient).order_by("-recorded_at", "-id").first()


class Screening(models.Model):
    """The red-flag screening answers of one intake (DOMAIN 2.3 and 3), never edited.

    A new intake adds a new row, so the history of what was asked and answered stays; the
    latest row is the one the safety rules read. Codes are the core vocabulary's
    (``core.rules.vocabulary.Symptom`` and ``History``); ``screening_record`` refuses others.
    """

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="screenings")
    recorded_at = models.DateTimeField()
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    symptoms = models.JSONField(default=list, blank=True)
    history = models.JSONField(default=list, blank=True)
    infection_at_site = models.BooleanField(
        default=False, help_text="Skin infection or open sores where the injections would go."
    )
    notes = models.TextField(blank=True)

    objects = clinic_manager(ScreeningQuerySet)

    class Meta:
        ordering = ["-recorded_at", "-id"]
        indexes = [
            # ScreeningQuerySet.latest_for: the newest screening of one patient (chart, session
            # form, findings).
            models.Index(fields=["patient", "-recorded_at"], name="screening_patient_recent_idx"),
        ]

    def __str__(self) -> str:
        return f"Screening of {self.recorded_at:%Y-%m-%d}"

    @property
    def symptom_codes(self) -> tuple[Symptom, ...]:
        """The stored symptoms as vocabulary members, in the vocabulary's order."""
        return in_order(Symptom, (Symptom(c) for c in self.symptoms or []))

    @property
    def history_codes(self) -> tuple[History, ...]:
        return in_order(History, (History(c) for c in self.history or []))

    @property
    def is_clear(self) -> bool:
        """True when every answer was no."""
        return not (self.symptoms or self.history or self.infection_at_site)


class CareTeamMember(models.Model):
    """A clinician who has ``patient`` in their care, and who put them on the care team."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="care_members")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="care_memberships")
    added_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    added_at = models.DateTimeField(default=timezone.now)

    # Its queries need the clinic's scope (ops.scoping).
    objects = clinic_manager()

    class Meta:
        ordering = ["added_at", "id"]
        constraints = [
            # Also the index of the access check "is this user on this patient's team?".
            models.UniqueConstraint(fields=["patient", "user"], name="care_team_member_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} cares for {self.patient_id}"


# How long a break-glass grant opens a patient's record (RELIABILITY.md T22, issue 3 item 5).
BREAK_GLASS_MINUTES = 60
# The reason must say something: "emergency" alone is not a reason a reviewer can check.
BREAK_GLASS_REASON_MIN = 10
# The reason goes whole into the audit event's detail, which keeps 200 characters of a text.
BREAK_GLASS_REASON_MAX = 200


class BreakGlassGrantQuerySet(models.QuerySet["BreakGlassGrant"]):
    def active(self, now: dt.datetime) -> BreakGlassGrantQuerySet:
        """Grants that open their patient's record at ``now``."""
        return self.filter(created_at__lte=now, expires_at__gt=now)


class BreakGlassGrant(models.Model):
    """A clinician's emergency access to a patient outside their care, with its reason.

    The grant is also the clinic's notification: clinic administrators and auditors review
    every grant on the break-glass page of the audit trail.
    """

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="break_glass_grants")
    patient = models.ForeignKey(
        Patient, on_delete=models.CASCADE, related_name="break_glass_grants"
    )
    reason = models.CharField(max_length=BREAK_GLASS_REASON_MAX)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    objects = clinic_manager(BreakGlassGrantQuerySet)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                name="break_glass_expires_after_start",
                condition=models.Q(expires_at__gt=models.F("created_at")),
            ),
            models.CheckConstraint(name="break_glass_reason_given", condition=~models.Q(reason="")),
        ]
        indexes = [
            # The access check and audit_record(): this user's live grant on this patient.
            models.Index(
                fields=["user", "patient", "expires_at"], name="break_glass_user_patient_idx"
            ),
            # The review page: one clinic's grants, newest first.
            models.Index(fields=["clinic", "-created_at"], name="break_glass_clinic_recent_idx"),
        ]

    def __str__(self) -> str:
        return f"Break-glass of user {self.user_id} on patient {self.patient_id}"

    def is_active(self, now: dt.datetime) -> bool:
        return self.created_at <= now < self.expires_at
