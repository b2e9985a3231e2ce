"""Break-glass access to a patient outside one's care (RELIABILITY.md T22, issue 3 item 5).

The world's patient is in the care of its physician, naturopath and nurse; the outsider is a
physician of the same clinic who is not.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone

from prolotrack.audit.models import AuditEvent
from prolotrack.patients.models import BreakGlassGrant, CareTeamMember
from tests.audit.conftest import AuditLog
from tests.treatment.charting_helpers import record_session

REASON = "Covering the on-call clinic: patient phoned with a flare after the last session."
NAME_PARTS = ("Avery", "Example", "A-001")  # the world patient's names and chart number


@pytest.fixture
def audit_log(db: None) -> AuditLog:
    return AuditLog()


@contextmanager
def clock(at: dt.datetime) -> Iterator[None]:
    """Everything that asks timezone.now() sees ``at``."""
    with mock.patch("django.utils.timezone.now", return_value=at):
        yield


def chart_url(world) -> str:
    return reverse("treatment:chart", args=[world.patient.pk])


def glass_url(world) -> str:
    return reverse("patients:break_glass", args=[world.patient.pk])


def break_glass(world, reason: str = REASON, client=None, **extra: str):
    """The outsider's break-glass form, posted; signing in is an audit event of its own, so
    tests that count events pass a client signed in beforehand."""
    client = client or world.client_for(world.outsider)
    return client, client.post(glass_url(world), {"reason": reason, **extra})


def assert_no_phi(response) -> None:
    body = response.content.decode()
    for part in NAME_PARTS:
        assert part not in body


def latest_event() -> AuditEvent:
    return AuditEvent.objects.order_by("-id").first()


# Without a grant ---------------------------------------------------------------------------------


def test_it_answers_the_outsider_with_the_break_glass_form_not_the_chart(world, audit_log):
    client = world.client_for(world.outsider)
    mark = audit_log.mark()
    response = client.get(chart_url(world))
    assert response.status_code == 403
    body = response.content.decode()
    assert "not in your care" in body
    assert f'action="{glass_url(world)}"' in body
    assert 'name="reason"' in body
    assert_no_phi(response)
    assert not BreakGlassGrant.objects.exists()
    [event] = audit_log.since(mark)
    assert (event.action, event.outcome, event.break_glass) == ("access_refused", "refused", False)
    assert event.detail == {"status": 403}


@pytest.mark.parametrize(
    "page",
    ["patients:edit", "patients:screening", "treatment:session_detail", "treatment:session_new"],
)
def test_every_clinical_page_of_the_patient_asks_the_outsider_to_break_glass(world, page):
    session = record_session(world)
    args = {
        "patients:edit": world.patient.pk,
        "patients:screening": world.patient.pk,
        "treatment:session_detail": session.pk,
        "treatment:session_new": world.series.pk,
    }[page]
    response = world.client_for(world.outsider).get(reverse(page, args=[args]))
    assert response.status_code == 403
    assert f'action="{glass_url(world)}"' in response.content.decode()
    assert_no_phi(response)
    assert "Tender medial knee" not in response.content.decode()  # the session's note


def test_a_post_of_the_outsider_changes_nothing(world):
    client = world.client_for(world.outsider)
    url = reverse("treatment:condition_add", args=[world.patient.pk])
    response = client.post(url, {"code": "knee_oa", "region": "knee"})
    assert response.status_code == 403
    assert not world.patient.conditions.exists()
    # After the grant it returns to the chart, not to the address the form posted to.
    assert "/conditions/" not in response.content.decode()


@pytest.mark.parametrize("reason", ["", "   ", "urgent", "x" * 9])
def test_it_refuses_a_missing_or_too_short_reason_naming_the_field(world, audit_log, reason):
    client = world.client_for(world.outsider)
    mark = audit_log.mark()
    _, response = break_glass(world, reason, client)
    assert response.status_code == 403
    body = response.content.decode()
    assert "Reason:" in body  # the error names the field
    assert "The record was not opened" in body
    assert_no_phi(response)
    assert not BreakGlassGrant.objects.exists()
    [event] = audit_log.since(mark)
    assert (event.action, event.outcome, event.break_glass) == ("break_glass", "refused", False)
    assert client.get(chart_url(world)).status_code == 403


# With a grant ------------------------------------------------------------------------------------


def test_a_reason_opens_the_chart_for_sixty_minutes_and_flags_the_audit_trail(world, audit_log):
    start = timezone.now().replace(microsecond=0)
    client = world.client_for(world.outsider)
    mark = audit_log.mark()
    with clock(start):
        _, response = break_glass(world, client=client, next=chart_url(world))
    assert response.status_code == 302
    assert response["Location"] == chart_url(world)

    grant = BreakGlassGrant.objects.get()
    assert (grant.user, grant.patient, grant.clinic) == (
        world.outsider,
        world.patient,
        world.clinic,
    )
    assert grant.reason == REASON
    assert grant.created_at == start
    assert grant.expires_at == start + dt.timedelta(minutes=60)

    [event] = audit_log.since(mark)
    assert (event.action, event.outcome, event.break_glass) == ("break_glass", "ok", True)
    assert (event.user_id, event.patient_id) == (world.outsider.pk, world.patient.pk)
    assert (event.object_type, event.object_id) == ("break_glass_grant", str(grant.pk))
    assert event.detail["reason"] == REASON

    mark = audit_log.mark()
    with clock(start + dt.timedelta(minutes=1)):
        response = client.get(chart_url(world))
    assert response.status_code == 200
    assert "Avery Example" in response.content.decode()
    [event] = audit_log.since(mark)
    assert (event.action, event.patient_id, event.break_glass) == ("read", world.patient.pk, True)


def test_every_event_under_the_grant_is_flagged_and_no_other(world, audit_log):
    session = record_session(world)
    start = timezone.now()
    with clock(start):
        client, _ = break_glass(world)
    colleague = world.client_for(world.physician)
    mark = audit_log.mark()
    with clock(start + dt.timedelta(minutes=5)):
        assert client.get(reverse("treatment:session_detail", args=[session.pk])).status_code == 200
        assert client.get(reverse("patients:screening", args=[world.patient.pk])).status_code == 200
        assert colleague.get(chart_url(world)).status_code == 200
    outsider, screening, physician = audit_log.since(mark)
    assert (outsider.user_id, outsider.object_type, outsider.break_glass) == (
        world.outsider.pk,
        "session",
        True,
    )
    assert (screening.user_id, screening.break_glass) == (world.outsider.pk, True)
    # The physician has the patient in their care: their reads are ordinary.
    assert (physician.user_id, physician.break_glass) == (world.physician.pk, False)


def test_access_ends_after_sixty_minutes(world):
    start = timezone.now()
    with clock(start):
        break_glass(world)
    with clock(start + dt.timedelta(minutes=59)):
        assert world.client_for(world.outsider).get(chart_url(world)).status_code == 200
    with clock(start + dt.timedelta(minutes=61)):
        response = world.client_for(world.outsider).get(chart_url(world))
    assert response.status_code == 403
    assert f'action="{glass_url(world)}"' in response.content.decode()
    assert_no_phi(response)
    # An event after the grant ended is not flagged either.
    assert (latest_event().action, latest_event().break_glass) == ("access_refused", False)


def test_a_new_reason_after_expiry_opens_a_new_grant(world):
    start = timezone.now()
    with clock(start):
        break_glass(world)
    with clock(start + dt.timedelta(minutes=61)):
        _, response = break_glass(
            world, "Patient back in the clinic with new swelling of the knee."
        )
        assert response.status_code == 302
        assert world.client_for(world.outsider).get(chart_url(world)).status_code == 200
    assert BreakGlassGrant.objects.count() == 2


def test_a_second_request_while_the_grant_runs_adds_no_grant(world, audit_log):
    client, _ = break_glass(world)
    mark = audit_log.mark()
    response = client.post(glass_url(world), {"reason": REASON})
    assert response.status_code == 302
    assert BreakGlassGrant.objects.count() == 1
    [event] = audit_log.since(mark)
    assert (event.action, event.outcome) == ("break_glass", "failed")


def test_it_never_redirects_off_site_after_the_grant(world):
    _, response = break_glass(world, next="https://elsewhere.example/steal")
    assert response.status_code == 302
    assert response["Location"] == chart_url(world)


def test_the_grant_opens_only_its_patient(world):
    from tests.conftest import make_patient

    second = make_patient(world.clinic, "A-002", given_name="Morgan", family_name="Second")
    break_glass(world)
    response = world.client_for(world.outsider).get(reverse("treatment:chart", args=[second.pk]))
    assert response.status_code == 403
    assert "Morgan" not in response.content.decode()


# Who may not break the glass ---------------------------------------------------------------------


def test_another_clinics_practitioner_gets_404_never_a_break_glass_page(world, audit_log):
    client = world.client_for(world.other_physician)
    assert client.get(chart_url(world)).status_code == 404
    mark = audit_log.mark()
    response = client.post(glass_url(world), {"reason": REASON})
    assert response.status_code == 404
    assert "reason" not in response.content.decode()
    assert not BreakGlassGrant.objects.exists()
    [event] = audit_log.since(mark)
    assert (event.action, event.clinic_id, event.patient_id) == (
        "access_refused",
        world.other_clinic.pk,
        None,
    )


@pytest.mark.parametrize("role", ["front_desk", "clinic_admin"])
def test_front_desk_and_admins_cannot_break_glass_into_clinical_pages(world, role):
    client = world.client_for(world.roles[role])
    response = client.post(glass_url(world), {"reason": REASON})
    assert response.status_code == 403
    assert not BreakGlassGrant.objects.exists()
    session = record_session(world)
    response = client.get(reverse("treatment:session_detail", args=[session.pk]))
    assert response.status_code == 403
    assert 'name="reason"' not in response.content.decode()
    assert "Tender medial knee" not in response.content.decode()


def test_front_desk_keeps_the_demographics_chart(world):
    response = world.client_for(world.front_desk).get(chart_url(world))
    assert response.status_code == 200
    assert "Avery Example" in response.content.decode()
    assert "Active findings" not in response.content.decode()


def test_the_patient_cannot_break_glass(world):
    response = world.client_for(world.patient_user).post(glass_url(world), {"reason": REASON})
    assert response.status_code == 403
    assert not BreakGlassGrant.objects.exists()


def test_break_glass_answers_only_posts(world):
    assert world.client_for(world.outsider).get(glass_url(world)).status_code == 405


# The care relationship ---------------------------------------------------------------------------


def test_the_practitioner_of_a_session_has_the_patient_in_their_care(world):
    record_session(world, practitioner=world.outsider)
    assert not CareTeamMember.objects.filter(user=world.outsider).exists()
    assert world.client_for(world.outsider).get(chart_url(world)).status_code == 200


def test_a_physician_puts_a_colleague_on_the_care_team(world, audit_log):
    client = world.client_for(world.physician)
    mark = audit_log.mark()
    url = reverse("patients:care_team", args=[world.patient.pk])
    response = client.post(url, {"clinician": world.outsider.pk})
    assert response.status_code == 302
    member = CareTeamMember.objects.get(user=world.outsider)
    assert (member.patient, member.added_by, member.clinic) == (
        world.patient,
        world.physician,
        world.clinic,
    )
    [event] = audit_log.since(mark)
    assert (event.action, event.outcome, event.object_type) == ("change", "ok", "care_team")
    assert (event.patient_id, event.detail) == (
        world.patient.pk,
        {"added_user_id": world.outsider.pk},
    )
    assert world.client_for(world.outsider).get(chart_url(world)).status_code == 200


def test_the_edit_page_lists_the_care_team_and_offers_the_others(world):
    response = world.client_for(world.admin).get(reverse("patients:edit", args=[world.patient.pk]))
    body = response.content.decode()
    assert 'id="care-team"' in body
    assert world.nurse.display_name in body
    assert f'<option value="{world.outsider.pk}">' in body
    assert f'<option value="{world.physician.pk}">' not in body  # already on the team
    assert f'<option value="{world.other_physician.pk}">' not in body  # another clinic


def test_an_admin_may_add_to_the_care_team(world):
    url = reverse("patients:care_team", args=[world.patient.pk])
    response = world.client_for(world.admin).post(url, {"clinician": world.outsider.pk})
    assert response.status_code == 302
    assert CareTeamMember.objects.filter(user=world.outsider, added_by=world.admin).exists()


@pytest.mark.parametrize("who", ["other_physician", "front_desk", "admin"])
def test_only_the_clinics_practitioners_join_a_care_team(world, audit_log, who):
    url = reverse("patients:care_team", args=[world.patient.pk])
    client = world.client_for(world.physician)
    mark = audit_log.mark()
    response = client.post(url, {"clinician": getattr(world, who).pk})
    assert response.status_code == 302
    [event] = audit_log.since(mark)
    assert (event.action, event.outcome) == ("change", "failed")
    response = client.get(response["Location"])
    assert "Practitioner: Choose a practitioner of this clinic" in response.content.decode()
    assert not CareTeamMember.objects.filter(user=getattr(world, who)).exists()


@pytest.mark.parametrize("role", ["front_desk", "patient"])
def test_front_desk_and_patients_do_not_change_a_care_team(world, role):
    url = reverse("patients:care_team", args=[world.patient.pk])
    response = world.client_for(world.roles[role]).post(url, {"clinician": world.outsider.pk})
    assert response.status_code in (403, 404)
    assert not CareTeamMember.objects.filter(user=world.outsider).exists()


def test_the_outsider_cannot_add_themselves_without_breaking_glass(world):
    url = reverse("patients:care_team", args=[world.patient.pk])
    response = world.client_for(world.outsider).post(url, {"clinician": world.outsider.pk})
    assert response.status_code == 403
    assert not CareTeamMember.objects.filter(user=world.outsider).exists()


def test_a_practitioner_who_creates_a_patient_has_them_in_their_care(world):
    data = {
        "chart_number": "A-901",
        "given_name": "Robin",
        "family_name": "Quarry",
        "birth_date": "1980-05-17",
        "sex": "male",
        "weight_kg": "81",
    }
    response = world.client_for(world.outsider).post(reverse("patients:create"), data)
    assert response.status_code == 302
    member = CareTeamMember.objects.get(patient__chart_number="A-901")
    assert member.user == world.outsider
    assert world.client_for(world.outsider).get(response["Location"]).status_code == 200


def test_a_patient_created_by_the_front_desk_has_no_care_team_yet(world):
    data = {"chart_number": "A-902", "given_name": "Sam", "family_name": "Ledger"}
    data |= {"birth_date": "1990-01-01", "sex": "female"}
    assert (
        world.client_for(world.front_desk).post(reverse("patients:create"), data).status_code == 302
    )
    assert not CareTeamMember.objects.filter(patient__chart_number="A-902").exists()
