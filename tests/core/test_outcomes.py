"""Outcome definitions (issue 6), worked by hand, and their invariants."""

from __future__ import annotations

import datetime as dt
import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prolotrack.core import outcomes as o
from prolotrack.core.outcomes import (
    AdverseEventRow,
    DiaryRow,
    ReadingRow,
    SessionRow,
    immediate_change,
    kaplan_meier,
    median_of_counts,
    pain_course,
    reference_aggregates,
    session_relief,
    wilson,
)
from prolotrack.core.relief import Relief
from prolotrack.core.units import KPA_PER_KG_CM2, KPA_PER_N_CM2

D0 = dt.date(2026, 3, 2)


def day(n: int) -> dt.date:
    return D0 + dt.timedelta(days=n)


def sessions(patient: int, *pains: int | None, gap: int = 7, first_id: int = 1) -> list:
    return [SessionRow(first_id + i, patient, day(i * gap), pain) for i, pain in enumerate(pains)]


# Baseline, latest, eligibility, responders ------------------------------------------------------


def test_it_takes_baseline_and_latest_from_sessions_with_a_pain_before_by_date_then_id():
    rows = [
        SessionRow(5, 1, day(14), 4),
        SessionRow(2, 1, day(0), None),  # earliest session, but no pain_before
        SessionRow(4, 1, day(7), 8),
        SessionRow(3, 1, day(7), 6),  # same day as 4, lower id: earlier
        SessionRow(6, 1, day(21), None),
    ]
    course = pain_course(rows)
    assert (course.baseline, course.latest, course.sessions_with_pain) == (6, 4, 3)
    assert course.eligible
    assert course.improvement == pytest.approx(2 / 6)
    assert course.responder_30 and not course.responder_50


def test_a_patient_with_one_session_is_not_eligible():
    course = pain_course(sessions(1, 8))
    assert not course.eligible and course.improvement is None and not course.responder_30


def test_a_baseline_of_zero_is_not_eligible():
    course = pain_course(sessions(1, 0, 0, 0))
    assert not course.eligible and not course.responder_30 and course.improvement is None


@pytest.mark.parametrize(
    ("baseline", "latest", "r30", "r50"),
    [
        (10, 7, True, False),  # exactly 30%: a responder (>=)
        (10, 8, False, False),
        (10, 5, True, True),  # exactly 50%
        (3, 2, True, False),  # 33%
        (7, 5, False, False),  # 2/7 = 28.6%
        (1, 0, True, True),
        (5, 6, False, False),  # worse
    ],
)
def test_responder_thresholds_on_both_sides(baseline, latest, r30, r50):
    course = pain_course(sessions(1, baseline, latest))
    assert (course.responder_30, course.responder_50) == (r30, r50)


def test_sessions_to_response_is_the_position_of_the_first_session_at_70_percent():
    # Baseline 8: 0.7 x 8 = 5.6, so the first at <= 5 counts; a pain-less session is skipped.
    rows = sessions(1, 8, 7, None, 6, 5, 6, 3)
    course = pain_course(rows)
    assert course.responder_30
    assert course.sessions_to_response == 4  # 8, 7, 6, 5: the 4th with a pain_before


def test_sessions_to_response_is_none_for_a_non_responder():
    course = pain_course(sessions(1, 8, 5, 7))  # touched 5 once, ended at 7
    assert not course.responder_30 and course.sessions_to_response is None


# Wilson --------------------------------------------------------------------------------------


def test_wilson_matches_a_published_value():
    # Newcombe 1998, table I: 81/263 -> 0.2553 to 0.3662.
    low, high = wilson(81, 263)
    assert (round(low, 4), round(high, 4)) == (0.2553, 0.3662)


def test_wilson_edges():
    assert wilson(0, 0) is None
    low, high = wilson(0, 10)
    assert low == 0.0 and 0.27 < high < 0.28
    low, high = wilson(10, 10)
    assert high == 1.0 and 0.72 < low < 0.73


