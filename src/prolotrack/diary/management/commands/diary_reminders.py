"""`prolotrack diary_reminders`: schedule the daily diary reminders, or send today's now."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from prolotrack.accounts.models import Clinic
from prolotrack.diary.services.reminders import reminder_schedule_ensure, reminders_send


class Command(BaseCommand):
    help = (
        "Create or update each clinic's daily diary-reminder schedule for the job runner "
        "(`prolotrack qcluster` sends them); --send-now sends the due reminders at once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--send-now",
            action="store_true",
            help="Send today's due reminders now instead of scheduling them.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        for clinic in Clinic.objects.order_by("pk"):
            if options["send_now"]:
                sent = reminders_send(clinic=clinic, now=now)
                self.stdout.write(f"{clinic.name}: {sent} reminders sent")
                continue
            schedule = reminder_schedule_ensure(clinic=clinic, now=now)
            if schedule is None:
                self.stdout.write(f"{clinic.name}: reminders are off")
            else:
                self.stdout.write(
                    f"{clinic.name}: next reminders at {schedule.next_run:%Y-%m-%d %H:%M} UTC"
                )
