"""`prolotrack outcomes`: exactly the issue's keys, a readable text form, exit 2 on bad input."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests.outcomes.helpers import assert_same, reference_report, synth_clinic_load

pytestmark = pytest.mark.django_db

KEYS = {
    "patients",
    "sessions",
    "eligible",
    "responders_30",
    "responders_50",
    "immediate",
    "relief_days",
    "sessions_to_response",
    "adverse_events",
    "claims",
}


def outcomes(*args: str) -> str:
    out = StringIO()
    call_command("outcomes", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def clinic(db):
    return synth_clinic_load("Lakeside", seed=11, patients=40)


def test_it_prints_the_issue_keys_as_json(clinic):
    report = json.loads(outcomes("--format", "json", "--clinic", "Lakeside"))
    assert set(report) >= KEYS
    assert {"n", "rate", "ci95"} <= set(report["responders_30"])
    assert {"n", "rate", "ci95"} <= set(report["responders_50"])
    assert {
        "sessions",
        "mean_change_1min",
        "mean_change_15min",
        "threshold_kg_cm2",
        "responding_share",
    } <= set(report["immediate"])
    assert {"sessions", "events", "median"} <= set(report["relief_days"])
    assert {"n", "median"} <= set(report["sessions_to_response"])
    assert {"count", "serious", "per_100_sessions"} <= set(report["adverse_events"])
    for claim in report["claims"]:
        assert {"claim", "source", "measured", "ci95", "n", "verdict"} <= set(claim)
        assert claim["verdict"] in (
            "consistent",
            "not_consistent",
            "insufficient_data",
            "not_applicable",
        )
    assert_same(report, reference_report(clinic))


def test_filters_reach_the_numbers(clinic):
    args = ["--format", "json", "--modality", "neural", "--from", "2026-07-01"]
    report = json.loads(outcomes(*args, "--to", "2026-10-31", "--threshold", "0.5"))
    expected = reference_report(
        clinic,
        modality="neural",
        date_from=dt.date(2026, 7, 1),
        date_to=dt.date(2026, 10, 31),
        threshold_kg_cm2=0.5,
    )
    assert_same(report, expected)


def test_text_is_a_readable_summary(clinic):
    text = outcomes("--clinic", "Lakeside")
    assert text.startswith("Outcomes: Lakeside")
    assert "Responders, 30% less pain:" in text
    assert "Claims beside the measured numbers:" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "xml"], "--format: 'xml' is not json, text or pdf."),
        (["--from", "2026-02-30"], "--from: '2026-02-30' is not a date (YYYY-MM-DD)."),
        (["--from", "2026-05-01", "--to", "2026-04-01"], "--from 2026-05-01 is after --to"),
        (["--modality", "deep"], "--modality: 'deep' is not neural or classic."),
        (["--region", "elbow"], "--region: 'elbow' is not a region code"),
        (["--clinic", "Nowhere"], "--clinic: no clinic is named 'Nowhere'."),
        (["--threshold", "abc"], "--threshold: 'abc' is not a number of kg/cm2"),
    ],
)
def test_bad_arguments_exit_2_with_a_message(db, args, message):
    with pytest.raises(CommandError) as caught:
        outcomes(*args)
    assert message in str(caught.value)
    assert caught.value.returncode == 2


def test_rebuild_recomputes_the_summary(clinic):
    from prolotrack.outcomes.models import SessionOutcome

    before = json.loads(outcomes("--format", "json"))
    SessionOutcome.objects.all().delete()
    assert json.loads(outcomes("--format", "json"))["sessions"] == 0
    assert json.loads(outcomes("--format", "json", "--rebuild")) == before
