"""API tokens: how another program signs in to the JSON API.

A token acts as one user of its clinic (a practitioner, front desk or clinic administrator) and
can do what that user can do through the API, no more; a read-only token is refused every
write. Only the SHA-256 of the secret is stored: the secret is shown once, when the token is
created. The prefix, which is part of the secret, names the token in lists and in the audit
trail without revealing it.
"""

from __future__ import annotations

from django.db import models

from prolotrack.accounts.models import Clinic, User


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def active(self) -> ApiTokenQuerySet:
        return self.filter(revoked_at__isnull=True)


class ApiToken(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What uses it, for example “Lab import”.")
    user = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        related_name="api_tokens",
        help_text="The clinic user the token acts as: it has that user's rights, no more.",
    )
    read_only = models.BooleanField(
        default=True, help_text="A read-only token is refused every write."
    )
    prefix = models.CharField(max_length=16, unique=True)
    secret_sha256 = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty when created from the command line.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None
