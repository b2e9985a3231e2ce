"""The clinic administrator's staff accounts: the list, deactivating, reactivating and resetting
the second factor, on the page, in the services and at the command line (RELIABILITY.md T15)."""

from __future__ import annotations

import re
import threading
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from prolotrack.accounts.models import Clinic, Role, User
from prolotrack.accounts.otp import current_code
from prolotrack.accounts.services import (
    AccountChangeRefused,
    user_deactivate,
    user_reactivate,
    user_second_factor_reset,
)
from prolotrack.audit.models import AuditEvent
from tests.accounts.conftest import sign_in
from tests.conftest import make_user, pass_second_factor, second_factor_device

USERS = reverse("accounts:users")
PATIENTS = reverse("patients:list")
LOGIN = reverse("login")
REASON = "Left the clinic at the end of November"


def deactivate_url(user: User) -> str:
    return reverse("accounts:user_deactivate", args=[user.pk])


def reactivate_url(user: User) -> str:
    return reverse("accounts:user_reactivate", args=[user.pk])


def reset_url(user: User) -> str:
    return reverse("accounts:user_second_factor_reset", args=[user.pk])


def signed_in(user: User) -> Client:
    """Both steps through the pages, as a person signs in."""
    client = Client()
    sign_in(client, user)
    if user.needs_second_factor:
        pass_second_factor(client, user)
    return client


def changes(user: User) -> list[AuditEvent]:
    """The account-change events about `user`, oldest first."""
    return list(
        AuditEvent.objects.filter(action="change", object_type="user", object_id=str(user.pk))
        .exclude(detail={})
        .order_by("id")
    )


def fresh(user: User) -> User:
    return User.objects.get(pk=user.pk)


# -- the list ------------------------------------------------------------------------------


def test_the_list_shows_the_clinics_staff_with_role_state_second_factor_and_last_sign_in(world):
    second_factor_device(world.physician)
    signed_in(world.physician)  # a last sign-in to show
    User.objects.filter(pk=world.nurse.pk).update(is_active=False)
    response = world.client_for(world.admin).get(USERS)
    assert response.status_code == 200
    html = response.content.decode()
    rows = {
        name: re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip()
        for name, row in re.findall(r'<tr data-account="([^"]+)">(.*?)</tr>', html, flags=re.S)
    }
    # Clinic A's staff only: not its patient's account, not another clinic's physician.
    assert set(rows) == {"drphys", "drnd", "np", "desk", "boss", "drout"}
    assert "otherdoc" not in html and "pat" not in rows
    assert rows["drphys"].startswith("Drphys Test drphys Physician Active Set up 20")
    assert "Deactivate Drphys Test" in rows["drphys"]
    assert "Reset second factor of Drphys Test" in rows["drphys"]
    assert rows["np"] == (
        "Np Test np Nurse practitioner Deactivated Not set up never Reactivate Np Test"
    )
    # The administrator's own row offers no action.
    assert rows["boss"].startswith("Boss Test (you) boss Clinic administrator Active Set up")
    assert "Deactivate" not in rows["boss"] and "Reset" not in rows["boss"]
    assert "6 accounts" in html


def test_an_enrolment_begun_but_not_confirmed_shows_and_can_be_reset(world):
    """Someone holding a stolen password may have started setting up an app: the admin sees
    it and can clear it."""
    TOTPDevice.objects.create(user=world.nurse, name="Half set up", confirmed=False)
    html = world.client_for(world.admin).get(USERS).content.decode()
    row = re.search(r'<tr data-account="np">(.*?)</tr>', html, flags=re.S).group(1)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row))
    assert "Being set up" in text and "Reset second factor" in text
    response = world.client_for(world.admin).post(reset_url(world.nurse), {"reason": REASON})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=world.nurse).exists()


def test_the_list_is_paginated(world, settings):
    settings.PAGE_SIZE = 5
    for n in range(6):
        make_user(world.clinic, f"zz-staff-{n}", Role.FRONT_DESK)
    client = world.client_for(world.admin)
    first = client.get(USERS).content.decode()
    assert "12 accounts" in first and "Page 1 of 3" in first
    assert first.count("<tr data-account=") == 5
    last = client.get(f"{USERS}?page=3").content.decode()
    assert last.count("<tr data-account=") == 2 and "zz-staff-5" in last


