"""The audit page's filters: every value checked here, so only clean values reach a query."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from django import forms

from prolotrack.accounts.models import User
from prolotrack.audit.models import Action, AuditEventQuerySet, Outcome

BIGINT_MAX = 2**63 - 1
# Far enough for any real log, near enough that a day's bounds convert to UTC without overflow.
EARLIEST, LATEST = dt.date(1900, 1, 1), dt.date(2999, 12, 31)


class AuditFilterForm(forms.Form):
    date_from = forms.DateField(
        required=False,
        label="From",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="A date in the clinic's time zone, YYYY-MM-DD.",
    )
    date_to = forms.DateField(
        required=False,
        label="To",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Included.",
    )
    user = forms.ModelChoiceField(
        queryset=User.objects.none(),
        required=False,
        to_field_name="username",
        empty_label="Anyone",
        label="User",
    )
    patient_id = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=BIGINT_MAX,
        label="Patient id",
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    action = forms.ChoiceField(
        choices=[("", "Any action"), *Action.choices], required=False, label="Action"
    )
    outcome = forms.ChoiceField(
        choices=[("", "Any outcome"), *Outcome.choices], required=False, label="Outcome"
    )
    break_glass = forms.BooleanField(required=False, label="Break-glass only")

    def __init__(self, *args: Any, clinic_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The clinic's accounts, signed-in or not: events of another clinic's users never show.
        user_field = self.fields["user"]
        assert isinstance(user_field, forms.ModelChoiceField)
        user_field.queryset = User.objects.filter(clinic_id=clinic_id).order_by("username")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name in ("date_from", "date_to"):
            day = data.get(name)
            if day and not EARLIEST <= day <= LATEST:
                # add_error also takes the value out of cleaned_data.
                self.add_error(name, "Enter a date between 1900-01-01 and 2999-12-31.")
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The end date is before the start date.")
        return data

    def filter(self, events: AuditEventQuerySet, time_zone: str) -> AuditEventQuerySet:
        """`events` narrowed by the valid filters; dates are whole days in `time_zone`."""
        data = self.cleaned_data
        zone = zoneinfo.ZoneInfo(time_zone)
        if data.get("date_from"):
            events = events.filter(at__gte=dt.datetime.combine(data["date_from"], dt.time(), zone))
        if data.get("date_to"):
            next_day = data["date_to"] + dt.timedelta(days=1)
            events = events.filter(at__lt=dt.datetime.combine(next_day, dt.time(), zone))
        if data.get("user"):
            events = events.filter(user_id=data["user"].pk)
        if data.get("patient_id"):
            events = events.filter(patient_id=data["patient_id"])
        if data.get("action"):
            events = events.filter(action=data["action"])
        if data.get("outcome"):
            events = events.filter(outcome=data["outcome"])
        if data.get("break_glass"):
            events = events.filter(break_glass=True)
        return events

    def summary(self) -> dict[str, object]:
        """The filters in use, for the export's own audit event (ids and codes only)."""
        data = self.cleaned_data
        summary: dict[str, object] = {}
        for name in ("date_from", "date_to"):
            if data.get(name):
                summary[name] = data[name].isoformat()
        if data.get("user"):
            summary["user_id"] = data["user"].pk
        for name in ("patient_id", "action", "outcome", "break_glass"):
            if data.get(name):
                summary[name] = data[name]
        return summary


# The periods of the break-glass review, in days: the daily review first.
REVIEW_PERIODS = {1: "Last 24 hours", 7: "Last 7 days", 30: "Last 30 days", 90: "Last 90 days"}


class BreakGlassReviewForm(forms.Form):
    days = forms.TypedChoiceField(
        choices=list(REVIEW_PERIODS.items()),
        coerce=int,
        required=False,
        empty_value=1,
        label="Period",
    )

    def period_days(self) -> int:
        """The chosen period; the daily review when the form is unbound or invalid."""
        if self.is_valid():
            return int(self.cleaned_data.get("days") or 1)
        return 1
