"""Registry imports with their source ids, and the per-session summary the outcome queries read.

``SessionOutcome`` is derived data: one row per session with what the outcome numbers need
(the session's local date, its series' modality and region, pain before, the mean immediate
change of the pressure-pain threshold and the relief duration from the diary). It is kept up to
date when sessions, readings or diary entries are written (``outcomes.summary``), so the
dashboard aggregates about one row per session instead of every reading and every diary entry.
``prolotrack outcomes --rebuild`` recomputes it from the records at any time.
"""

from __future__ import annotations

from django.db import models

from prolotrack.accounts.models import Clinic, User
from prolotrack.ops.scoping import clinic_manager
from prolotrack.patients.models import Patient
from prolotrack.treatment.models import Session


class RegistryImport(models.Model):
    """One `prolotrack import-registry` run: what came in, and when."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    folder = models.CharField(max_length=200, help_text="The imported folder's name.")
    imported_at = models.DateTimeField(auto_now_add=True)
    patients = models.PositiveIntegerField(default=0)
    sessions = models.PositiveIntegerField(default=0)
    readings = models.PositiveIntegerField(default=0)
    diary_entries = models.PositiveIntegerField(default=0)
    adverse_events = models.PositiveIntegerField(default=0)

    # Its queries need the clinic's scope (ops.scoping).
    objects = clinic_manager()

    class Meta:
        ordering = ["imported_at", "id"]

    def __str__(self) -> str:
        return f"Registry import {self.folder} ({self.imported_at:%Y-%m-%d})"


class SourceKind(models.TextChoices):
    PATIENT = "patient", "Patient"
    SESSION = "session", "Session"


class RegistrySource(models.Model):
    """The registry's own id of an imported patient or session, so an export can give it back
    and a second import of the same ids is refused."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    registry_import = models.ForeignKey(
        RegistryImport, on_delete=models.CASCADE, related_name="sources"
    )
    kind = models.CharField(max_length=16, choices=SourceKind.choices)
    source_id = models.CharField(max_length=64)
    object_id = models.BigIntegerField(help_text="The patient's or the session's id here.")

    # Its queries need the clinic's scope (ops.scoping).
    objects = clinic_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["clinic", "kind", "source_id"], name="registry_source_unique"
            ),
            models.CheckConstraint(
                name="registry_source_kind_valid", condition=models.Q(kind__in=SourceKind.values)
            ),
        ]
        indexes = [
            # The export of a record's source id: (kind, our id) -> the registry's id.
            models.Index(fields=["kind", "object_id"], name="registry_source_object_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.source_id}"


class SessionOutcome(models.Model):
    """What the outcome numbers read of one session (derived; see the module docstring)."""

    session = models.OneToOneField(
        Session, on_delete=models.CASCADE, primary_key=True, related_name="outcome"
    )
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="+")
    day = models.DateField(help_text="The session's date in the clinic's time zone.")
    period = models.CharField(max_length=7, help_text="Calendar quarter of the day: 2026-Q3.")
    modality = models.CharField(max_length=16)
    region = models.CharField(max_length=32)
    condition = models.CharField(max_length=64, blank=True)
    practitioner = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    pain_before = models.PositiveSmallIntegerField(null=True, blank=True)
    pairs_1min = models.PositiveSmallIntegerField(default=0)
    change_1min = models.FloatField(null=True, blank=True, help_text="Mean change, kg/cm2.")
    pairs_15min = models.PositiveSmallIntegerField(default=0)
    change_15min = models.FloatField(null=True, blank=True, help_text="Mean change, kg/cm2.")
    relief_days = models.PositiveIntegerField(null=True, blank=True)
    relief_event = models.BooleanField(
        null=True, blank=True, help_text="True: pain back at relief_days; False: censored."
    )

    # Its queries need the clinic's scope (ops.scoping).
    objects = clinic_manager()

    class Meta:
        indexes = [
            # outcomes.queries: a clinic's sessions in a date range, and each patient's sessions
            # in date order (baseline, latest, sessions to response).
            models.Index(fields=["clinic", "day"], name="session_outcome_clinic_day_idx"),
            models.Index(
                fields=["clinic", "patient", "day", "session"],
                name="session_outcome_patient_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"Outcome of session {self.session_id}"
