"""``outcomes_compute`` (SQL) gives the numbers of the core reference, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from prolotrack.core import outcomes as core
from prolotrack.core.charting import ReadingInput
from prolotrack.diary.models import DiaryEntry
from prolotrack.outcomes.models import SessionOutcome
from prolotrack.outcomes.queries import Filters, outcomes_by, outcomes_compute
from prolotrack.outcomes.summary import session_outcomes_refresh
from prolotrack.treatment.models import AdverseEvent, AlgometerReading, Session, TreatmentSeries
from prolotrack.treatment.services import session_record
from tests.outcomes.helpers import assert_same, reference_report, synth_clinic_load

pytestmark = pytest.mark.django_db


def _at(day: dt.date, hour: int = 10) -> dt.datetime:
    return timezone.make_aware(
        dt.datetime.combine(day, dt.time(hour)), timezone.get_fixed_timezone(-420)
    )


def test_a_hand_worked_clinic(world):
    """Patient A: baseline 8 -> 4 over three sessions (a 50% responder at session 3), an
    immediate rise of 1.5 kg/cm2 entered in mixed units, relief of 3 days then censored."""
    d0 = dt.date(2026, 10, 5)
    s1 = session_record(
        series=world.series,
        practitioner=world.physician,
        performed_at=_at(d0),
        pain_before=8,
        readings=[
            ReadingInput("n_infrapatellar_saphenous", "left", "baseline", Decimal("3.0"), "kg/cm2"),
            ReadingInput("n_infrapatellar_saphenous", "left", "1min", Decimal("44.1"), "N/cm2"),
        ],
    )
    session_record(
        series=world.series,
        practitioner=world.physician,
        performed_at=_at(d0 + dt.timedelta(days=7)),
        pain_before=6,
    )
    s3 = session_record(
        series=world.series,
        practitioner=world.physician,
        performed_at=_at(d0 + dt.timedelta(days=14)),
        pain_before=4,
    )
    for offset, pain in ((2, 5), (3, 8), (9, 3), (16, 2)):
        DiaryEntry.objects.create(
            clinic=world.clinic,
            patient=world.patient,
            entry_date=d0 + dt.timedelta(days=offset),
            pain=pain,
        )
    AdverseEvent.objects.create(
        clinic=world.clinic, session=s3, category="bruising_haematoma", onset=d0, serious=False
    )
    session_outcomes_refresh(clinic_id=world.clinic.pk)
    report = outcomes_compute(world.clinic)
    assert (report["patients"], report["sessions"], report["eligible"]) == (1, 3, 1)
    assert report["responders_30"]["n"] == 1 and report["responders_50"]["n"] == 1
    assert report["immediate"]["sessions"] == 1
    assert report["immediate"]["mean_change_1min"] == pytest.approx(44.1 / 9.80665 - 3.0, abs=1e-3)
    # s1: 8 back on day 3 (event 3); s2 (6): day 9 pain 3, censored at 2; s3 (4): day 16 -> 2.
    assert (report["relief_days"]["sessions"], report["relief_days"]["events"]) == (3, 1)
    assert report["sessions_to_response"] == {
        **report["sessions_to_response"],
        "n": 1,
        "median": 3.0,
    }
    assert report["adverse_events"] == {"count": 1, "serious": 0, "per_100_sessions": 33.33}
    assert_same(report, reference_report(world.clinic))
    assert SessionOutcome.objects.get(session=s1).relief_days == 3


def test_another_clinics_sessions_never_count(world):
    other_series = TreatmentSeries.objects.create(
        clinic=world.other_clinic,
        patient=world.other_patient,
        modality="classic",
        region="knee",
        planned_sessions=3,
        planned_interval_days=28,
        started_on=dt.date(2026, 10, 1),
    )
    session_record(
        series=other_series,
        practitioner=world.other_physician,
        performed_at=_at(dt.date(2026, 10, 2)),
        pain_before=7,
    )
    assert outcomes_compute(world.clinic)["sessions"] == 0
    assert outcomes_compute(world.other_clinic)["sessions"] == 1
    assert outcomes_compute(None)["sessions"] == 1


def test_an_empty_clinic(world):
    report = outcomes_compute(world.clinic)
    assert report["patients"] == 0
    assert report["responders_30"] == {"n": 0, "of": 0, "rate": None, "ci95": None}
    assert report["relief_days"]["median"] is None
    assert {c["verdict"] for c in report["claims"]} == {core.INSUFFICIENT, core.NOT_APPLICABLE}


@pytest.fixture
def generated(db):
    return synth_clinic_load("Generated", seed=7, patients=60)


def test_generated_clinic_equals_the_reference(generated):
    assert_same(outcomes_compute(generated), reference_report(generated))


@pytest.mark.parametrize(
    "filters",
    [
        {"modality": "neural"},
        {"modality": "classic"},
        {"region": "lumbar_spine"},
        {"date_from": dt.date(2026, 6, 1), "date_to": dt.date(2026, 9, 30)},
        {"modality": "neural", "date_from": dt.date(2026, 8, 1)},
    ],
)
def test_filtered_numbers_equal_the_reference(generated, filters):
    assert_same(outcomes_compute(generated, **filters), reference_report(generated, **filters))


def test_threshold_changes_the_responding_share(generated):
    low = outcomes_compute(generated, threshold_kg_cm2=0.3)
    high = outcomes_compute(generated, threshold_kg_cm2=2.0)
    assert low["immediate"]["responding_share"] > high["immediate"]["responding_share"]
    assert_same(low, reference_report(generated, threshold_kg_cm2=0.3))


def test_a_breakdown_row_equals_the_filtered_numbers(generated):
    rows = dict(outcomes_by("modality", Filters(clinic_id=generated.pk)))
    assert set(rows) <= {"neural", "classic"}
    for modality, report in rows.items():
        expected = outcomes_compute(generated, modality=modality)
        assert report.pop("drop_out_after_first")["of"] == 0  # left out of breakdowns
        expected.pop("drop_out_after_first")
        assert_same(report, expected)


def test_the_generated_responders_are_found(generated):
    # The generator's responders fall by 30% or more over a planned series (DOMAIN 4.2): the
    # clinic has some, and immediate rises in neural responders (DOMAIN 4.1).
    report = outcomes_compute(generated)
    assert report["responders_30"]["n"] > 0
    assert report["immediate"]["mean_change_1min"] > 0
    assert report["relief_days"]["events"] > 0


def test_recording_a_session_refreshes_the_summary(world):
    session = session_record(
        series=world.series,
        practitioner=world.physician,
        performed_at=_at(dt.date(2026, 10, 5)),
        pain_before=5,
    )
    assert SessionOutcome.objects.get(session=session).pain_before == 5
    assert AlgometerReading.objects.count() == 0
    assert Session.objects.count() == 1
