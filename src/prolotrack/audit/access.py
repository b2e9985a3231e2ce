"""Who may read the audit trail: a clinic's administrators and auditors, their clinic's only."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

from prolotrack.accounts.models import Role, User
from prolotrack.audit.models import AuditEvent, AuditEventQuerySet

AUDIT_READER_ROLES = frozenset({Role.CLINIC_ADMIN, Role.AUDITOR})


def audit_events_for_user(user: User) -> AuditEventQuerySet:
    """The events of the user's clinic; 403 for everyone but its administrators and auditors."""
    if not user.is_authenticated or user.role not in AUDIT_READER_ROLES or user.clinic_id is None:
        raise PermissionDenied(
            "Only the clinic's administrators and auditors read the audit trail."
        )
    return AuditEvent.objects.for_clinic(user.clinic_id)
