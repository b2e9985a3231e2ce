"""Clinics, the people who use prolotrack, and practitioners' professional details."""

from __future__ import annotations

import zoneinfo

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models

from prolotrack.ops.scoping import clinic_manager


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not a known time zone (for example America/Vancouver)")


class Clinic(models.Model):
    name = models.CharField(max_length=200, unique=True)
    time_zone = models.CharField(
        max_length=64,
        default="America/Vancouver",
        validators=[validate_time_zone],
        help_text="Dates and times are shown in this zone; they are stored in UTC.",
    )
    jurisdiction = models.CharField(
        max_length=16,
        default="CA-BC",
        help_text="Where the clinic practises, as an ISO 3166-2 code such as CA-BC or US-ND.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    PHYSICIAN = "physician", "Physician"
    NATUROPATHIC_DOCTOR = "naturopathic_doctor", "Naturopathic doctor"
    NURSE_PRACTITIONER = "nurse_practitioner", "Nurse practitioner"
    FRONT_DESK = "front_desk", "Front desk"
    CLINIC_ADMIN = "clinic_admin", "Clinic administrator"
    PATIENT = "patient", "Patient"
    AUDITOR = "auditor", "Auditor (read-only)"


# The roles that chart injections. Front desk and clinic admins manage people and schedules.
CLINICIAN_ROLES = frozenset(
    {Role.PHYSICIAN, Role.NATUROPATHIC_DOCTOR, Role.NURSE_PRACTITIONER},
)


class User(AbstractUser):
    clinic = models.ForeignKey(
        Clinic, on_delete=models.PROTECT, null=True, blank=True, related_name="users"
    )
    role = models.CharField(max_length=32, choices=Role.choices, default=Role.FRONT_DESK)
    # Raised by "Sign out other devices" and by deactivation: a session that was started under
    # an older number is ended at its next request (web.middleware.SessionLifetimeMiddleware).
    session_generation = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="user_role_valid",
                condition=models.Q(role__in=Role.values),
            ),
        ]

    @property
    def is_clinician(self) -> bool:
        return self.role in CLINICIAN_ROLES

    @property
    def needs_second_factor(self) -> bool:
        """Every role that can see another person's health information signs in with TOTP."""
        return self.role != Role.PATIENT

    @property
    def display_name(self) -> str:
        full = self.get_full_name()
        return full or self.username


class Profession(models.TextChoices):
    PHYSICIAN = "physician", "Physician"
    NATUROPATHIC_DOCTOR = "naturopathic_doctor", "Naturopathic doctor"
    NURSE_PRACTITIONER = "nurse_practitioner", "Nurse practitioner"
    OTHER = "other", "Other"


class PractitionerProfile(models.Model):
    """What the scope-of-practice rules need to know about a practitioner (DOMAIN section 6)."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="practitioner")
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="practitioners")
    profession = models.CharField(max_length=32, choices=Profession.choices)
    licence_jurisdiction = models.CharField(
        max_length=16, help_text="Where the licence was issued, for example CA-BC."
    )
    licence_number = models.CharField(max_length=64, blank=True)
    certifications = models.JSONField(
        default=list,
        blank=True,
        help_text='Certification codes, for example ["cnpbc_ait_a"] (CNPBC Advanced Injection '
        "Therapies part A).",
    )

    # Its queries need the clinic's scope (ops.scoping).
    objects = clinic_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="practitioner_profession_valid",
                condition=models.Q(profession__in=Profession.values),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user.display_name} ({self.get_profession_display()})"


class SignInRequest(models.Model):
    """One sign-in attempt (a POST to the sign-in page), kept for a minute to limit the rate
    of attempts per address (accounts.ratelimit)."""

    address = models.CharField(max_length=45)
    at = models.DateTimeField()

    class Meta:
        indexes = [
            # "How many attempts from this address in the last minute?" on every sign-in.
            models.Index(fields=["address", "at"], name="signin_request_address_at"),
            # Pruning what is older than a minute, for every address at once.
            models.Index(fields=["at"], name="signin_request_at"),
        ]

    def __str__(self) -> str:
        return f"sign-in attempt from {self.address} at {self.at:%Y-%m-%d %H:%M:%S}"
