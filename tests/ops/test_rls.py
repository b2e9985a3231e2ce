"""Row-level security between clinics (RELIABILITY.md T7): every clinic table is behind the
wall, the application's role sees only the clinic of the request, and nothing without one."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import IntegrityError, ProgrammingError, connection, transaction
from django.http import HttpResponse, StreamingHttpResponse
from django.test import RequestFactory
from django.urls import reverse

from prolotrack.accounts.models import Clinic, Role, User
from prolotrack.ops import rls
from prolotrack.ops.middleware import ClinicScopeMiddleware
from prolotrack.patients.models import Condition, Patient

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row-level security is PostgreSQL's"
)

# Models of prolotrack apps without a clinic that carry no health information, and why; every
# other model has a clinic and sits behind the wall, or is a credential named in rls.EXEMPT. A
# new model in none of these fails the test below.
NOT_PHI = {
    "accounts.clinic": "the tenant itself",
    "accounts.signinrequest": "an address and a time, for the sign-in rate limit",
    "accounts.user_groups": "a user's groups",
    "accounts.user_user_permissions": "a user's permission grants",
    "audit.auditevent": "append-only trail of ids and actions; written before a clinic is known",
    "audit.auditcheckpoint": "the head of the audit chain",
}
# Tables that must be among the protected ones whatever else changes: the test cannot pass by
# finding nothing.
KNOWN_CLINIC_TABLES = {
    "patients_patient",
    "patients_condition",
    "patients_screening",
    "treatment_treatmentseries",
    "treatment_session",
    "treatment_injection",
    "treatment_algometerreading",
    "treatment_adverseevent",
    "treatment_sessionamendment",
    "diary_diaryentry",
    "accounts_practitionerprofile",
}


def prolotrack_models(include_auto_created: bool = False) -> list[type]:
    return [
        model
        for config in apps.get_app_configs()
        if config.name.startswith("prolotrack.")
        for model in config.get_models(include_auto_created=include_auto_created)
    ]


def reaches_patient(model: type, seen: frozenset[type] = frozenset()) -> bool:
    """True if the model is a patient, or refers (through foreign keys) to one."""
    if model is Patient:
        return True
    for field in model._meta.get_fields():
        target = getattr(field, "related_model", None)
        refers = (field.many_to_one or field.one_to_one) and field.concrete
        if not refers or target in seen or target in (model, None, User):
            continue
        if reaches_patient(target, seen | {model}):
            return True
    return False


# Both databases: the model side of T7 ------------------------------------------------------------


def test_it_gives_every_model_with_patient_data_a_clinic():
    phi = [m for m in prolotrack_models(include_auto_created=True) if reaches_patient(m)]
    assert Patient in phi and Condition in phi
    without_clinic = [m._meta.label_lower for m in phi if rls.clinic_field(m) is None]
    assert without_clinic == []


def test_it_knows_every_model_as_either_behind_the_wall_or_not_phi():
    labels = {m._meta.label_lower for m in prolotrack_models(include_auto_created=True)}
    walled = {m._meta.label_lower for m in rls.clinic_models()}
    accounted = walled | set(NOT_PHI) | set(rls.EXEMPT)
    assert labels - accounted == set(), "a new model needs a clinic or a reason"
    assert set(NOT_PHI) <= labels, "a model named in NOT_PHI is gone: drop it from the list"
    assert walled & set(rls.EXEMPT) == set()
    assert {m._meta.db_table for m in rls.clinic_models()} >= KNOWN_CLINIC_TABLES


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite side")
def test_it_leaves_sqlite_alone():
    assert rls.apply(connection) == []
    # The middleware still scopes the ORM (ops.scoping), but sets nothing on the connection.
    assert ClinicScopeMiddleware(lambda request: HttpResponse()).row_security is False


# PostgreSQL: the catalog -------------------------------------------------------------------------


@postgresql_only
@pytest.mark.django_db
def test_every_clinic_table_has_row_security_forced_and_its_policy():
    tables = [m._meta.db_table for m in rls.clinic_models()]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, p.polname IS NOT NULL"
            " FROM pg_class c LEFT JOIN pg_policy p"
            "   ON p.polrelid = c.oid AND p.polname = %s"
            " WHERE c.relname = ANY(%s) AND c.relkind = 'r'",
            [rls.POLICY, tables],
        )
        rows = {name: flags for name, *flags in cursor.fetchall()}
    assert set(rows) == set(tables) and set(tables) >= KNOWN_CLINIC_TABLES
    assert {name for name, flags in rows.items() if flags != [True, True, True]} == set()


@postgresql_only
@pytest.mark.django_db
def test_applying_again_changes_nothing_and_status_reports_all_protected(capsys):
    assert rls.apply(connection) == []
    call_command("rls", "status")
    assert f"row-level security on all {len(rls.clinic_models())} clinic tables" in (
        capsys.readouterr().out
    )


@postgresql_only
@pytest.mark.django_db
def test_status_fails_when_a_table_lost_its_policy(capsys):
    with connection.cursor() as cursor:
        cursor.execute(f"DROP POLICY {rls.POLICY} ON treatment_injection")
    with pytest.raises(CommandError, match="1 clinic tables lack") as error:
        call_command("rls", "status")
    assert error.value.returncode == 1
    assert "treatment_injection: NOT protected" in capsys.readouterr().out
    assert rls.apply(connection) == ["treatment_injection"]


# PostgreSQL: the application's role -------------------------------------------------------------


@pytest.fixture
def app_role(world) -> Iterator[str]:
    """The README's application role, made inside the test's transaction (rolled back, role
    and all, at the end) with the grants of `prolotrack rls grants`, and switched to."""
    role = f"rls_test_app_{uuid.uuid4().hex[:12]}"
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE ROLE "{role}" NOLOGIN NOSUPERUSER NOBYPASSRLS')
        for statement in rls.app_role_sql(role):
            cursor.execute(statement)
        cursor.execute(f'SET LOCAL ROLE "{role}"')
    try:
        yield role
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")


def scope(clinic_id: int | None) -> None:
    rls.set_clinic(connection, clinic_id)


def count(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608
        return cursor.fetchone()[0]


@postgresql_only
def test_the_app_role_cannot_pass_the_wall(app_role):
    assert not rls.role_bypasses(connection)
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
        assert cursor.fetchone() == (False, False)


@postgresql_only
def test_an_unscoped_select_as_the_app_role_sees_no_rows(world, app_role):
    scope(None)
    for model in rls.clinic_models():
        assert count(model._meta.db_table) == 0, model._meta.db_table
    assert Patient.objects.count() == 0
    with connection.cursor() as cursor:
        cursor.execute("RESET ROLE")
        assert count("patients_patient") >= 2  # the rows are there, the role just cannot see
        cursor.execute(f'SET LOCAL ROLE "{app_role}"')


@postgresql_only
def test_a_scoped_select_sees_only_its_clinics_rows(world, app_role):
    scope(world.clinic.pk)
    assert set(Patient.objects.values_list("clinic_id", flat=True)) == {world.clinic.pk}
    assert list(Patient.objects.values_list("chart_number", flat=True)) == ["A-001"]
    assert Patient.objects.filter(pk=world.other_patient.pk).count() == 0
    scope(world.other_clinic.pk)
    assert list(Patient.objects.values_list("chart_number", flat=True)) == ["B-001"]
    # An empty or reset setting is no clinic at all.
    scope(None)
    assert Patient.objects.count() == 0


@postgresql_only
def test_the_app_role_cannot_write_another_clinics_rows(world, app_role):
    scope(world.clinic.pk)
    with pytest.raises(ProgrammingError, match="row-level security"), transaction.atomic():
        Condition.objects.create(
            clinic=world.other_clinic, patient=world.other_patient, code="x", region="knee"
        )
    # Nor move one of its own rows to another clinic.
    with pytest.raises(ProgrammingError, match="row-level security"), transaction.atomic():
        Patient.objects.filter(pk=world.patient.pk).update(clinic=world.other_clinic)
    # Another clinic's row is not there to change or delete.
    assert Patient.objects.filter(pk=world.other_patient.pk).update(given_name="Changed") == 0
    assert Patient.objects.filter(pk=world.other_patient.pk).delete()[0] == 0
    # Its own clinic's rows it writes as usual.
    Condition.objects.create(clinic=world.clinic, patient=world.patient, code="x", region="knee")
    assert Condition.objects.filter(clinic=world.clinic).count() == 1


@postgresql_only
def test_the_app_role_cannot_switch_the_wall_off(world, app_role):
    for sql in (
        "ALTER TABLE patients_patient DISABLE ROW LEVEL SECURITY",
        "ALTER TABLE patients_patient NO FORCE ROW LEVEL SECURITY",
        f"DROP POLICY {rls.POLICY} ON patients_patient",
    ):
        with (
            pytest.raises(ProgrammingError, match="must be owner"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql)


# PostgreSQL: requests --------------------------------------------------------------------------


@postgresql_only
def test_a_clinic_a_users_request_under_the_app_role_sees_only_clinic_a(world, app_role):
    client = world.client_for(world.front_desk)
    response = client.get(reverse("patients:list"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Example, Avery" in body  # seen: the middleware set clinic A for the request
    assert "Elsewhere" not in body
    assert Patient.objects.count() == 0  # after the request, the connection sees nothing again


def unscoped_patients(request) -> HttpResponse:
    """A view that forgets its clinic in plain SQL, past the ORM's scope (ops.scoping):
    everything the database lets it see."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT chart_number FROM patients_patient")
        seen = sorted(row[0] for row in cursor.fetchall())
    return HttpResponse(",".join(seen))


