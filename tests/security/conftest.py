"""The security tests' world: the shared fixture world, an auditor, charted sessions, and one
client per role (RELIABILITY.md T2, T4-T6, T8, T10-T12, T18).

The patient is in the care of the clinic's three practitioners (tests/conftest.py); the URLs
name the physician's session. The outsider, a physician of the same clinic without the patient in
their care, meets the break-glass page on clinical pages; another clinic's physician meets 404.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from django.apps import apps
from django.test import Client

from prolotrack.accounts.models import Role, User
from prolotrack.api.models import ApiToken
from prolotrack.api.tokens import token_create
from prolotrack.diary.models import Alert, DiaryEntry
from prolotrack.treatment.models import Session
from tests.conftest import World, make_user
from tests.treatment.charting_helpers import WHEN, record_session

# The roles of the authorization matrix, in the order of its columns.
ROLES = (
    "anonymous",
    "patient",
    "physician",
    "naturopathic_doctor",
    "nurse_practitioner",
    "front_desk",
    "clinic_admin",
    "auditor",
    "other_clinic_physician",
    "outsider",
)

# Tables whose rows a request may add without changing anything a user sees: the audit trail
# (every read writes an event), sign-in sessions.
LOG_TABLES = frozenset(
    {"audit_auditevent", "audit_auditcheckpoint", "django_session", "axes_accesslog"}
)


@dataclass
class Actors:
    """The world, its auditor and sessions, and a signed-in client for every role."""

    world: World
    auditor: User
    session: Session
    signed: Session
    entry: DiaryEntry
    alert: Alert
    token: ApiToken

    def user(self, role: str) -> User | None:
        if role == "anonymous":
            return None
        if role == "auditor":
            return self.auditor
        if role == "outsider":
            return self.world.outsider
        return self.world.roles[role]

    def client(self, role: str, **kwargs: Any) -> Client:
        user = self.user(role)
        if user is None:
            return Client(**kwargs)
        if kwargs:
            client = Client(**kwargs)
            client.force_login(user)
            return client
        return self.world.client_for(user)

    @property
    def url_values(self) -> dict[str, Any]:
        """The URL arguments of every route: clinic A's patient, series and session (and a
        signed one, for amending), the patient's diary entry and its alert, an API token, and
        the names of pages that exist. The sign-in link's token is one no link has: the real
        ones are credentials, tested in tests/diary/test_signin.py."""
        return {
            "patient_id": self.world.patient.pk,
            "series_id": self.world.series.pk,
            "session_id": self.session.pk,
            "signed_session_id": self.signed.pk,
            "entry_id": self.entry.pk,
            "alert_id": self.alert.pk,
            "token_id": self.token.pk,
            # A staff account of clinic A, for the administrators' account pages.
            "user_id": self.world.front_desk.pk,
            "token": "no-such-link",
            "topic": "neural",
            "name": "prolotrack-site",
        }

    @property
    def phi(self) -> list[str]:
        """What must never reach someone not allowed to see the patient: names, chart number,
        birth date, and the session's note."""
        patient = self.world.patient
        return [
            patient.given_name,
            patient.family_name,
            patient.chart_number,
            patient.birth_date.isoformat(),
            self.session.notes,
        ]


@pytest.fixture
def actors(world: World) -> Actors:
    # Another clinic's patient shares the fixture's birth date: clinic A's gets its own, so a
    # birth date found in a page is this patient's.
    world.patient.birth_date = dt.date(1968, 9, 17)
    world.patient.save(update_fields=["birth_date"])
    entry = DiaryEntry.objects.create(
        clinic=world.clinic, patient=world.patient, entry_date=WHEN.date(), pain=8
    )
    token, _ = token_create(
        clinic=world.clinic,
        name="Matrix integration",
        user=world.front_desk,
        read_only=False,
        created_by=world.roles["clinic_admin"],
    )
    return Actors(
        world=world,
        auditor=make_user(world.clinic, "auditor", Role.AUDITOR),
        session=record_session(world),
        signed=record_session(world, when=WHEN + dt.timedelta(days=1), signed=True),
        entry=entry,
        alert=Alert.objects.create(
            clinic=world.clinic,
            patient=world.patient,
            entry=entry,
            level="urgent",
            rule_code="urgent.infection",
            source="domain.2.4",
            message="Fever and a hot, swollen knee.",
        ),
        token=token,
    )


def table_state() -> dict[str, int]:
    """Row counts of every table of the project but the logs."""
    return {
        model._meta.db_table: model._base_manager.count()
        for model in apps.get_models(include_auto_created=True)
        if model._meta.db_table not in LOG_TABLES and model._meta.managed
    }


def row_state(*instances: Any) -> dict[str, dict[str, Any]]:
    """Every field of the given rows, as stored."""
    state = {}
    for instance in instances:
        fresh = type(instance)._base_manager.filter(pk=instance.pk).values().first()
        state[f"{instance._meta.label}:{instance.pk}"] = fresh
    return state


def changed_tables(before: dict[str, int]) -> dict[str, tuple[int, int]]:
    """The tables whose row count moved since ``before``: (before, now)."""
    now = table_state()
    return {t: (before.get(t, 0), n) for t, n in now.items() if before.get(t, 0) != n}
