"""The charting heart: treatment series, sessions, injections, algometer readings, adverse events.

Ranges are enforced twice: by forms and services with messages that name the field, and by
database check constraints so that no path (admin, shell, import) can store an impossible value.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models

from prolotrack.accounts.models import Clinic, User
from prolotrack.core import units
from prolotrack.core.catalog import Depth, Modality, Side
from prolotrack.ops.scoping import clinic_manager
from prolotrack.patients.models import Condition, Patient

MODALITY_CHOICES = [(m.value, m.label) for m in Modality]
SIDE_CHOICES = [(s.value, s.value.title()) for s in Side]
DEPTH_CHOICES = [(d.value, d.label) for d in Depth]


class SeriesStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    ACTIVE = "active", "Active"
    COMPLETED = "completed", "Completed"
    STOPPED = "stopped", "Stopped"


class TreatmentSeries(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="series")
    condition = models.ForeignKey(
        Condition, on_delete=models.SET_NULL, null=True, blank=True, related_name="series"
    )
    modality = models.CharField(max_length=16, choices=MODALITY_CHOICES)
    region = models.CharField(max_length=32, help_text="A body region of the catalog.")
    planned_sessions = models.PositiveSmallIntegerField(
        help_text="Neural: 4-8 typical; classic: up to about 12 (DOMAIN 1.1, 1.2)."
    )
    planned_interval_days = models.PositiveSmallIntegerField(
        help_text="Neural: about 7 days; classic: every 14-42 days (DOMAIN 1.1, 1.2)."
    )
    status = models.CharField(
        max_length=16, choices=SeriesStatus.choices, default=SeriesStatus.ACTIVE
    )
    started_on = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)

    # Its queries need the clinic's scope (ops.scoping).
    objects = clinic_manager()

    class Meta:
        ordering = ["-started_on", "-id"]
        verbose_name_plural = "treatment series"
        constraints = [
            models.CheckConstraint(
                name="series_modality_valid",
                condition=models.Q(modality__in=[m.value for m in Modality]),
            ),
            models.CheckConstraint(
                name="series_planned_sessions_range",
                condition=models.Q(planned_sessions__gte=1, planned_sessions__lte=30),
            ),
            models.CheckConstraint(
                name="series_interval_range",
                condition=models.Q(planned_interval_days__gte=1, planned_interval_days__lte=180),
            ),
        ]

    def __str__(self) -> str:
        return f"{Modality(self.modality).label}, {self.region}"


class Session(models.Model):
    """One treatment visit. Once signed it is never edited, only amended."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    series = models.ForeignKey(TreatmentSeries, on_delete=models.PROTECT, related_name="sessions")
    performed_at = models.DateTimeField()
    practitioner = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    pain_before = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="0 = no pain, 10 = worst pain imaginable."
    )
    pain_after = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Pain about 15 minutes after the injections, 0-10."
    )
    pgic = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="Patient Global Impression of Change at this visit, 1-7: 1 = very much "
        "improved, 4 = no change, 7 = very much worse (DOMAIN 4.4).",
    )
    notes = models.TextField(blank=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    # A physician's override of the findings that block this session (DOMAIN 3.2, "Software
    # rule": a hard stop until a clinician documents the referral or override).
    override_reason = models.TextField(blank=True)
    override_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    override_at = models.DateTimeField(null=True, blank=True)
    override_codes = models.JSONField(
        default=list, blank=True, help_text="The codes of the blocking findings overridden."
    )

    # Its queries need the clinic's scope (ops.scoping).
    objects = clinic_manager()

    class Meta:
        ordering = ["performed_at", "id"]
        constraints = [
            models.CheckConstraint(
                # An override is whole (who, when, why) or absent.
                name="session_override_complete",
                condition=models.Q(
                    override_by__isnull=True, override_at__isnull=True, override_reason=""
                )
                | (
                    models.Q(override_by__isnull=False, override_at__isnull=False)
                    & ~models.Q(override_reason="")
                ),
            ),
            models.CheckConstraint(
                name="session_pgic_range",
                condition=models.Q(pgic__isnull=True) | models.Q(pgic__gte=1, pgic__lte=7),
            ),
            models.CheckConstraint(
                name="session_pain_before_range",
                condition=models.Q(pain_before__isnull=True) | models.Q(pain_before__lte=10),
            ),
            models.CheckConstraint(
                name="session_pain_after_range",
                condition=models.Q(pain_after__isnull=True) | models.Q(pain_after__lte=10),
            ),
            models.CheckConstraint(
                name="session_signed_by_with_signed_at",
                condition=models.Q(signed_at__isnull=True, signed_by__isnull=True)
                | models.Q(signed_at__isnull=False, signed_by__isnull=False),
            ),
        ]
        indexes = [
            # A series' timeline and the outcome queries walk sessions in date order.
            models.Index(fields=["series", "performed_at"], name="session_series_date_idx"),
        ]

    def __str__(self) -> str:
        return f"Session on {self.performed_at:%Y-%m-%d}"

    @property
    def is_signed(self) -> bool:
        return self.signed_at is not None

    @property
    def is_overridden(self) -> bool:
        return self.override_at is not None


class SessionAmendment(models.Model):
    """A dated addition to a signed session by its author; the original stays as it was."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    session = models.ForeignKey(Session, on_delete=models.PROTECT, related_name="amendments")
    author = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    # Its queries need the clinic's scope (ops.scoping).
    objects = clinic_manager()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Amendment of {self.created_at:%Y-%m-%d %H:%M}"


class Injection(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="injections")
    position = models.PositiveSmallIntegerField(default=0)
    site = models.CharField(max_length=64, help_text="A site code of the catalog.")
    side = models.CharField(max_length=8, choices=SIDE_CHOICES)
    depth = models.CharField(max_length=16, choices=DEPTH_CHOICES)
    dextrose_pct = models.DecimalField(max_digits=4, decimal_places=1, default=Decimal("5.0"))
    lidocaine_pct = models.DecimalField(max_digits=4, decimal_places=2, default=Decimal("0"))
    mannitol_pct = models.DecimalField(max_digits=4, decimal_places=1, default=Decimal("0"))
    epinephrine = models.BooleanField(default=False)
    volume_ml = models.DecimalField(max_digits=4, decimal_places=2)
    needle_gauge = models.PositiveSmallIntegerField()
    lot = models.CharField(max_length=64, blank=True, help_text="Lot number of the solution.")

    # Its queries need the clinic's scope (ops.scoping).
    objects = clinic_manager()

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(
                name="injection_volume_range",
                condition=models.Q(volume_ml__gt=0, volume_ml__lte=20),
            ),
            models.CheckConstraint(
                name="injection_dextrose_range",
                condition=models.Q(dextrose_pct__gte=0, dextrose_pct__lte=50),
            ),
            models.CheckConstraint(
                name="injection_lidocaine_range",
                condition=models.Q(lidocaine_pct__gte=0, lidocaine_pct__lte=2),
            ),
            models.CheckConstraint(
                name="injection_mannitol_range",
                condition=models.Q(mannitol_pct__gte=0, mannitol_pct__lte=20),
            ),
            models.CheckConstraint(
                name="injection_needle_range",
                condition=models.Q(needle_gauge__gte=18, needle_gauge__lte=33),
            ),
            models.CheckConstraint(
                name="injection_side_valid",
                condition=models.Q(side__in=[s.value for s in Side]),
            ),
            models.CheckConstraint(
                name="injection_depth_valid",
                condition=models.Q(depth__in=[d.value for d in Depth]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.site} ({self.side}), {self.volume_ml} ml"


class Phase(models.TextChoices):
    BASELINE = "baseline", "Before"
    ONE_MIN = "1min", "1 minute after"
    FIFTEEN_MIN = "15min", "15 minutes after"


UNIT_CHOICES = [("kg/cm2", "kg/cm²"), ("N/cm2", "N/cm²"), ("kPa", "kPa")]


class AlgometerReading(models.Model):
    """A pressure-pain threshold, stored canonically in kPa with the entered value and unit kept."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="readings")
    site = models.CharField(max_length=64)
    side = models.CharField(max_length=8, choices=SIDE_CHOICES)
    phase = models.CharField(max_length=8, choices=Phase.choices)
    value = models.DecimalField(max_digits=7, decimal_places=2, help_text="As entered.")
    unit = models.CharField(max_length=8, choices=UNIT_CHOICES)
    value_kpa = models.FloatField()

    # Its queries need the clinic's scope (ops.scoping).
    objects = clinic_manager()

    class Meta:
        ordering = ["site", "side", "phase"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "site", "side", "phase"], name="reading_unique_per_phase"
            ),
            models.CheckConstraint(
                # 0-20 kg/cm2, the range of a hand-held algometer (DOMAIN 4.1), in kPa.
                name="reading_kpa_range",
                condition=models.Q(value_kpa__gte=0, value_kpa__lte=units.MAX_PPT_KPA),
            ),
            models.CheckConstraint(
                name="reading_phase_valid", condition=models.Q(phase__in=Phase.values)
            ),
            models.CheckConstraint(
                name="reading_unit_valid",
                condition=models.Q(unit__in=[u.value for u in units.PressureUnit]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.site} {self.side} {self.phase}: {self.value} {self.unit}"

    @property
    def kg_cm2(self) -> float:
        return units.kpa_to_kg_cm2(self.value_kpa)


class AdverseEvent(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="adverse_events")
    category = models.CharField(
        max_length=64, help_text="An adverse-event category of the catalog."
    )
    serious = models.BooleanField(
        default=False, help_text="Hospitalisation or permanent injury (DOMAIN 2.4)."
    )
    onset = models.DateField()
    resolved_on = models.DateField(null=True, blank=True)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    # Its queries need the clinic's scope (ops.scoping).
    objects = clinic_manager()

    class Meta:
        ordering = ["onset", "id"]
        constraints = [
            models.CheckConstraint(
                name="adverse_event_resolution_after_onset",
                condition=models.Q(resolved_on__isnull=True)
                | models.Q(resolved_on__gte=models.F("onset")),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.category} on {self.onset}"