@postgresql_only
@pytest.mark.parametrize(
    ("who", "expected"),
    [("front_desk", "A-001"), ("other_physician", "B-001"), ("anonymous", "")],
)
def test_a_view_that_forgets_its_clinic_sees_only_the_users_clinic(world, app_role, who, expected):
    from django.contrib.auth.models import AnonymousUser

    request = RequestFactory().get("/")
    request.user = AnonymousUser() if who == "anonymous" else getattr(world, who)
    response = ClinicScopeMiddleware(unscoped_patients)(request)
    assert response.content.decode() == expected
    assert Patient.objects.count() == 0


@postgresql_only
def test_a_user_without_a_clinic_sees_no_clinics_rows(world, app_role):
    with connection.cursor() as cursor:
        cursor.execute("RESET ROLE")
        loner = User.objects.create_user(username="loner", password="x" * 16, role=Role.AUDITOR)
        cursor.execute(f'SET LOCAL ROLE "{app_role}"')
    request = RequestFactory().get("/")
    request.user = loner
    assert ClinicScopeMiddleware(unscoped_patients)(request).content == b""


@postgresql_only
def test_a_streamed_response_keeps_its_clinic_until_the_last_chunk(world, app_role):
    def streamed(request) -> StreamingHttpResponse:
        return StreamingHttpResponse(
            chunk
            for _ in range(2)
            for chunk in Patient.objects.values_list("chart_number", flat=True)
        )

    request = RequestFactory().get("/")
    request.user = world.physician
    response = ClinicScopeMiddleware(streamed)(request)
    assert b"".join(response.streaming_content) == b"A-001A-001"
    assert Patient.objects.count() == 0


