from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from prolotrack.core.catalog import load_catalog
from prolotrack.core.charting import InjectionInput, ReadingInput
from prolotrack.treatment import services
from prolotrack.treatment.models import AlgometerReading, Injection, Session

WHEN = dt.datetime(2026, 11, 2, 17, 30, tzinfo=dt.UTC)


def knee_site():
    return next(s for s in load_catalog().sites_in_region("knee") if s.laterality == "bilateral")


def record(world, **changes):
    site = knee_site()
    fields = {
        "series": world.series,
        "practitioner": world.physician,
        "performed_at": WHEN,
        "pain_before": 7,
        "pain_after": 3,
        "injections": [
            InjectionInput(site.code, "left", "subcutaneous", Decimal("0.5"), 27),
            InjectionInput(site.code, "right", "subcutaneous", Decimal("0.5"), 27),
        ],
        "readings": [
            ReadingInput(site.code, "left", "baseline", Decimal("2.5"), "kg/cm2"),
            ReadingInput(site.code, "left", "1min", Decimal("3.0"), "kg/cm2"),
            ReadingInput(site.code, "left", "15min", Decimal("35"), "N/cm2"),
        ],
    }
    fields.update(changes)
    return services.session_record(**fields)


def test_it_records_a_session_with_all_its_rows(world):
    session = record(world)
    assert session.clinic == world.clinic
    assert session.injections.count() == 2
    kpa = dict(session.readings.values_list("phase", "value_kpa"))
    assert kpa["baseline"] == pytest.approx(245.16625)
    assert kpa["15min"] == pytest.approx(350.0)
    assert {r.clinic_id for r in session.readings.all()} == {world.clinic.pk}


def test_it_writes_nothing_when_any_row_is_bad(world):
    bad = ReadingInput(knee_site().code, "left", "baseline", Decimal("25"), "kg/cm2")
    with pytest.raises(services.ChartingError) as info:
        record(world, readings=[bad])
    assert info.value.errors[0].field == "readings.0.value"
    assert Session.objects.count() == 0 and Injection.objects.count() == 0


def test_it_refuses_a_naive_time(world):
    with pytest.raises(services.ChartingError, match="performed_at"):
        record(world, performed_at=dt.datetime(2026, 11, 2, 9, 0))


def test_it_replaces_the_rows_of_an_unsigned_session_and_bumps_the_version(world):
    session = record(world)
    site = knee_site()
    again = record(
        world,
        session=session,
        expected_version=1,
        pain_before=6,
        injections=[InjectionInput(site.code, "left", "subcutaneous", Decimal("1"), 27)],
        readings=[],
    )
    assert again.version == 2 and again.pain_before == 6
    assert Injection.objects.filter(session=session).count() == 1
    assert AlgometerReading.objects.filter(session=session).count() == 0


def test_it_refuses_a_stale_edit_and_changes_nothing(world):
    session = record(world)
    record(world, session=session, expected_version=1, pain_before=5)
    with pytest.raises(services.StaleEdit) as info:
        record(world, session=session, expected_version=1, pain_before=2, injections=[])
    assert info.value.current_version == 2
    session.refresh_from_db()
    assert session.pain_before == 5 and session.injections.count() == 2


def test_it_never_edits_a_signed_session(world):
    session = record(world)
    services.session_sign(session=session, user=world.physician)
    with pytest.raises(services.SessionSigned):
        record(world, session=session, expected_version=session.version, pain_before=1)
    session.refresh_from_db()
    assert session.pain_before == 7


def test_it_signs_once_only_and_only_by_a_practitioner(world):
    session = record(world)
    with pytest.raises(services.ChartingError, match="Only a practitioner"):
        services.session_sign(session=session, user=world.front_desk)
    signed = services.session_sign(session=session, user=world.naturopath)
    assert signed.signed_by == world.naturopath and signed.signed_at is not None
    with pytest.raises(services.SessionSigned):
        services.session_sign(session=session, user=world.physician)


def test_it_amends_a_signed_session_keeping_the_original(world):
    session = record(world, notes="Original note")
    with pytest.raises(services.ChartingError, match="until it is signed"):
        services.session_amend(session=session, author=world.physician, text="x")
    services.session_sign(session=session, user=world.physician)
    with pytest.raises(services.ChartingError, match="Write what"):
        services.session_amend(session=session, author=world.physician, text="   ")
    amendment = services.session_amend(session=session, author=world.physician, text="Added")
    session.refresh_from_db()
    assert session.notes == "Original note"
    assert amendment.author == world.physician and amendment.created_at is not None


def test_it_validates_a_new_series(world):
    with pytest.raises(services.ChartingError) as info:
        services.series_create(
            patient=world.patient,
            modality="neural",
            region="elbow",
            planned_sessions=0,
            planned_interval_days=7,
            started_on=dt.date(2026, 11, 1),
        )
    assert [e.field for e in info.value.errors] == ["region", "planned_sessions"]


@pytest.mark.parametrize(
    ("field", "value"),
    [("pain_before", 11), ("pain_after", 12)],
)
def test_the_database_refuses_pain_outside_0_to_10(world, field, value):
    session = record(world)
    with pytest.raises(IntegrityError), transaction.atomic():
        Session.objects.filter(pk=session.pk).update(**{field: value})


@pytest.mark.parametrize("volume", [Decimal("0"), Decimal("20.5")])
def test_the_database_refuses_impossible_volumes(world, volume):
    session = record(world)
    row = session.injections.first()
    with pytest.raises(IntegrityError), transaction.atomic():
        Injection.objects.filter(pk=row.pk).update(volume_ml=volume)


def test_the_database_refuses_readings_over_20_kg_cm2(world):
    session = record(world)
    row = session.readings.first()
    with pytest.raises(IntegrityError), transaction.atomic():
        AlgometerReading.objects.filter(pk=row.pk).update(value_kpa=2000.0)
