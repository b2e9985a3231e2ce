"""`prolotrack demo`: migrate, load the synthetic clinic once, print the logins, serve."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.test import Client

from prolotrack.accounts.models import Clinic, PractitionerProfile, Role, User
from prolotrack.core import synth
from prolotrack.demo.management.commands import demo as demo_command
from prolotrack.patients.models import Patient
from prolotrack.treatment.models import AlgometerReading, Session, TreatmentSeries

LOGINS = {
    "physician": Role.PHYSICIAN,
    "naturopath": Role.NATUROPATHIC_DOCTOR,
    "nurse": Role.NURSE_PRACTITIONER,
    "frontdesk": Role.FRONT_DESK,
    "clinicadmin": Role.CLINIC_ADMIN,
}


def run_demo(*args: str) -> str:
    out = StringIO()
    call_command("demo", "--no-serve", *args, stdout=out)
    return out.getvalue()


def demo_clinic() -> Clinic:
    return Clinic.objects.get(name=synth.DEFAULT_CLINIC_NAME)


def printed_passwords(output: str) -> dict[str, str]:
    rows = re.findall(r"^\s+(\w+)\s+(\S+)\s+\S.*$", output, flags=re.MULTILINE)
    return {username: password for username, password in rows if username in LOGINS}


@pytest.mark.django_db
def test_it_creates_the_demo_logins_that_open_with_the_printed_password() -> None:
    output = run_demo("--patients", "5")
    passwords = printed_passwords(output)
    assert set(passwords) == set(LOGINS)
    clinic = demo_clinic()
    for username, role in LOGINS.items():
        user = User.objects.get(username=username)
        assert (user.clinic, user.role) == (clinic, role)
        assert Client().login(username=username, password=passwords[username]), username


@pytest.mark.django_db
def test_it_prints_the_address_the_data_folder_the_database_and_the_logins() -> None:
    output = run_demo("--patients", "5")
    assert "http://127.0.0.1:8000/" in output
    assert str(settings.DATA_DIR) in output
    from django.db import connection

    assert ("SQLite" if connection.vendor == "sqlite" else "PostgreSQL") in output
    assert "prolotrack-demo-2026" in output
    for username, role in LOGINS.items():
        assert re.search(rf"^\s+{username}\s+prolotrack-demo-2026\s+{role.label}", output, re.M)
    assert "synthetic" in output


@pytest.mark.django_db
def test_it_prints_the_address_it_was_given() -> None:
    assert "http://localhost:8123/" in run_demo("--patients", "1", "--addrport", "localhost:8123")
    assert "http://127.0.0.1:9000/" in run_demo("--addrport", "9000")


@pytest.mark.django_db
def test_it_makes_the_clinician_logins_the_practitioners_of_the_sessions() -> None:
    run_demo("--patients", "5")
    clinic = demo_clinic()
    physician = User.objects.get(username="physician")
    assert Session.objects.filter(clinic=clinic, practitioner=physician).exists()
    practitioners = set(
        Session.objects.filter(clinic=clinic).values_list("practitioner__username", flat=True)
    )
    assert practitioners <= {"physician", "naturopath", "nurse"}
    naturopath = PractitionerProfile.objects.get(user__username="naturopath")
    assert naturopath.certifications == ["cnpbc_ait_a"]
    assert Patient.objects.filter(clinic=clinic).count() == 5


@pytest.mark.django_db
def test_it_reuses_the_demo_clinic_when_run_again() -> None:
    run_demo("--patients", "5")
    clinic = demo_clinic()
    sessions = Session.objects.count()
    User.objects.filter(username="frontdesk").get().set_unusable_password()

    output = run_demo("--patients", "9")

    assert Clinic.objects.filter(name=synth.DEFAULT_CLINIC_NAME).get() == clinic
    assert Patient.objects.filter(clinic=clinic).count() == 5
    assert Session.objects.count() == sessions
    assert User.objects.filter(username__in=LOGINS).count() == len(LOGINS)
    assert "loaded earlier" in output
    assert Client().login(username="frontdesk", password="prolotrack-demo-2026")


@pytest.mark.django_db
def test_it_reloads_only_the_demo_clinic_on_reset(world) -> None:
    run_demo("--patients", "5")
    old = demo_clinic()
    others = (Patient.objects.exclude(clinic=old).count(), User.objects.exclude(clinic=old).count())

    output = run_demo("--patients", "3", "--reset")

    new = demo_clinic()
    assert new.pk != old.pk
    assert not Clinic.objects.filter(pk=old.pk).exists()
    assert Patient.objects.filter(clinic=new).count() == 3
    assert not AlgometerReading.objects.filter(clinic_id=old.pk).exists()
    assert others == (
        Patient.objects.exclude(clinic=new).count(),
        User.objects.exclude(clinic=new).count(),
    )
    assert TreatmentSeries.objects.filter(pk=world.series.pk).exists()
    assert "loaded in" in output
    assert Client().login(username="physician", password="prolotrack-demo-2026")


@pytest.mark.django_db
def test_it_serves_with_runserver_unless_told_not_to(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[tuple[object, ...], dict[str, object]]] = []
    real = demo_command.call_command

    def fake(name: str, *args: object, **kwargs: object) -> None:
        if name == "runserver":
            calls.append(((name, *args), kwargs))
        else:
            real(name, *args, **kwargs)

    monkeypatch.setattr(demo_command, "call_command", fake)
    call_command("demo", "--patients", "1", "--addrport", "127.0.0.1:8765", stdout=StringIO())
    assert calls == [(("runserver", "127.0.0.1:8765"), {"use_reloader": False})]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--addrport", "nonsense"), "--addrport must be a port or address:port"),
        (("--addrport", "127.0.0.1:99999"), "the port must be 1 to 65535"),
        (("--patients", "0"), "--patients must be between 1 and 5000, not 0"),
        (("--patients", "-3"), "--patients must be between 1 and 5000, not -3"),
    ],
)
def test_it_refuses_bad_options_with_a_clear_message(args: tuple[str, ...], message: str) -> None:
    with pytest.raises(CommandError, match=re.escape(message)):
        run_demo(*args)
    assert not Clinic.objects.filter(name=synth.DEFAULT_CLINIC_NAME).exists()


@pytest.mark.django_db
def test_it_refuses_a_demo_username_that_belongs_to_another_clinic(world) -> None:
    User.objects.create_user(username="clinicadmin", clinic=world.other_clinic)
    with pytest.raises(CommandError, match="clinicadmin"):
        run_demo("--patients", "2")
    assert not Clinic.objects.filter(name=synth.DEFAULT_CLINIC_NAME).exists()
    assert User.objects.get(username="clinicadmin").clinic == world.other_clinic
