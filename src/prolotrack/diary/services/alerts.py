"""Diary alerts: emailing the clinic when one is raised, and acknowledging one with a note."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse

from prolotrack.accounts.models import CLINICIAN_ROLES, User
from prolotrack.diary.models import Alert, ClinicDiarySettings

log = logging.getLogger("prolotrack.diary")

# What an alert email says of the rule: enough to judge how fast to act, no clinical detail
# (email is not a safe place for health information; the board holds the rest).
RULE_TITLES = {
    "emergency.cauda_equina": "possible cauda equina syndrome: the patient was told to go to "
    "an emergency department",
    "urgent.infection": "fever with intense pain: possible infection",
    "urgent.site_redness": "redness or warmth at an injection site: possible infection",
    "urgent.neuro": "new numbness or weakness",
    "review.fever": "fever reported",
    "review.flare": "pain flare beyond 72 hours",
}


class AlertAlreadyAcknowledged(Exception):
    pass


def alert_recipients(clinic_id: int) -> list[str]:
    """The clinic's alert address, or else its active practitioners' addresses."""
    found = ClinicDiarySettings.objects.filter(clinic_id=clinic_id).first()
    if found is not None and found.alert_email:
        return [found.alert_email]
    return sorted(
        User.objects.filter(clinic_id=clinic_id, is_active=True, role__in=CLINICIAN_ROLES)
        .exclude(email="")
        .values_list("email", flat=True)
    )


def alerts_notify(*, alert_ids: Sequence[int]) -> int:
    """Email the clinic about these alerts, one message each; return how many were sent.

    Runs after the entry's transaction commits. A mail server that is down loses no alert: the
    alert is on the board already; the failure is logged.
    """
    sent = 0
    board = settings.SITE_URL + reverse("diary:alerts")
    for alert in Alert.objects.filter(pk__in=alert_ids).select_related("patient"):
        recipients = alert_recipients(alert.clinic_id)
        if not recipients:
            log.warning("diary alert %s: the clinic has no alert address", alert.pk)
            continue
        title = RULE_TITLES.get(alert.rule_code, alert.rule_code)
        level = alert.get_level_display()
        try:
            send_mail(
                subject=f"[prolotrack] {level} diary alert, chart {alert.patient.chart_number}",
                message=(
                    f"A diary entry raised a {level.lower()} alert ({title}) for the patient "
                    f"with chart number {alert.patient.chart_number}.\n\n"
                    f"Open the alert board to read it and acknowledge it:\n{board}\n"
                ),
                from_email=None,
                recipient_list=recipients,
            )
        except OSError:
            log.exception("diary alert %s: the email could not be sent", alert.pk)
            continue
        sent += 1
    return sent


def alert_acknowledge(*, alert: Alert, user: User, note: str, now: dt.datetime) -> Alert:
    """Mark ``alert`` as handled by ``user`` with ``note``; an alert is acknowledged once."""
    note = note.strip()
    if not note:
        raise ValueError("An acknowledgement needs a note.")
    with transaction.atomic():
        updated = Alert.objects.filter(pk=alert.pk, acknowledged_at__isnull=True).update(
            acknowledged_by=user, acknowledged_at=now, acknowledged_note=note
        )
        if not updated:
            raise AlertAlreadyAcknowledged()
    alert.refresh_from_db()
    return alert
