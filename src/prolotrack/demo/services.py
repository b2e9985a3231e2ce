"""The demo clinic: load it once and reuse it, or rebuild it; and the five logins that open it."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from django.apps import apps
from django.contrib.auth.hashers import make_password
from django.core.exceptions import FieldDoesNotExist
from django.db import models, transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from prolotrack.accounts.models import Clinic, Role, User
from prolotrack.core import synth
from prolotrack.demo.loader import LoadError, clinic_load

DEMO_PASSWORD = "prolotrack-demo-2026"  # noqa: S105 (printed on screen: it opens synthetic data)


@dataclass(frozen=True, slots=True)
class DemoLogin:
    username: str
    role: Role
    given_name: str
    family_name: str
    note: str = ""


# The clinicians are the synthetic clinic's own practitioners (core.synth.PRACTITIONERS), so each
# one signs in to find their own sessions; front desk and clinic admin are added beside them.
_NOTES = {"cnpbc_ait_a": "CNPBC advanced injection therapies A"}
DEMO_LOGINS = (
    *(
        DemoLogin(
            p.key,
            Role(p.profession),
            p.given_name,
            p.family_name,
            ", ".join(_NOTES.get(c, c) for c in p.certifications),
        )
        for p in synth.PRACTITIONERS
    ),
    DemoLogin("frontdesk", Role.FRONT_DESK, "Robin", "Tallyworth"),
    DemoLogin("clinicadmin", Role.CLINIC_ADMIN, "Sam", "Ledgerby"),
)


@dataclass(frozen=True, slots=True)
class DemoResult:
    clinic: Clinic
    created: bool
    patients: int
    load_seconds: float
    logins: tuple[DemoLogin, ...] = DEMO_LOGINS
    # Username -> the second-factor device of each demo login (every one is staff).
    devices: Mapping[str, TOTPDevice] = field(default_factory=dict)


def demo_ensure(*, seed: int, patients: int, today: dt.date, reset: bool = False) -> DemoResult:
    """The demo clinic with its logins: reused when it exists, rebuilt from scratch on ``reset``.

    Raises LoadError when a demo username belongs to someone outside the demo clinic.
    """
    usernames = [login.username for login in DEMO_LOGINS]
    started = time.perf_counter()
    with transaction.atomic():
        clinic = Clinic.objects.filter(name=synth.DEFAULT_CLINIC_NAME).first()
        strangers = User.objects.filter(username__in=usernames)
        if clinic is not None:
            strangers = strangers.exclude(clinic=clinic)
        taken = sorted(strangers.values_list("username", flat=True))
        if taken:
            raise LoadError(
                f"the demo needs the usernames {', '.join(taken)}, which belong to someone "
                "outside the demo clinic; rename those users or use another database"
            )
        if clinic is not None and reset:
            clinic_delete(clinic)
            clinic = None
        created = clinic is None
        if clinic is None:
            clinic = clinic_load(synth.generate_clinic(seed=seed, patients=patients, today=today))
        for login in DEMO_LOGINS:
            User.objects.get_or_create(
                username=login.username,
                defaults={
                    "clinic": clinic,
                    "role": login.role,
                    "first_name": login.given_name,
                    "last_name": login.family_name,
                },
            )
        # Hashed once for all five (a hash takes a quarter of a second by design), and set on
        # every run so that the password on the screen always opens the door.
        User.objects.filter(clinic=clinic, username__in=usernames).update(
            password=make_password(DEMO_PASSWORD), is_active=True
        )
        devices = demo_devices_ensure(clinic=clinic, usernames=usernames)
    return DemoResult(
        clinic=clinic,
        created=created,
        patients=clinic.patients.count(),
        load_seconds=time.perf_counter() - started,
        devices=devices,
    )


def demo_devices_ensure(*, clinic: Clinic, usernames: list[str]) -> dict[str, TOTPDevice]:
    """A confirmed authenticator device for each demo login, kept across runs so that a secret
    added to an app keeps working (``--reset`` makes new ones, with new users)."""
    devices = {}
    for user in User.objects.filter(clinic=clinic, username__in=usernames).order_by("pk"):
        device = TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name="Demo authenticator", confirmed=True)
        devices[user.username] = device
    return devices


def clinic_delete(clinic: Clinic) -> None:
    """Delete a clinic and every row that carries its ``clinic_id``, users included.

    Protected references (a session protects its series, a practitioner their sessions) decide
    the order; it is found by retrying, so models that other apps add are covered too.
    """
    owned = [model for model in apps.get_models() if _belongs_to_clinic(model)]
    with transaction.atomic():
        while owned:
            blocked = []
            for model in owned:
                try:
                    with transaction.atomic():
                        model._base_manager.filter(clinic=clinic).delete()
                except (models.ProtectedError, models.RestrictedError):
                    blocked.append(model)
            if len(blocked) == len(owned):
                names = ", ".join(m.__name__ for m in blocked)
                raise LoadError(f"cannot delete the clinic's rows of {names}")
            owned = blocked
        clinic.delete()


def _belongs_to_clinic(model: type[models.Model]) -> bool:
    try:
        field = model._meta.get_field("clinic")
    except FieldDoesNotExist:
        return False
    return bool(field.many_to_one) and field.related_model is Clinic
