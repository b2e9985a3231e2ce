"""Jobs that django-q2 runs (``prolotrack qcluster``)."""

from __future__ import annotations

from django.utils import timezone

from prolotrack.accounts.models import Clinic
from prolotrack.diary.services.reminders import reminder_schedule_ensure, reminders_send
from prolotrack.ops.scoping import scope


def reminders_send_task(clinic_id: int) -> int:
    clinic = Clinic.objects.filter(pk=clinic_id).first()
    if clinic is None:
        return 0
    now = timezone.now()
    # One clinic's job: its rows only (ops.scoping).
    with scope(clinic=clinic.pk):
        sent = reminders_send(clinic=clinic, now=now)
        # The next run at the clinic's wall-clock hour (the daily schedule alone would drift by
        # an hour across a daylight-saving change).
        reminder_schedule_ensure(clinic=clinic, now=now)
    return sent
