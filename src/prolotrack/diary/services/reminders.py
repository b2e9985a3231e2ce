"""The daily diary reminder: one short email per patient per day while a series is active.

django-q2 runs it (``prolotrack qcluster``; the ORM broker needs no server besides the
database, SQLite or PostgreSQL). Each clinic has one schedule, ``diary-reminders-<clinic id>``,
whose next run is the clinic's reminder time in the clinic's zone (``core.reminders``). The
schedule is daily; after each run the task sets the next run again from the wall clock, so a
daylight-saving change never moves the reminder by an hour. A reminder is recorded before it is
sent (one row per patient and local day, unique), so a retried or doubled run sends no second
email.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django_q.models import Schedule

from prolotrack.accounts.models import Clinic
from prolotrack.core.reminders import next_reminder_at
from prolotrack.diary.models import ClinicDiarySettings, DiaryEntry, ReminderSent
from prolotrack.patients.models import Patient
from prolotrack.treatment.models import SeriesStatus
from prolotrack.treatment.plan_input import clinic_zone

log = logging.getLogger("prolotrack.diary")

TASK = "prolotrack.diary.tasks.reminders_send_task"


def schedule_name(clinic: Clinic) -> str:
    return f"diary-reminders-{clinic.pk}"


def reminder_schedule_ensure(*, clinic: Clinic, now: dt.datetime | None = None) -> Schedule | None:
    """Create or move the clinic's reminder schedule to its next reminder; None when off."""
    config = ClinicDiarySettings.for_clinic(clinic)
    name = schedule_name(clinic)
    if not config.reminders_enabled:
        Schedule.objects.filter(name=name).delete()
        return None
    when = next_reminder_at(now or timezone.now(), clinic_zone(clinic), config.reminder_time)
    schedule, _ = Schedule.objects.update_or_create(
        name=name,
        defaults={
            "func": TASK,
            "args": repr((clinic.pk,)),
            "schedule_type": Schedule.DAILY,
            "repeats": -1,
            "next_run": when,
        },
    )
    return schedule


def patients_due(*, clinic: Clinic, day: dt.date) -> list[Patient]:
    """Who gets a reminder for ``day``: patients with a diary sign-in and an active series, who
    have not written an entry for the day and have not been reminded yet."""
    written = DiaryEntry.objects.filter(clinic=clinic, entry_date=day).values("patient_id")
    reminded = ReminderSent.objects.filter(clinic=clinic, day=day).values("patient_id")
    return list(
        Patient.objects.filter(
            clinic=clinic,
            user__isnull=False,
            user__is_active=True,
            series__status=SeriesStatus.ACTIVE,
        )
        .exclude(pk__in=written)
        .exclude(pk__in=reminded)
        .select_related("user")
        .distinct()
    )


def reminders_send(*, clinic: Clinic, now: dt.datetime) -> int:
    """Send today's reminders of ``clinic`` (local day at ``now``); return how many went out."""
    if not ClinicDiarySettings.for_clinic(clinic).reminders_enabled:
        return 0
    day = now.astimezone(clinic_zone(clinic)).date()
    url = settings.SITE_URL + reverse("diary:today")
    sent = 0
    for patient in patients_due(clinic=clinic, day=day):
        email = patient.user.email or patient.email
        if not email:
            continue
        try:
            with transaction.atomic():
                ReminderSent.objects.create(clinic=clinic, patient=patient, day=day)
        except IntegrityError:
            continue  # another run got there first
        try:
            send_mail(
                subject="Your pain diary for today",
                message=(
                    f"Hello {patient.given_name},\n\nA reminder to fill in today's pain diary "
                    f"(under a minute):\n{url}\n\nIf you are signed out, ask for a new sign-in "
                    "link on that page. Stop reminders by telling your clinic.\n"
                ),
                from_email=None,
                recipient_list=[email],
            )
        except OSError:
            log.exception("diary reminder to patient %s could not be sent", patient.pk)
            continue
        sent += 1
    return sent