@given(st.integers(1, 500).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_wilson_stays_in_0_1_and_contains_the_rate(kn):
    k, n = kn
    low, high = wilson(k, n)
    assert 0.0 <= low <= k / n <= high <= 1.0


# Immediate response --------------------------------------------------------------------------


def test_immediate_change_pairs_by_site_and_side_and_converts_mixed_units():
    readings = [
        # Site A left: 3.0 kg/cm2 -> 4.5 kg/cm2 at 1 min (entered in N/cm2), 5.0 at 15 min (kPa).
        ReadingRow(1, "a", "left", "baseline", 3.0 * KPA_PER_KG_CM2),
        ReadingRow(1, "a", "left", "1min", 4.5 * KPA_PER_KG_CM2 / KPA_PER_N_CM2 * KPA_PER_N_CM2),
        ReadingRow(1, "a", "left", "15min", 5.0 * KPA_PER_KG_CM2),
        # Site A right: +0.5 at 1 min, no 15-minute reading.
        ReadingRow(1, "a", "right", "baseline", 2.0 * KPA_PER_KG_CM2),
        ReadingRow(1, "a", "right", "1min", 2.5 * KPA_PER_KG_CM2),
        # Site B: a 1-minute reading without a baseline is not a pair.
        ReadingRow(1, "b", "left", "1min", 9.0 * KPA_PER_KG_CM2),
    ]
    change = immediate_change(readings)
    assert change.pairs_1min == 2
    assert change.change_1min == pytest.approx((1.5 + 0.5) / 2)
    assert change.pairs_15min == 1
    assert change.change_15min == pytest.approx(2.0)


def test_immediate_change_without_pairs_is_none():
    change = immediate_change([ReadingRow(1, "a", "left", "baseline", 300.0)])
    assert (change.pairs_1min, change.change_1min, change.change_15min) == (0, None, None)


def test_responding_share_counts_changes_at_the_threshold():
    rows = sessions(1, 5, 5)
    readings = [
        ReadingRow(1, "a", "left", "baseline", 2 * KPA_PER_KG_CM2),
        ReadingRow(1, "a", "left", "1min", 3 * KPA_PER_KG_CM2),  # +1.0: at the threshold
        ReadingRow(2, "a", "left", "baseline", 2 * KPA_PER_KG_CM2),
        ReadingRow(2, "a", "left", "1min", 2.9 * KPA_PER_KG_CM2),  # +0.9
    ]
    agg = reference_aggregates(rows, readings, [], [])
    assert (agg.immediate_sessions, agg.responding_sessions) == (2, 1)
    report = o.outcomes_report(agg)
    assert report["immediate"]["responding_share"] == 0.5
    assert report["immediate"]["mean_change_1min"] == pytest.approx(0.95)
    assert report["immediate"]["mean_change_15min"] is None


# Relief and Kaplan-Meier ---------------------------------------------------------------------


def test_relief_event_censoring_window_and_exclusion():
    rows = [
        SessionRow(1, 1, day(0), 6),
        SessionRow(2, 1, day(7), 5),
        SessionRow(3, 1, day(14), None),  # no pain_before: no relief, but it closes a window
        SessionRow(4, 1, day(21), 4),
        SessionRow(5, 1, day(28), 4),
    ]
    diary = [
        DiaryRow(1, day(0), 9),  # the session's own day: outside every window
        DiaryRow(1, day(2), 3),
        DiaryRow(1, day(4), 6),  # back to 6 at day 4: event at 4 days
        DiaryRow(1, day(5), 7),
        DiaryRow(1, day(9), 2),
        DiaryRow(1, day(12), 4),  # never back to 5 before session 3 on day 14: censored at 5
        DiaryRow(1, day(14), 9),  # session 3's day: not in session 2's window
        # Session 4 (day 21): no entry before day 28: left out.
        DiaryRow(1, day(30), 3),
        DiaryRow(1, day(40), 4),  # session 5, the last: all later entries; event at 12
    ]
    assert session_relief(rows, diary) == {
        1: Relief(4, True),
        2: Relief(5, False),
        5: Relief(12, True),
    }


def test_kaplan_meier_by_hand_with_ties_and_censoring():
    # Times: 2, 2 (events), 3 (censored), 4 (event), 4 (censored), 6 (event).
    km = kaplan_meier({(2, True): 2, (3, False): 1, (4, True): 1, (4, False): 1, (6, True): 1})
    survival = [(s.time, s.at_risk, round(s.survival, 6)) for s in km.steps]
    # S(2) = 1 - 2/6 = 0.6667; S(3) unchanged; S(4) = 0.6667 x (1 - 1/3) = 0.4444; S(6) = 0.
    assert survival == [(2, 6, 0.666667), (3, 4, 0.666667), (4, 3, 0.444444), (6, 1, 0.0)]
    assert km.median == 4
    assert (km.sessions, km.events) == (6, 4)


def test_kaplan_meier_median_is_none_when_survival_stays_above_half():
    km = kaplan_meier({(3, True): 1, (5, False): 4})
    assert km.median is None


def test_kaplan_meier_median_at_exactly_half():
    km = kaplan_meier({(1, True): 1, (2, True): 1, (3, False): 2})
    assert km.median == 2  # S(2) = 0.5: "at or below"


# Medians -------------------------------------------------------------------------------------


def test_median_of_counts():
    assert median_of_counts({}) is None
    assert median_of_counts({3: 1}) == 3
    assert median_of_counts({2: 1, 5: 1}) == 3.5
    assert median_of_counts({1: 2, 4: 1, 9: 2}) == 4


# Adverse events and the report -----------------------------------------------------------------


def test_adverse_events_per_100_sessions_and_report_keys():
    rows = sessions(1, 6, 4, 3) + sessions(2, 5, first_id=10)
    events = [AdverseEventRow(1, False), AdverseEventRow(2, True), AdverseEventRow(99, True)]
    report = o.outcomes_report(reference_aggregates(rows, [], [], events))
    assert report["adverse_events"] == {"count": 2, "serious": 1, "per_100_sessions": 50.0}
    assert {
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
    } <= set(report)
    assert (report["patients"], report["sessions"], report["eligible"]) == (2, 4, 1)
    assert {"n", "rate", "ci95"} <= set(report["responders_30"])
    for claim in report["claims"]:
        assert {"claim", "source", "measured", "ci95", "n", "verdict"} <= set(claim)
        if claim["modality"] is None:
            assert claim["verdict"] == o.INSUFFICIENT  # far fewer than 20 cases
        else:  # one modality's claim, and no modality selected
            assert (claim["verdict"], claim["n"], claim["measured"]) == (o.NOT_APPLICABLE, 0, None)


def test_a_modalitys_claim_is_judged_on_that_modality_only():
    """'Neural prolotherapy takes 4-8 treatments' cannot be judged on classic sessions."""
    rows = [r for p in range(1, 31) for r in sessions(p, 6, 3, 2, first_id=10 * p)]
    agg = reference_aggregates(rows, [], [], [])
    by_key = {
        modality: {c["key"]: c for c in o.outcomes_report(agg, modality=modality)["claims"]}
        for modality in (None, "neural", "classic")
    }
    neural, classic = "neural_4_to_8_treatments", "classic_4_to_12_sessions"
    assert by_key[None][neural]["verdict"] == o.NOT_APPLICABLE
    assert by_key["classic"][neural]["verdict"] == o.NOT_APPLICABLE
    assert by_key["neural"][classic]["verdict"] == o.NOT_APPLICABLE
    assert by_key["neural"][neural]["verdict"] != o.NOT_APPLICABLE
    assert by_key["neural"][neural]["n"] == 30
    assert by_key["classic"][classic]["n"] == 30
    # A claim about no one modality is judged whatever the selection.
    assert len({by_key[m]["ninety_percent_effective"]["verdict"] for m in by_key}) == 1


def test_selection_limits_everything_but_the_relief_window():
    rows = sessions(1, 6, 6)
    diary = [DiaryRow(1, day(3), 6), DiaryRow(1, day(9), 6)]
    agg = reference_aggregates(rows, [], diary, [], selected=[1])
    # Session 2 is not selected, yet it ends session 1's window on day 7: event at 3 days.
    assert (agg.sessions, agg.relief_counts) == (1, {(3, True): 1})


# Verdicts ------------------------------------------------------------------------------------

RATE_CLAIM = next(c for c in o.CLAIMS if c.key == "pain_down_within_a_minute")


@pytest.mark.parametrize(
    ("measured", "ci", "n", "expected"),
    [
        (0.7, (0.6, 0.8), 50, o.CONSISTENT),
        (0.45, (0.35, 0.55), 50, o.CONSISTENT),  # reaches 0.5: not contradicted
        (0.3, (0.2, 0.4), 50, o.NOT_CONSISTENT),
        (0.7, (0.6, 0.8), 19, o.INSUFFICIENT),  # fewer than 20 cases
        (0.5, (0.25, 0.75), 30, o.INSUFFICIENT),  # interval wider than 0.4
        (None, None, 50, o.INSUFFICIENT),
    ],
)
def test_verdicts(measured, ci, n, expected):
    assert o.verdict(RATE_CLAIM, measured, ci, n) == expected


def test_relief_claim_with_an_open_interval_is_insufficient():
    claim = next(c for c in o.CLAIMS if c.key == "relief_4_to_5_days")
    assert o.verdict(claim, 4.0, (3, None), 100) == o.INSUFFICIENT


# Invariants ----------------------------------------------------------------------------------


@st.composite
def registries(draw: st.DrawFn) -> tuple[list, list, list, list]:
    patients = draw(st.integers(1, 6))
    rows: list[SessionRow] = []
    readings: list[ReadingRow] = []
    diary: list[DiaryRow] = []
    events: list[AdverseEventRow] = []
    sid = 0
    for p in range(patients):
        for _ in range(draw(st.integers(1, 5))):
            sid += 1
            rows.append(
                SessionRow(
                    sid, p, day(draw(st.integers(0, 60))), draw(st.none() | st.integers(0, 10))
                )
            )
            for site in ("a", "b")[: draw(st.integers(0, 2))]:
                for phase in ("baseline", "1min", "15min")[: draw(st.integers(1, 3))]:
                    readings.append(ReadingRow(sid, site, "left", phase, draw(st.floats(0, 1900))))
            if draw(st.booleans()) and draw(st.booleans()):
                events.append(AdverseEventRow(sid, draw(st.booleans())))
        for d in sorted(set(draw(st.lists(st.integers(0, 70), max_size=12)))):
            diary.append(DiaryRow(p, day(d), draw(st.integers(0, 10))))
    return rows, readings, diary, events


@settings(max_examples=60, deadline=None)
@given(registries(), st.randoms(use_true_random=False))
def test_results_do_not_depend_on_row_order(data, rnd: random.Random):
    rows, readings, diary, events = data
    first = o.outcomes_report(reference_aggregates(rows, readings, diary, events))
    for items in (rows, readings, diary, events):
        rnd.shuffle(items)
    again = o.outcomes_report(reference_aggregates(rows, readings, diary, events))
    assert first == again


@settings(max_examples=60, deadline=None)
@given(registries())
def test_rates_are_in_0_1_and_intervals_contain_them(data):
    report = o.outcomes_report(reference_aggregates(*data))
    for key in ("responders_30", "responders_50", "drop_out_after_first"):
        part = report[key]
        if part["rate"] is None:
            assert part["ci95"] is None
            continue
        low, high = part["ci95"]
        assert 0.0 <= low <= part["rate"] <= high <= 1.0
    share = report["immediate"]["responding_share"]
    if share is not None:
        low, high = report["immediate"]["responding_ci95"]
        assert 0.0 <= low <= share <= high <= 1.0
    survival = [s for _, s in report["relief_days"]["curve"]]
    assert all(0.0 <= s <= 1.0 for s in survival)
    assert survival == sorted(survival, reverse=True)
    assert report["responders_50"]["n"] <= report["responders_30"]["n"] <= report["eligible"]
    assert report["eligible"] <= report["patients"]
    assert not any(math.isnan(c["measured"] or 0.0) for c in report["claims"])
