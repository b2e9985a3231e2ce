"""The ORM's clinic scope (ops.scoping; RELIABILITY.md T7, issue: "queries outside a clinic
scope fail closed"): on every database, a query for clinical rows outside a clinic's scope
raises, inside one it sees that clinic only, and a row of another clinic cannot be saved."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import HttpResponse, StreamingHttpResponse
from django.test import RequestFactory

from prolotrack.api.tokens import token_create
from prolotrack.diary.tasks import reminders_send_task
from prolotrack.ops import rls, scoping
from prolotrack.ops.middleware import ClinicScopeMiddleware
from prolotrack.ops.scoping import ScopeError, request_scope, scope
from prolotrack.patients.models import Condition, Patient
from prolotrack.treatment.models import TreatmentSeries


def test_every_walled_model_is_scoped_in_the_orm_and_no_other():
    """The two walls cover the same models: a new clinic model gets both or the test fails."""
    from django.apps import apps

    walled = set(rls.clinic_models())
    assert len(walled) >= 15  # the test cannot pass by finding nothing
    scoped = {m for m in apps.get_models() if scoping.is_clinic_scoped(m)}
    assert scoped == walled


@pytest.mark.django_db
def test_a_query_outside_any_clinic_scope_raises(world):
    with request_scope(None):
        with pytest.raises(ScopeError):
            list(Patient.objects.all())
        with pytest.raises(ScopeError):
            Patient.objects.filter(pk=world.patient.pk).exists()
        with pytest.raises(ScopeError):
            Patient.objects.get(pk=world.patient.pk)
        # Through a relation too: the related manager is the scoped one.
        with pytest.raises(ScopeError):
            list(world.patient.series.all())
        with pytest.raises(ScopeError):
            Condition.objects.count()


@pytest.mark.django_db
def test_inside_a_clinics_scope_another_clinics_rows_do_not_exist(world):
    with scope(clinic=world.clinic.pk):
        assert list(Patient.objects.values_list("chart_number", flat=True)) == ["A-001"]
        assert not Patient.objects.filter(pk=world.other_patient.pk).exists()
        with pytest.raises(Patient.DoesNotExist):
            Patient.objects.get(pk=world.other_patient.pk)
        assert list(world.patient.series.all()) == [world.series]
    with scope(clinic=world.other_clinic.pk):
        assert list(Patient.objects.values_list("chart_number", flat=True)) == ["B-001"]
        assert TreatmentSeries.objects.count() == 0


@pytest.mark.django_db
def test_a_row_of_another_clinic_cannot_be_saved_inside_a_scope(world):
    with scope(clinic=world.clinic.pk):
        world.patient.given_name = "Kept"
        world.patient.save()  # its own clinic's row: saved
        world.other_patient.given_name = "Moved"
        with pytest.raises(ScopeError, match="another clinic"):
            world.other_patient.save()
        with pytest.raises(ScopeError):
            Condition.objects.create(
                clinic=world.other_clinic, patient=world.other_patient, code="x", region="knee"
            )
    with request_scope(None), pytest.raises(ScopeError, match="must be active"):
        world.patient.save()
    world.other_patient.refresh_from_db()
    assert world.other_patient.given_name != "Moved"
    assert Condition.objects.filter(patient=world.other_patient).count() == 0


@pytest.mark.django_db
def test_outside_a_clinic_even_existence_tests_and_bulk_writes_raise(world):
    """django-scopes' own closed queryset still answers these; ours does not."""
    with request_scope(None):
        with pytest.raises(ScopeError):
            Patient.objects.exists()
        with pytest.raises(ScopeError):
            Patient.objects.exclude(chart_number="x").exists()
        with pytest.raises(ScopeError):
            Condition.objects.bulk_create(
                [Condition(clinic=world.other_clinic, patient=world.other_patient, code="x")]
            )
    assert not Condition.objects.filter(patient=world.other_patient).exists()


@pytest.mark.django_db
def test_another_clinics_row_cannot_be_pulled_into_the_scope_or_pushed_out(world):
    with scope(clinic=world.clinic.pk):
        stolen = Patient._base_manager.get(pk=world.other_patient.pk)
        stolen.clinic_id = world.clinic.pk
        with pytest.raises(ScopeError, match="belongs to another clinic"):
            stolen.save()
        with pytest.raises(ScopeError, match="cannot move"):
            Patient.objects.filter(pk=world.patient.pk).update(clinic=world.other_clinic)
        with pytest.raises(ScopeError, match="cannot move"):
            Patient.objects.filter(pk=world.patient.pk).update(clinic_id=world.other_clinic.pk)
        world.patient.clinic_id = world.other_clinic.pk
        with pytest.raises(ScopeError, match="cannot move"):
            Patient.objects.bulk_update([world.patient], ["clinic"])
        with pytest.raises(ScopeError, match="another clinic"):
            Condition.objects.bulk_create(
                [Condition(clinic=world.other_clinic, patient=world.other_patient, code="x")]
            )
        # Within the clinic, the same operations work.
        assert Patient.objects.filter(pk=world.patient.pk).update(given_name="Same") == 1
    assert Patient.objects.get(pk=world.other_patient.pk).clinic_id == world.other_clinic.pk
    assert Patient.objects.get(pk=world.patient.pk).clinic_id == world.clinic.pk


