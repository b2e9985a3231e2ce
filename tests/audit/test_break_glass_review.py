"""The break-glass review page and the "break-glass only" filter of the audit trail (T22)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone

from prolotrack.accounts.models import Role, User
from prolotrack.patients.break_glass import break_glass_open
from prolotrack.patients.models import BreakGlassGrant

REASON = "Covering the on-call clinic: patient phoned with a flare after the last session."
REVIEW = reverse("audit:break_glass")


@pytest.fixture
def auditor(world) -> User:
    return User.objects.create_user(
        username="reviewer", password="not-used-here", clinic=world.clinic, role=Role.AUDITOR
    )


def open_chart_under_grant(world) -> BreakGlassGrant:
    """The outsider breaks the glass through the page and reads the chart twice."""
    client = world.client_for(world.outsider)
    url = reverse("patients:break_glass", args=[world.patient.pk])
    assert client.post(url, {"reason": REASON}).status_code == 302
    chart = reverse("treatment:chart", args=[world.patient.pk])
    assert client.get(chart).status_code == 200
    assert client.get(chart).status_code == 200
    return BreakGlassGrant.objects.get()


@pytest.mark.parametrize("reader", ["admin", "auditor"])
def test_it_lists_the_days_break_glass_accesses_with_their_reason(world, auditor, reader):
    open_chart_under_grant(world)
    user = auditor if reader == "auditor" else world.admin
    response = world.client_for(user).get(REVIEW)
    assert response.status_code == 200
    body = response.content.decode()
    assert world.outsider.display_name in body
    assert "Example, Avery" in body
    assert REASON in body
    assert "active" in body
    # The two chart reads under the grant, linked to the filtered audit trail.
    assert f"patient_id={world.patient.pk}&amp;break_glass=on" in body
    assert ">2</a>" in body


def test_it_lists_newest_first_and_keeps_to_the_period(world):
    now = timezone.now()
    old = break_glass_open(
        user=world.outsider, patient=world.patient, reason="Two days ago: urgent review.", now=now
    )
    BreakGlassGrant.objects.filter(pk=old.pk).update(
        created_at=now - dt.timedelta(days=2), expires_at=now - dt.timedelta(days=2, minutes=-60)
    )
    break_glass_open(user=world.outsider, patient=world.patient, reason="Earlier today: a call.")
    break_glass_open(user=world.outsider, patient=world.patient, reason="Just now: the flare.")
    client = world.client_for(world.admin)
    body = client.get(REVIEW).content.decode()
    assert "Two days ago" not in body
    assert body.index("Just now") < body.index("Earlier today")
    assert "Two days ago" in client.get(REVIEW, {"days": 7}).content.decode()


def test_an_unknown_period_answers_400(world):
    assert world.client_for(world.admin).get(REVIEW, {"days": "3650"}).status_code == 400


def test_it_shows_no_other_clinics_accesses(world):
    from tests.conftest import make_user

    colleague = make_user(world.other_clinic, "otherout", Role.PHYSICIAN, "physician")
    break_glass_open(user=colleague, patient=world.other_patient, reason="Other clinic reason.")
    body = world.client_for(world.admin).get(REVIEW).content.decode()
    assert "Other clinic reason" not in body
    assert "No break-glass access in this period" in body


def test_the_expired_grant_is_listed_without_the_active_badge(world):
    start = timezone.now() - dt.timedelta(hours=2)
    break_glass_open(user=world.outsider, patient=world.patient, reason=REASON, now=start)
    body = world.client_for(world.admin).get(REVIEW).content.decode()
    assert REASON in body
    assert "badge-serious" not in body


@pytest.mark.parametrize(
    "role", ["physician", "naturopathic_doctor", "front_desk", "patient", "other_clinic_physician"]
)
def test_only_admins_and_auditors_review(world, role):
    break_glass_open(user=world.outsider, patient=world.patient, reason=REASON)
    response = world.client_for(world.roles[role]).get(REVIEW)
    assert response.status_code == 403
    assert REASON not in response.content.decode()


def test_reviewing_is_recorded(world, audit_log):
    break_glass_open(user=world.outsider, patient=world.patient, reason=REASON)
    client = world.client_for(world.admin)
    mark = audit_log.mark()
    client.get(REVIEW, {"days": 7})
    [event] = audit_log.since(mark)
    assert (event.action, event.object_type, event.user_id) == (
        "list",
        "break_glass_grant",
        world.admin.pk,
    )
    assert event.detail == {"days": 7, "count": 1}


def test_the_audit_trail_filters_break_glass_events(world):
    grant = open_chart_under_grant(world)
    client = world.client_for(world.admin)
    response = client.get(reverse("audit:list"), {"break_glass": "on"})
    assert response.status_code == 200
    page = response.context["page"]
    assert page.paginator.count == 3  # the grant and the two reads
    assert all(e.break_glass and e.user_id == world.outsider.pk for e in page.object_list)
    assert {e.action for e in page.object_list} == {"break_glass", "read"}
    assert grant.reason in {e.detail.get("reason") for e in page.object_list}
    # Unfiltered, the outsider's sign-in and the admin's own events show too.
    assert client.get(reverse("audit:list")).context["page"].paginator.count > 3


def test_the_export_keeps_the_break_glass_filter(world):
    open_chart_under_grant(world)
    response = world.client_for(world.admin).get(reverse("audit:export"), {"break_glass": "on"})
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 3  # the three flagged events
    assert {row["break_glass"] for row in rows} == {"True"}


def test_a_grant_runs_for_exactly_sixty_minutes(world):
    start = timezone.now()
    with mock.patch("django.utils.timezone.now", return_value=start):
        grant = break_glass_open(user=world.outsider, patient=world.patient, reason=REASON)
    assert grant.is_active(start + dt.timedelta(minutes=59, seconds=59))
    assert not grant.is_active(start + dt.timedelta(minutes=60))
