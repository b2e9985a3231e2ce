"""Daily reminders: the clinic's schedule for the job runner, and one email per patient a day."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.core import mail
from django.core.management import call_command
from django_q.models import Schedule

from prolotrack.diary.models import ClinicDiarySettings, DiaryEntry, ReminderSent
from prolotrack.diary.services.reminders import (
    patients_due,
    reminder_schedule_ensure,
    reminders_send,
)
from prolotrack.diary.tasks import reminders_send_task

VANCOUVER = zoneinfo.ZoneInfo("America/Vancouver")


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def _with_email(world):
    world.patient_user.email = "avery@example.org"
    world.patient_user.save()


def test_the_schedule_runs_the_task_at_20_00_clinic_time(world):
    schedule = reminder_schedule_ensure(clinic=world.clinic, now=utc(2026, 7, 1, 17))
    assert schedule.func == "prolotrack.diary.tasks.reminders_send_task"
    assert schedule.args == f"({world.clinic.pk},)"
    assert schedule.schedule_type == Schedule.DAILY
    assert schedule.next_run == utc(2026, 7, 2, 3)  # 20:00 PDT


def test_the_schedule_keeps_the_clinic_hour_across_the_spring_change(world):
    ClinicDiarySettings.objects.create(clinic=world.clinic, reminder_time=dt.time(19, 30))
    first = reminder_schedule_ensure(clinic=world.clinic, now=utc(2026, 3, 7, 12)).next_run
    second = reminder_schedule_ensure(clinic=world.clinic, now=first).next_run
    assert first == utc(2026, 3, 8, 3, 30)  # 19:30 PST on Saturday 7 March
    assert second == utc(2026, 3, 9, 2, 30)  # 19:30 PDT on Sunday 8 March
    assert second.astimezone(VANCOUVER).time() == dt.time(19, 30)
    assert Schedule.objects.filter(name=f"diary-reminders-{world.clinic.pk}").count() == 1


def test_reminders_off_remove_the_schedule(world):
    reminder_schedule_ensure(clinic=world.clinic)
    ClinicDiarySettings.objects.create(clinic=world.clinic, reminders_enabled=False)
    assert reminder_schedule_ensure(clinic=world.clinic) is None
    assert not Schedule.objects.exists()


def test_it_reminds_a_patient_with_an_active_series_once_a_day(world):
    _with_email(world)
    evening = utc(2026, 7, 2, 3)  # 20:00 PDT on 1 July
    assert reminders_send(clinic=world.clinic, now=evening) == 1
    assert reminders_send(clinic=world.clinic, now=evening + dt.timedelta(minutes=5)) == 0
    [email] = mail.outbox
    assert email.to == ["avery@example.org"]
    assert "/diary/" in email.body
    assert ReminderSent.objects.get().day == dt.date(2026, 7, 1)


def test_no_reminder_after_todays_entry_or_without_an_active_series(world):
    _with_email(world)
    DiaryEntry.objects.create(
        clinic=world.clinic, patient=world.patient, entry_date=dt.date(2026, 7, 1), pain=3
    )
    assert patients_due(clinic=world.clinic, day=dt.date(2026, 7, 1)) == []
    world.series.status = "completed"
    world.series.save()
    assert patients_due(clinic=world.clinic, day=dt.date(2026, 7, 2)) == []


def test_the_task_sends_and_sets_the_next_run_from_the_wall_clock(world, monkeypatch):
    _with_email(world)
    monkeypatch.setattr("django.utils.timezone.now", lambda: utc(2026, 3, 8, 4, 1))
    assert reminders_send_task(world.clinic.pk) == 1
    schedule = Schedule.objects.get(name=f"diary-reminders-{world.clinic.pk}")
    assert schedule.next_run == utc(2026, 3, 9, 3)  # 20:00 PDT, 23 hours later


def test_the_command_schedules_every_clinic(world):
    call_command("diary_reminders", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert Schedule.objects.count() == 2