def test_only_clinic_admins_see_the_link_in_the_navigation(world):
    link = f'href="{USERS}"'
    assert link in world.client_for(world.admin).get(reverse("accounts:account")).content.decode()
    for user in (world.front_desk, world.physician, world.patient_user):
        page = world.client_for(user).get(reverse("accounts:account")).content.decode()
        assert link not in page


# -- who may -----------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["front_desk", "physician", "patient_user", "other_physician"])
def test_other_roles_are_refused_with_403_and_it_is_recorded(world, role):
    user = getattr(world, role)
    client = world.client_for(user)
    assert client.get(USERS).status_code == 403
    response = client.post(deactivate_url(world.nurse), {"reason": REASON})
    assert response.status_code == 403
    assert fresh(world.nurse).is_active
    event = AuditEvent.objects.filter(action="access_refused", user_id=user.pk).last()
    assert (event.object_type, event.object_id, event.detail) == (
        "user",
        str(world.nurse.pk),
        {"status": 403},
    )


def test_the_signed_out_are_sent_to_sign_in(world):
    for url in (USERS, deactivate_url(world.nurse), reset_url(world.nurse)):
        response = Client().get(url)
        assert response.status_code == 302 and response["Location"].startswith(f"{LOGIN}?next=")
    response = Client().post(deactivate_url(world.nurse), {"reason": REASON})
    assert response["Location"].startswith(f"{LOGIN}?next=")
    assert fresh(world.nurse).is_active


@pytest.mark.parametrize("url", [deactivate_url, reactivate_url, reset_url])
def test_another_clinics_account_and_a_patients_account_answer_404(world, url):
    second_factor_device(world.other_physician)
    client = world.client_for(world.admin)
    for account in (world.other_physician, world.patient_user):
        assert client.get(url(account)).status_code == 404
        assert client.post(url(account), {"reason": REASON}).status_code == 404
    assert fresh(world.other_physician).is_active and fresh(world.patient_user).is_active
    assert TOTPDevice.objects.filter(user=world.other_physician).exists()
    assert not changes(world.other_physician)
    refused = AuditEvent.objects.filter(action="access_refused", user_id=world.admin.pk)
    assert refused.filter(object_id=str(world.other_physician.pk)).count() == 2


def test_another_clinics_admin_gets_404_for_this_clinics_account(world):
    admin_b = make_user(world.other_clinic, "admin-b", Role.CLINIC_ADMIN)
    client = world.client_for(admin_b)
    assert client.post(deactivate_url(world.nurse), {"reason": REASON}).status_code == 404
    assert fresh(world.nurse).is_active
    # Their own list holds their clinic's staff only.
    html = client.get(USERS).content.decode()
    assert 'data-account="otherdoc"' in html and 'data-account="np"' not in html


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.admin)
    response = client.post(deactivate_url(world.nurse), {"reason": REASON})
    assert response.status_code == 403
    assert fresh(world.nurse).is_active and not changes(world.nurse)


def test_the_list_takes_only_get(world):
    assert world.client_for(world.admin).post(USERS).status_code == 405


# -- deactivating ------------------------------------------------------------------------


def test_the_confirmation_page_says_what_happens_and_asks_for_a_reason(world):
    response = world.client_for(world.admin).get(deactivate_url(world.nurse))
    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1" in html and "Deactivate Np Test</h1>" in html
    assert "Every session of Np Test ends at once" in html
    assert 'name="reason"' in html and "csrfmiddlewaretoken" in html
    assert fresh(world.nurse).is_active  # opening the page changes nothing


def test_an_admin_deactivates_a_user_whose_sessions_end_at_once(world):
    phone = signed_in(world.nurse)
    cookie = phone.cookies["sessionid"].value
    assert phone.get(PATIENTS).status_code == 200
    admin = world.client_for(world.admin)
    response = admin.post(deactivate_url(world.nurse), {"reason": f"  {REASON}\n"})
    assert response.status_code == 302 and response["Location"] == USERS
    page = admin.get(USERS).content.decode()
    assert "Np Test is deactivated: every session of theirs has ended" in page
    assert not fresh(world.nurse).is_active
    # The session they had is refused at its next request, and a copy of its cookie too.
    assert phone.get(PATIENTS)["Location"].startswith(LOGIN)
    replay = Client()
    replay.cookies["sessionid"] = cookie
    assert replay.get(PATIENTS)["Location"].startswith(LOGIN)
    assert sign_in(Client(), world.nurse).status_code == 200  # the password is refused
    [event] = changes(world.nurse)
    assert (event.user_id, event.clinic_id, event.outcome) == (
        world.admin.pk,
        world.clinic.pk,
        "ok",
    )
    assert event.detail == {"change": "deactivated", "reason": REASON, "tokens_revoked": 0}


