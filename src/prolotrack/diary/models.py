"""What patients record at home between sessions, the alerts it raises, and how they sign in."""

from __future__ import annotations

import datetime as dt
import hashlib

from django.db import models
from django.db.models import F

from prolotrack.accounts.models import Clinic, User
from prolotrack.core.reminders import DEFAULT_REMINDER_TIME
from prolotrack.core.triage import Level, SideEffect
from prolotrack.ops.scoping import clinic_manager
from prolotrack.patients.models import Patient
from prolotrack.treatment.models import TreatmentSeries

SIDE_EFFECT_CODES = [s.value for s in SideEffect]
# PGIC, 7 points (DOMAIN 4.3): 1 = very much improved ... 4 = no change ... 7 = very much worse.
PGIC_CHOICES = [
    (1, "Very much improved"),
    (2, "Much improved"),
    (3, "Minimally improved"),
    (4, "No change"),
    (5, "Minimally worse"),
    (6, "Much worse"),
    (7, "Very much worse"),
]
# PSFS (DOMAIN 4.4): up to 3 activities of the patient's own, each 0 (unable) to 10 (as before).
PSFS_MAX_ACTIVITIES = 3


class DiaryEntry(models.Model):
    """One entry of a patient's pain diary.

    `pain` is the patient's pain now, 0-10, for their treated area (the highest when several
    areas are treated); it is what relief duration and the outcome numbers read. The pain of
    each treated area (an active series) is in `area_pains`.
    """

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="diary_entries")
    entry_date = models.DateField(help_text="The day the entry is about, in the patient's zone.")
    pain = models.PositiveSmallIntegerField(help_text="Pain now, 0 = none, 10 = worst imaginable.")
    pain_back = models.BooleanField(
        null=True,
        blank=True,
        help_text="Is the pain back to where it was before the last session? Empty if not asked.",
    )
    side_effects = models.JSONField(
        default=list, blank=True, help_text="Side-effect codes (core.triage.SideEffect)."
    )
    note = models.TextField(blank=True, max_length=2000)
    pgic = models.PositiveSmallIntegerField(
        null=True, blank=True, choices=PGIC_CHOICES, help_text="PGIC 1-7 (DOMAIN 4.3)."
    )
    psfs = models.JSONField(
        default=list,
        blank=True,
        help_text='PSFS activities and scores, [{"activity": "...", "score": 0-10}] (DOMAIN 4.4).',
    )
    # A phone on a flaky connection may send the same form twice: the key of the rendered form
    # makes the second one find the first instead of storing a copy (RELIABILITY.md T24).
    idempotency_key = models.CharField(max_length=64, blank=True, default="")
    submitted_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    # Its queries need the clinic's scope (ops.scoping).
    objects = clinic_manager()

    class Meta:
        ordering = ["entry_date", "id"]
        verbose_name_plural = "diary entries"
        indexes = [models.Index(fields=["patient", "entry_date"])]
        constraints = [
            models.CheckConstraint(name="diary_pain_range", condition=models.Q(pain__lte=10)),
            models.CheckConstraint(
                name="diary_pgic_range",
                condition=models.Q(pgic__isnull=True) | models.Q(pgic__gte=1, pgic__lte=7),
            ),
            # Imported rows (registry, demo) carry no key; every submitted form does.
            models.UniqueConstraint(
                fields=["patient", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="diary_entry_idempotency_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.entry_date}: pain {self.pain}"

    @property
    def side_effect_codes(self) -> list[SideEffect]:
        return [SideEffect(code) for code in self.side_effects if code in SIDE_EFFECT_CODES]

    @property
    def side_effect_labels(self) -> list[str]:
        return [SideEffect(code).label for code in self.side_effects if code in SIDE_EFFECT_CODES]

    @property
    def psfs_mean(self) -> float | None:
        """The PSFS score: the mean of the activity scores (DOMAIN 4.4)."""
        scores = [item["score"] for item in self.psfs or []]
        return round(sum(scores) / len(scores), 1) if scores else None


class DiaryAreaPain(models.Model):
    """The pain of one treated area (one series) in a diary entry."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    entry = models.ForeignKey(DiaryEntry, on_delete=models.CASCADE, related_name="area_pains")
    series = models.ForeignKey(TreatmentSeries, on_delete=models.CASCADE, related_name="+")
    pain = models.PositiveSmallIntegerField()

    # Its queries need the clinic's scope (ops.scoping).
    objects = clinic_manager()

    class Meta:
        ordering = ["series_id"]
        constraints = [
            models.UniqueConstraint(fields=["entry", "series"], name="diary_area_unique"),
            models.CheckConstraint(name="diary_area_pain_range", condition=models.Q(pain__lte=10)),
        ]

    def __str__(self) -> str:
        return f"series {self.series_id}: {self.pain}"


ALERT_LEVELS = [(level.value, level.value.title()) for level in Level if level.alerts_clinic]


class AlertQuerySet(models.QuerySet["Alert"]):
    def for_clinic(self, clinic_id: int) -> AlertQuerySet:
        return self.filter(clinic_id=clinic_id)

    def board_order(self) -> AlertQuerySet:
        """Unacknowledged first, then newest first."""
        return self.order_by(F("acknowledged_at").asc(nulls_first=True), "-created_at", "-id")

    def open(self) -> AlertQuerySet:
        return self.filter(acknowledged_at__isnull=True)


class Alert(models.Model):
    """A triage finding on a diary entry that the clinic must act on, until acknowledged."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="diary_alerts")
    entry = models.ForeignKey(DiaryEntry, on_delete=models.CASCADE, related_name="alerts")
    level = models.CharField(max_length=16, choices=ALERT_LEVELS)
    rule_code = models.CharField(max_length=64, help_text="The core.triage rule that fired.")
    source = models.CharField(max_length=32, help_text="The rule's source key (domain reference).")
    message = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    acknowledged_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_note = models.TextField(blank=True)

    objects = clinic_manager(AlertQuerySet)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                name="alert_level_valid",
                condition=models.Q(level__in=[value for value, _ in ALERT_LEVELS]),
            ),
            models.CheckConstraint(
                # Acknowledged with a note, or not at all.
                name="alert_ack_complete",
                condition=models.Q(acknowledged_at__isnull=True, acknowledged_note="")
                | (models.Q(acknowledged_at__isnull=False) & ~models.Q(acknowledged_note="")),
            ),
        ]
        indexes = [
            # The alert board: one clinic's alerts, open first, newest first.
            models.Index(
                fields=["clinic", "acknowledged_at", "-created_at"], name="alert_board_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.level} {self.rule_code} ({self.created_at:%Y-%m-%d})"

    @property
    def is_open(self) -> bool:
        return self.acknowledged_at is None


class ClinicDiarySettings(models.Model):
    """A clinic's diary choices: where alerts go, when reminders go out, its after-care advice."""

    clinic = models.OneToOneField(Clinic, on_delete=models.CASCADE, related_name="diary_settings")
    alert_email = models.EmailField(
        blank=True,
        help_text="Where diary alerts are sent. Empty: to the clinic's practitioners' addresses.",
    )
    reminder_time = models.TimeField(
        default=DEFAULT_REMINDER_TIME,
        help_text="The daily diary reminder, in the clinic's time zone (default 20:00).",
    )
    reminders_enabled = models.BooleanField(default=True)
    aftercare_advice = models.TextField(
        blank=True,
        max_length=1000,
        help_text="The clinic's own after-care advice, shown with the reassurance about expected "
        "soreness. Empty: a general text.",
    )

    # Its queries need the clinic's scope (ops.scoping).
    objects = clinic_manager()

    class Meta:
        verbose_name_plural = "clinic diary settings"

    def __str__(self) -> str:
        return f"Diary settings of clinic {self.clinic_id}"

    @classmethod
    def for_clinic(cls, clinic: Clinic) -> ClinicDiarySettings:
        """The clinic's settings, or unsaved defaults."""
        found = cls.objects.filter(clinic=clinic).first()
        return found or cls(clinic=clinic)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class SignInLinkQuerySet(models.QuerySet["SignInLink"]):
    def usable(self, now: dt.datetime) -> SignInLinkQuerySet:
        return self.filter(used_at__isnull=True, expires_at__gt=now)


class SignInLink(models.Model):
    """A one-time sign-in link sent to a patient by email. Only its SHA-256 is stored."""

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    invited_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    # A credential, found before anyone is signed in: outside the clinic scope (ops.rls.EXEMPT).
    objects = SignInLinkQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="sign_in_link_expires_after_creation",
                condition=models.Q(expires_at__gt=F("created_at")),
            ),
        ]

    def __str__(self) -> str:
        return f"Sign-in link for user {self.user_id}"


class ReminderSent(models.Model):
    """One reminder per patient per local day, whatever retries the job runner makes."""

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    sent_at = models.DateTimeField(auto_now_add=True)

    # Its queries need the clinic's scope (ops.scoping).
    objects = clinic_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["patient", "day"], name="reminder_once_a_day"),
        ]

    def __str__(self) -> str:
        return f"Reminder to patient {self.patient_id} for {self.day}"
