"""Audit events, chained by hashes, and the checkpoint that remembers the head of the chain.

Every event stores the SHA-256 of its own canonical form, which includes the hash of the event
before it. Changing, deleting or moving a row therefore breaks the chain at that row, and cutting
rows off the end leaves the checkpoint pointing past the last row: `verify.verify_chain` finds all
four. Appending goes through `services.audit_record()`, which takes a lock so that two writers
cannot chain to the same head.

Users, clinics and patients are stored as plain ids (and the username as text), not foreign keys:
deleting a user or a patient must never rewrite, or be blocked by, the log.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from django.db import models

# What the first event chains to.
GENESIS_HASH = "0" * 64

# The only row of AuditCheckpoint.
CHECKPOINT_ID = 1


class AppendOnlyError(RuntimeError):
    """An attempt to change or delete audit events through the ORM."""


class Action(models.TextChoices):
    READ = "read", "Read"
    LIST = "list", "List"
    CREATE = "create", "Create"
    CHANGE = "change", "Change"
    SIGN = "sign", "Sign"
    AMEND = "amend", "Amend"
    EXPORT = "export", "Export"
    PRINT = "print", "Print"
    LOGIN_FAILED = "login_failed", "Failed sign-in"
    LOGIN = "login", "Sign-in"
    LOGOUT = "logout", "Sign-out"
    ACCESS_REFUSED = "access_refused", "Access refused"
    BREAK_GLASS = "break_glass", "Break-glass access"
    OVERRIDE = "override", "Safety override"


class Outcome(models.TextChoices):
    OK = "ok", "OK"
    REFUSED = "refused", "Refused"
    FAILED = "failed", "Failed"


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    """Reads only: every bulk write is refused, so no code path can rewrite the log."""

    def for_clinic(self, clinic_id: int) -> AuditEventQuerySet:
        return self.filter(clinic_id=clinic_id)

    def newest_first(self) -> AuditEventQuerySet:
        return self.order_by("-id")

    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("audit events are never changed")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("audit events are never deleted")

    def bulk_update(self, objs: Any, fields: Any, batch_size: int | None = None) -> int:
        raise AppendOnlyError("audit events are never changed")

    def bulk_create(self, objs: Any, *args: Any, **kwargs: Any) -> list[AuditEvent]:
        raise AppendOnlyError("audit events are appended one by one with audit_record()")


class AuditEvent(models.Model):
    # Assigned under the append lock as the checkpoint's id + 1, never by a sequence: ids are
    # then gapless (a rolled-back append rolls back the checkpoint too), so a gap means a row was
    # deleted.
    id = models.BigIntegerField(primary_key=True, editable=False)
    at = models.DateTimeField(help_text="When it happened, in UTC, to the millisecond.")
    user_id = models.BigIntegerField(null=True, blank=True)
    username = models.CharField(max_length=150, blank=True)
    role = models.CharField(max_length=32, blank=True)
    clinic_id = models.BigIntegerField(null=True, blank=True)
    patient_id = models.BigIntegerField(null=True, blank=True)
    action = models.CharField(max_length=32, choices=Action.choices)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    # Text, not GenericIPAddressField: PostgreSQL's inet type rewrites some addresses on output,
    # and the hash must see the same characters that were stored.
    source_ip = models.CharField(max_length=45, blank=True)
    user_agent = models.CharField(max_length=256, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.OK)
    break_glass = models.BooleanField(default=False)
    # A few ids, counts or codes; never health information, never credentials.
    detail = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                name="audit_event_action_valid", condition=models.Q(action__in=Action.values)
            ),
            models.CheckConstraint(
                name="audit_event_outcome_valid", condition=models.Q(outcome__in=Outcome.values)
            ),
        ]
        indexes = [
            # The audit page: one clinic's events, newest first.
            models.Index(fields=["clinic_id", "id"], name="audit_clinic_id_idx"),
            # The audit page filtered by patient ("who looked at this chart?").
            models.Index(fields=["clinic_id", "patient_id", "id"], name="audit_clinic_patient_idx"),
            # The audit page filtered by date.
            models.Index(fields=["clinic_id", "at"], name="audit_clinic_at_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.id} {self.at:%Y-%m-%d %H:%M:%S} {self.username or '-'} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("audit events are never changed")
        if not self.hash:
            raise AppendOnlyError("audit events are appended with audit_record()")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("audit events are never deleted")

    def canonical(self) -> bytes:
        """The bytes the hash covers: every field but the hash, as sorted, compact JSON."""
        at = self.at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        fields = {
            "id": self.id,
            "at": at,
            "user_id": self.user_id,
            "username": self.username,
            "role": self.role,
            "clinic_id": self.clinic_id,
            "patient_id": self.patient_id,
            "action": self.action,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "source_ip": self.source_ip,
            "user_agent": self.user_agent,
            "outcome": self.outcome,
            "break_glass": self.break_glass,
            "detail": self.detail,
            "prev_hash": self.prev_hash,
        }
        text = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
        return text.encode("ascii")

    def compute_hash(self) -> str:
        return hashlib.sha256(self.canonical()).hexdigest()


class AuditCheckpoint(models.Model):
    """The head of the chain: the last event's id and hash, written with each append.

    If rows are cut off the end of the log, the checkpoint still names the last event that was
    written, so the cut shows. The next append chains to the checkpoint, not to the last row
    left, so the cut stays visible after more events are written.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=CHECKPOINT_ID)
    event_id = models.BigIntegerField()
    hash = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="audit_checkpoint_single_row", condition=models.Q(id=CHECKPOINT_ID)
            ),
        ]

    def __str__(self) -> str:
        return f"audit head #{self.event_id} {self.hash[:12]}"