@pytest.mark.parametrize(
    ("reason", "message"),
    [
        ("", "Reason: Give the reason for this change."),
        ("   ", "Reason: Give the reason for this change."),
        ("too short", "Reason: Give a reason of at least 10 characters"),
        ("x" * 201, "Reason: Keep the reason to 200 characters at most."),
    ],
)
def test_a_missing_or_bad_reason_is_refused_naming_the_field(world, reason, message):
    client = world.client_for(world.admin)
    for url in (deactivate_url(world.nurse), reset_url(world.physician)):
        second_factor_device(world.physician)
        response = client.post(url, {"reason": reason})
        assert response.status_code == 400
        html = response.content.decode()
        assert message in html
        assert "Nothing was changed." in html
    assert fresh(world.nurse).is_active
    assert TOTPDevice.objects.filter(user=world.physician).exists()
    assert not changes(world.nurse) and not changes(world.physician)


def test_deactivation_revokes_api_tokens_and_reactivation_does_not_revive_them(world):
    from prolotrack.api.tokens import token_create

    _, secret = token_create(
        clinic=world.clinic, name="Lab", user=world.nurse, read_only=True, created_by=None
    )
    api = Client()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    assert api.get("/api/v1/patients", **auth).status_code != 401
    user_deactivate(user=world.nurse, by=world.admin, reason=REASON)
    assert api.get("/api/v1/patients", **auth).status_code == 401
    user_reactivate(user=world.nurse, by=world.admin, reason=REASON)
    assert api.get("/api/v1/patients", **auth).status_code == 401  # a new token is needed
    assert changes(world.nurse)[0].detail["tokens_revoked"] == 1


def test_an_empty_post_is_refused_naming_the_reason(world):
    client = world.client_for(world.admin)
    response = client.post(deactivate_url(world.nurse), {})
    assert response.status_code == 400
    assert "Reason: Give the reason for this change." in response.content.decode()
    assert fresh(world.nurse).is_active


def test_an_admin_cannot_deactivate_themselves(world):
    client = world.client_for(world.admin)
    page = client.get(deactivate_url(world.admin))
    assert page.status_code == 200
    html = page.content.decode()
    assert "You cannot deactivate your own account here" in html
    assert 'name="reason"' not in html  # no form to send
    response = client.post(deactivate_url(world.admin), {"reason": REASON})
    assert response.status_code == 409
    assert "You cannot deactivate your own account here" in response.content.decode()
    assert fresh(world.admin).is_active
    assert client.get(PATIENTS).status_code == 200  # still signed in
    [event] = changes(world.admin)
    assert (event.outcome, event.detail) == (
        "refused",
        {"change": "deactivated", "reason": REASON, "refused": "self"},
    )


def test_an_admin_deactivates_another_admin_but_never_the_last_active_one(world):
    second = make_user(world.clinic, "boss2", Role.CLINIC_ADMIN)
    response = world.client_for(world.admin).post(deactivate_url(second), {"reason": REASON})
    assert response.status_code == 302
    assert not fresh(second).is_active
    # The operator, at the command line, may not take the clinic's last administrator either.
    with pytest.raises(AccountChangeRefused, match="last active administrator") as refused:
        user_deactivate(user=world.admin, by=None, reason=REASON)
    assert refused.value.code == "last_admin"
    assert fresh(world.admin).is_active
    [event] = changes(world.admin)
    assert (event.user_id, event.outcome) == (None, "refused")
    assert event.detail == {
        "change": "deactivated",
        "reason": REASON,
        "cli": True,
        "refused": "last_admin",
    }
    # Another clinic's administrators do not count for this one.
    make_user(world.other_clinic, "admin-b", Role.CLINIC_ADMIN)
    with pytest.raises(AccountChangeRefused):
        user_deactivate(user=world.admin, by=None, reason=REASON)


def test_an_already_deactivated_account_is_refused_with_a_message(world):
    user_deactivate(user=world.nurse, by=world.admin, reason=REASON)
    response = world.client_for(world.admin).post(deactivate_url(world.nurse), {"reason": REASON})
    assert response.status_code == 409
    assert "Np Test is deactivated already." in response.content.decode()
    assert [e.outcome for e in changes(world.nurse)] == ["ok", "refused"]


