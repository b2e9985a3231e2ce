"""A clinic worth backing up.

Backups open their own read transaction, so these tests commit (``transactional_db``); a
restore target is the same test database, emptied with ``flush`` after the backup is taken.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, Permission

from prolotrack.accounts.models import Clinic
from prolotrack.core.synth import generate_clinic
from prolotrack.demo.loader import clinic_load
from prolotrack.ops.backup import backup_create
from prolotrack.patients.models import Patient

TODAY = dt.date(2026, 11, 20)


@pytest.fixture
def clinic_data(transactional_db: None, world: Any) -> Clinic:
    """The shared fixture world, a loaded synthetic clinic, groups with permissions, awkward
    values, and (when the audit app is installed) a few audit events."""
    clinic = clinic_load(generate_clinic(seed=11, patients=4, today=TODAY, name="Backup Clinic"))
    group = Group.objects.create(name="Reviewers")
    group.permissions.set(Permission.objects.order_by("-pk")[:3])
    world.physician.groups.add(group)
    world.admin.user_permissions.add(Permission.objects.get(codename="view_patient"))
    Patient.objects.create(
        clinic=world.clinic,
        chart_number="A-\u00e9\U0001f642",
        given_name="Zo\u00eb \u201cQuote\u201d",
        family_name="O'Brien\n\\",
        birth_date=dt.date(1900, 1, 1),
        weight_kg=None,
        allergies=["corn", "lidocaine"],
    )
    if apps.is_installed("prolotrack.audit"):
        from prolotrack.audit.services import audit_record

        for patient in Patient.objects.filter(clinic=world.clinic):
            audit_record(user=world.physician, action="read", target=patient, detail={"k": 1})
    return clinic


@pytest.fixture
def archive(clinic_data: Clinic, tmp_path: Path) -> Path:
    path = tmp_path / "clinic.tar"
    backup_create(path)
    return path