def test_a_scope_without_a_clinic_is_refused():
    """django-scopes reads clinic=None as no filter: every clinic."""
    with pytest.raises(ScopeError), scope(clinic=None):
        pass


def test_only_a_requests_scope_moves_to_a_tokens_clinic():
    with pytest.raises(ScopeError):
        scoping.request_clinic_set(1)
    with request_scope(None):
        scoping.request_clinic_set(7)
        assert scoping.current_clinic_id() == 7
    assert scoping.current_clinic_id() is None


@pytest.mark.django_db
def test_a_patient_account_without_a_clinic_gets_404_not_an_error(world, client):
    world.patient_user.clinic = None
    world.patient_user.save()
    client.force_login(world.patient_user)
    assert client.get("/diary/").status_code == 404


def forgetful_view(request) -> HttpResponse:
    """A view that forgets to name its clinic."""
    seen = sorted(Patient.objects.values_list("chart_number", flat=True))
    return HttpResponse(",".join(seen))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "expected"), [("physician", "A-001"), ("other_physician", "B-001")]
)
def test_a_view_that_forgets_its_clinic_sees_only_the_users_clinic(world, who, expected):
    request = RequestFactory().get("/")
    request.user = getattr(world, who)
    assert ClinicScopeMiddleware(forgetful_view)(request).content.decode() == expected


@pytest.mark.django_db
def test_an_anonymous_request_cannot_query_clinical_rows(world):
    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    with pytest.raises(ScopeError):
        ClinicScopeMiddleware(forgetful_view)(request)


@pytest.mark.django_db
def test_a_user_without_a_clinic_cannot_query_clinical_rows(world):
    world.admin.clinic = None
    request = RequestFactory().get("/")
    request.user = world.admin
    with pytest.raises(ScopeError):
        ClinicScopeMiddleware(forgetful_view)(request)


@pytest.mark.django_db
def test_a_request_does_not_inherit_the_callers_wider_scope(world):
    """The tests run with scopes off; a request opens a fresh scope all the same."""
    request = RequestFactory().get("/")
    request.user = world.physician
    with scoping.scopes_disabled():
        assert ClinicScopeMiddleware(forgetful_view)(request).content.decode() == "A-001"
    assert Patient.objects.count() == 2  # and the caller's scope is back afterwards


@pytest.mark.django_db
def test_a_streamed_response_keeps_the_clinic_scope_until_its_last_chunk(world):
    def streamed(request) -> StreamingHttpResponse:
        return StreamingHttpResponse(
            chunk
            for _ in range(2)
            for chunk in Patient.objects.values_list("chart_number", flat=True)
        )

    request = RequestFactory().get("/")
    request.user = world.other_physician
    response = ClinicScopeMiddleware(streamed)(request)
    assert b"".join(response.streaming_content) == b"B-001B-001"


@pytest.mark.django_db
def test_an_api_token_moves_the_request_into_its_clinic(world, client):
    secret = token_create(
        clinic=world.other_clinic,
        name="lab",
        user=world.other_physician,
        read_only=True,
        created_by=None,
    )[1]
    response = client.get("/api/v1/patients", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 200, response.content
    charts = [p["chart_number"] for p in response.json()["results"]]
    assert charts == ["B-001"]


@pytest.mark.django_db
def test_the_reminder_job_works_inside_its_clinics_scope(world, monkeypatch):
    seen: list[int | None] = []

    def record(*, clinic, now):
        seen.append(scoping.current_clinic_id())
        assert Patient.objects.count() == 1  # its clinic's patient only
        return 0

    monkeypatch.setattr("prolotrack.diary.tasks.reminders_send", record)
    monkeypatch.setattr("prolotrack.diary.tasks.reminder_schedule_ensure", lambda **kw: None)
    with request_scope(None):  # the worker's own thread: no scope of its own
        reminders_send_task(world.clinic.pk)
    assert seen == [world.clinic.pk]