@postgresql_only
def test_a_failing_view_leaves_the_connection_without_a_clinic(world, app_role):
    def failing(request) -> HttpResponse:
        raise IntegrityError("boom")

    request = RequestFactory().get("/")
    request.user = world.physician
    with pytest.raises(IntegrityError):
        ClinicScopeMiddleware(failing)(request)
    assert Patient.objects.count() == 0


def test_grants_refuse_a_role_name_that_is_not_plain():
    with pytest.raises(ValueError):
        rls.app_role_sql('app"; DROP TABLE patients_patient; --')


def test_clinic_model_is_not_walled():
    # The tenant table stays readable: a user's clinic is looked up before any scope is set.
    assert Clinic not in rls.clinic_models()


@postgresql_only
def test_a_backup_as_a_role_held_by_the_wall_is_refused(world, app_role, tmp_path):
    """As the app role, a backup would hold no clinic's rows and still look whole."""
    from prolotrack.ops.backup import BackupError, backup_create

    with pytest.raises(BackupError, match="row-level security"):
        backup_create(tmp_path / "b.tar")
    assert list(tmp_path.iterdir()) == []


@postgresql_only
def test_the_clinic_survives_a_rolled_back_block_that_set_it(world, app_role):
    """A setting made inside a block that is rolled back is undone with the block; the next
    query of the request, outside it, must have it made again."""
    from django.contrib.auth.models import AnonymousUser

    def view(request) -> HttpResponse:
        try:
            with transaction.atomic():
                rls.set_clinic(connection, world.clinic.pk)  # as the token check does
                assert count("patients_patient") == 1  # the setting is made here, in the block
                raise ValueError("rolled back")
        except ValueError:
            pass
        return unscoped_patients(request)

    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    assert ClinicScopeMiddleware(view)(request).content == b"A-001"


@postgresql_only
def test_an_api_token_check_changes_the_clinic_of_the_request(world, app_role):
    """The token check runs inside the view, after the middleware saw an anonymous caller."""
    from django.contrib.auth.models import AnonymousUser

    def token_view(request) -> HttpResponse:
        assert count("patients_patient") == 0  # anonymous so far
        rls.set_clinic(connection, world.other_clinic.pk)
        return unscoped_patients(request)

    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    assert ClinicScopeMiddleware(token_view)(request).content == b"B-001"
    assert Patient.objects.count() == 0


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the middleware is PostgreSQL's")
def test_a_request_without_queries_makes_none():
    """No database here: pytest-django refuses any query, so one made by the middleware for
    nothing (the health check, an error page) would fail this test."""
    from django.contrib.auth.models import AnonymousUser

    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    response = ClinicScopeMiddleware(lambda request: HttpResponse("ok"))(request)
    assert response.content == b"ok"
