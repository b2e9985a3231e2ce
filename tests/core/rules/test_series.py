"""Intervals, course length and response review (DOMAIN 1.1, 1.2 and 4.2)."""

from __future__ import annotations

import datetime as dt

import pytest
from plan_helpers import check, codes, injection, only

from prolotrack.core.rules import ClinicLimits, Kind, Range, Severity

DATE = dt.date(2026, 11, 5)


def _previous(days: int) -> str:
    return (DATE - dt.timedelta(days=days)).isoformat()


@pytest.mark.parametrize(
    ("days", "warns"),
    # DOMAIN 1.2: weekly; warn under 5 days. A fortnight is the (configurable) upper end.
    [(0, True), (4, True), (5, False), (7, False), (14, False), (15, True)],
)
def test_it_checks_the_neural_interval(days: int, warns: bool) -> None:
    result = check(series={"previous_session_date": _previous(days)})
    assert ("interval.neural" in codes(result)) is warns
    if warns:
        finding = only(result, "interval.neural")
        assert finding.kind is Kind.INTERVAL
        assert finding.severity is Severity.WARN
        assert finding.source == "domain.1.2"
        assert finding.message.startswith(f"Check the timing: {days} days since the last session")


@pytest.mark.parametrize(
    ("days", "warns"),
    # DOMAIN 1.1: every 2-6 weeks; warn under 2 or over 8 weeks.
    [(13, True), (14, False), (28, False), (56, False), (57, True)],
)
def test_it_checks_the_classic_interval(days: int, warns: bool) -> None:
    result = check(
        series={"modality": "classic", "previous_session_date": _previous(days)},
        injections=[injection(depth="deep", solution={"dextrose_pct": 15})],
    )
    assert ("interval.classic" in codes(result)) is warns
    assert "interval.neural" not in codes(result)


def test_it_suggests_a_later_or_sooner_booking() -> None:
    early = only(check(series={"previous_session_date": _previous(3)}), "interval.neural")
    assert "Consider booking later." in early.message
    late = only(check(series={"previous_session_date": _previous(30)}), "interval.neural")
    assert "sooner, or restart the series" in late.message


def test_it_skips_the_interval_of_a_first_session() -> None:
    result = check(series={"session_number": 1, "previous_session_date": None})
    assert not [c for c in codes(result) if c.startswith("interval.")]


def test_it_uses_the_clinics_interval() -> None:
    limits = ClinicLimits(neural_interval_days=Range(3, 10))
    result = check(limits=limits, series={"previous_session_date": _previous(4)})
    assert "interval.neural" not in codes(result)


@pytest.mark.parametrize(
    ("modality", "session", "noted"),
    # DOMAIN 1.2: 4-8 neural sessions; DOMAIN 1.1: up to about 12 classic ones.
    [("neural", 8, False), ("neural", 9, True), ("classic", 12, False), ("classic", 13, True)],
)
def test_it_notes_a_session_past_the_typical_course(
    modality: str, session: int, noted: bool
) -> None:
    result = check(series={"modality": modality, "session_number": session})
    found = [f for f in result.findings if f.code.endswith("_course_length")]
    assert bool(found) is noted
    if noted:
        assert found[0].code == f"series.{modality}_course_length"
        assert found[0].severity is Severity.INFO


@pytest.mark.parametrize(
    ("session", "pains", "warns"),
    [
        # DOMAIN 4.2: under 30% better after the third session asks for a review.
        (4, [8, 7, 6], True),  # 25% better
        (4, [10, 8, 7], False),  # 30% better: a clinically important response
        (4, [10, 8, 7.1], True),  # 29% better
        (5, [6, 6, 6, 7], True),  # worse
        # Not yet: only two sessions given.
        (3, [8, 8], False),
        # Cannot tell: one score, or a baseline of no pain.
        (4, [8], False),
        (4, [0, 0, 0], False),
    ],
)
def test_it_asks_for_a_review_when_pain_has_not_improved_enough(
    session: int, pains: list[float], warns: bool
) -> None:
    result = check(series={"session_number": session, "pain_history": pains})
    assert ("series.no_response" in codes(result)) is warns


def test_it_explains_the_response_review() -> None:
    result = check(series={"session_number": 4, "pain_history": [8, 7, 6]})
    finding = only(result, "series.no_response")
    assert finding.source == "domain.4.2"
    assert finding.message == (
        "Review the plan with the patient: after 3 sessions pain has gone from 8 to 6 (25% "
        "better), short of the 30% that counts as a clinically important response."
    )


@pytest.mark.parametrize(
    ("modality", "session", "relief", "warns"),
    [
        # DOMAIN 1.2: each neural session should lengthen the relief.
        ("neural", 4, [2, 3, 2], True),
        ("neural", 4, [3, 1, 3], True),
        ("neural", 4, [2, 3, 4], False),
        ("neural", 4, [1, 4, 2], False),
        # Too early to judge, too little data, or not neural.
        ("neural", 3, [3, 2], False),
        ("neural", 4, [3], False),
        ("classic", 4, [3, 2, 1], False),
    ],
)
def test_it_asks_for_a_review_when_relief_is_not_lengthening(
    modality: str, session: int, relief: list[float], warns: bool
) -> None:
    series = {"modality": modality, "session_number": session, "relief_days_history": relief}
    result = check(series=series)
    assert ("series.relief_not_lengthening" in codes(result)) is warns
    if warns:
        assert only(result, "series.relief_not_lengthening").message.startswith(
            "Review the plan with the patient: relief is not lengthening"
        )


def test_it_uses_the_clinics_review_point() -> None:
    limits = ClinicLimits(review_after_sessions=2, responder_improvement_pct=50)
    result = check(limits=limits, series={"session_number": 3, "pain_history": [8, 5]})
    assert "series.no_response" in codes(result)