# -- reactivating ------------------------------------------------------------------------


def test_an_admin_reactivates_a_user_who_signs_in_again_but_old_sessions_stay_ended(world, clock):
    old = signed_in(world.nurse)
    user_deactivate(user=world.nurse, by=world.admin, reason=REASON)
    admin = world.client_for(world.admin)
    assert "Reactivate Np Test" in admin.get(reactivate_url(world.nurse)).content.decode()
    response = admin.post(reactivate_url(world.nurse), {"reason": "Back from a year abroad"})
    assert response.status_code == 302
    assert fresh(world.nurse).is_active
    assert old.get(PATIENTS)["Location"].startswith(LOGIN)
    clock.advance(seconds=30)  # the next code of their app: the first one was used already
    assert signed_in(world.nurse).get(PATIENTS).status_code == 200
    assert [(e.outcome, e.detail["change"]) for e in changes(world.nurse)] == [
        ("ok", "deactivated"),
        ("ok", "reactivated"),
    ]
    assert changes(world.nurse)[-1].detail["reason"] == "Back from a year abroad"


def test_reactivating_an_active_account_is_refused(world):
    client = world.client_for(world.admin)
    assert "Np Test is active already." in client.get(reactivate_url(world.nurse)).content.decode()
    response = client.post(reactivate_url(world.nurse), {"reason": REASON})
    assert response.status_code == 409
    with pytest.raises(AccountChangeRefused, match="active already"):
        user_reactivate(user=world.nurse, by=None, reason=REASON)
    assert [e.outcome for e in changes(world.nurse)] == ["refused", "refused"]


# -- resetting the second factor ---------------------------------------------------------


def test_a_reset_sends_the_user_to_enrol_again_after_their_password(world):
    device = second_factor_device(world.physician)
    phone = signed_in(world.physician)
    TOTPDevice.objects.create(user=world.physician, name="Half enrolled", confirmed=False)
    colleague = second_factor_device(world.naturopath)
    admin = world.client_for(world.admin)
    page = admin.get(reset_url(world.physician)).content.decode()
    assert "make sure it is really them asking" in page
    response = admin.post(reset_url(world.physician), {"reason": "Lost phone, seen in person"})
    assert response.status_code == 302 and response["Location"] == USERS
    assert "authenticator app is removed" in admin.get(USERS).content.decode()
    assert not TOTPDevice.objects.filter(user=world.physician).exists()
    assert TOTPDevice.objects.filter(pk=colleague.pk).exists()
    # Their session has ended; they stay active and sign in with their password ...
    assert phone.get(PATIENTS)["Location"].startswith(f"{LOGIN}?signed_out=revoked")
    assert fresh(world.physician).is_active
    client = Client()
    response = sign_in(client, world.physician, next_url=PATIENTS)
    assert response["Location"].startswith(reverse("accounts:second_factor"))
    # ... and are sent to set up an app; the old one's code no longer counts.
    response = client.get(response["Location"])
    assert response["Location"].startswith(reverse("accounts:second_factor_enrol"))
    assert client.get(PATIENTS)["Location"].startswith(reverse("accounts:second_factor"))
    old_code = current_code(device)
    response = client.post(reverse("accounts:second_factor"), {"code": old_code})
    assert response["Location"].startswith(reverse("accounts:second_factor_enrol"))
    [event] = changes(world.physician)
    assert event.detail == {
        "change": "second_factor_reset",
        "reason": "Lost phone, seen in person",
        "devices": 2,
    }


def test_an_admin_cannot_reset_their_own_second_factor(world):
    client = world.client_for(world.admin)
    html = client.get(reset_url(world.admin)).content.decode()
    assert "You cannot reset your own second factor here" in html
    response = client.post(reset_url(world.admin), {"reason": REASON})
    assert response.status_code == 409
    assert TOTPDevice.objects.filter(user=world.admin, confirmed=True).exists()
    assert client.get(PATIENTS).status_code == 200
    assert changes(world.admin)[0].detail["refused"] == "self"


def test_a_reset_without_any_device_is_refused(world):
    TOTPDevice.objects.filter(user=world.front_desk).delete()
    with pytest.raises(AccountChangeRefused, match="no authenticator app set up"):
        user_second_factor_reset(user=world.front_desk, by=world.admin, reason=REASON)
    response = world.client_for(world.admin).post(reset_url(world.front_desk), {"reason": REASON})
    assert response.status_code == 409
    assert "Desk Test has no authenticator app set up" in response.content.decode()


