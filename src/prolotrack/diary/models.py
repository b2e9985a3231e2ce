"""What patients record at home between sessions."""

from __future__ import annotations

from django.db import models

from prolotrack.accounts.models import Clinic
from prolotrack.patients.models import Patient


class DiaryEntry(models.Model):
    """One day's entry of a patient's pain diary.

    `pain` is the patient's pain now, 0-10, for their treated area (the highest when several
    areas are treated); it is what relief duration and the outcome numbers read.
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
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["entry_date", "id"]
        verbose_name_plural = "diary entries"
        indexes = [models.Index(fields=["patient", "entry_date"])]
        constraints = [
            models.CheckConstraint(name="diary_pain_range", condition=models.Q(pain__lte=10)),
        ]

    def __str__(self) -> str:
        return f"{self.entry_date}: pain {self.pain}"