def test_the_reset_service_returns_the_devices_removed_and_ends_sessions(world):
    second_factor_device(world.front_desk)
    before = fresh(world.front_desk).session_generation
    removed = user_second_factor_reset(user=world.front_desk, by=world.admin, reason=REASON)
    assert removed == 1
    assert fresh(world.front_desk).session_generation == before + 1


# -- the command line --------------------------------------------------------------------


def run(*args: str) -> str:
    out = StringIO()
    call_command("user", *args, stdout=out)
    return out.getvalue()


def test_the_command_deactivates_reactivates_and_resets_with_a_reason(world):
    clinic = f"--clinic={world.clinic.name}"
    second_factor_device(world.physician)
    assert "np is deactivated" in run("deactivate", clinic, f"--reason={REASON}", "np")
    assert not fresh(world.nurse).is_active
    assert "np is active again" in run("reactivate", clinic, "--reason=Came back to us", "np")
    assert fresh(world.nurse).is_active
    out = run("reset-second-factor", clinic, "--reason=Lost phone, called back", "drphys")
    assert "1 removed" in out
    assert not TOTPDevice.objects.filter(user=world.physician).exists()
    events = changes(world.nurse) + changes(world.physician)
    assert [(e.user_id, e.detail["change"], e.detail["cli"]) for e in events] == [
        (None, "deactivated", True),
        (None, "reactivated", True),
        (None, "second_factor_reset", True),
    ]
    listing = run("list", clinic)
    assert "drphys\tphysician\tactive\tno second factor" in listing
    assert "pat\t" not in listing


def test_the_command_lets_the_operator_reset_a_lone_admins_second_factor(world):
    second_factor_device(world.admin)
    run("reset-second-factor", f"--clinic={world.clinic.name}", f"--reason={REASON}", "boss")
    assert not TOTPDevice.objects.filter(user=world.admin).exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["deactivate", "--clinic=Nowhere", f"--reason={REASON}", "np"], "--clinic: no clinic"),
        (["deactivate", "--clinic=Harbour Prolotherapy", "--reason=short", "np"], "--reason: "),
        (
            ["deactivate", "--clinic=Harbour Prolotherapy", f"--reason={REASON}", "otherdoc"],
            "no staff account",
        ),
        (
            ["deactivate", "--clinic=Harbour Prolotherapy", f"--reason={REASON}", "pat"],
            "no staff account",
        ),
        (
            ["deactivate", "--clinic=Harbour Prolotherapy", f"--reason={REASON}", "boss"],
            "last active administrator",
        ),
    ],
)
def test_the_command_refuses_with_a_message(world, args, message):
    with pytest.raises(CommandError, match=message):
        run(*args)
    assert all(u.is_active for u in User.objects.all())


# -- two administrators at once ----------------------------------------------------------


def deactivate_in_thread(
    start: threading.Barrier, outcomes: list[str], user: User, by: User
) -> None:
    try:
        start.wait()
        user_deactivate(user=user, by=by, reason=REASON)
        outcomes.append("ok")
    except AccountChangeRefused as refused:
        outcomes.append(refused.code)
    except BaseException as exc:  # reported by the test, on its own thread
        outcomes.append(repr(exc))
    finally:
        connections.close_all()


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the SQLite test database is shared in-memory, whose table locks do not wait; "
    "the file database of a real installation queues writers with BEGIN IMMEDIATE",
)
@pytest.mark.django_db(transaction=True)
def test_two_admins_deactivating_each_other_at_once_leave_one_active():
    """Each sees the other active before either writes; the row locks make the second wait
    and count again, so the clinic keeps an administrator (and no deadlock) in every trial."""
    for trial in range(10):
        clinic = Clinic.objects.create(name=f"Race clinic {trial}")
        first = make_user(clinic, f"race-a-{trial}", Role.CLINIC_ADMIN)
        second = make_user(clinic, f"race-b-{trial}", Role.CLINIC_ADMIN)
        start = threading.Barrier(2)
        outcomes: list[str] = []
        threads = [
            threading.Thread(target=deactivate_in_thread, args=(start, outcomes, a, b))
            for a, b in ((first, second), (second, first))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(outcomes) == ["last_admin", "ok"], outcomes
        assert User.objects.filter(clinic=clinic, is_active=True).count() == 1
