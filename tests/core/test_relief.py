"""Relief duration per session (core.relief): events, censoring at the next session and at the
last entry, and sessions with no entries."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from prolotrack.core.relief import (
    DiaryDay,
    Relief,
    SessionDay,
    relief_after,
    relief_durations,
    relief_trend,
)

D0 = dt.date(2026, 10, 1)


def day(n: int) -> dt.date:
    return D0 + dt.timedelta(days=n)


def test_it_ends_relief_at_the_first_entry_at_or_above_pain_before():
    session = SessionDay(day(0), pain_before=7)
    entries = [DiaryDay(day(1), 2), DiaryDay(day(2), 4), DiaryDay(day(3), 7), DiaryDay(day(4), 8)]
    assert relief_after(session, None, entries) == Relief(days=3, event=True)


def test_it_counts_pain_just_below_pain_before_as_still_relieved():
    session = SessionDay(day(0), pain_before=7)
    entries = [DiaryDay(day(1), 6), DiaryDay(day(5), 6)]
    assert relief_after(session, None, entries) == Relief(days=5, event=False)


def test_it_ends_relief_when_the_patient_says_the_pain_is_back():
    session = SessionDay(day(0), pain_before=7)
    entries = [DiaryDay(day(1), 3), DiaryDay(day(2), 5, pain_back=True), DiaryDay(day(3), 7)]
    assert relief_after(session, None, entries) == Relief(days=2, event=True)


def test_the_outcome_definition_ignores_the_pain_back_answer():
    session = SessionDay(day(0), pain_before=7)
    entries = [DiaryDay(day(1), 3), DiaryDay(day(2), 5, pain_back=True), DiaryDay(day(3), 7)]
    assert relief_after(session, None, entries, pain_back_ends_relief=False) == Relief(3, True)


def test_it_censors_at_the_last_entry_before_the_next_session():
    sessions = [SessionDay(day(0), 7), SessionDay(day(7), 6)]
    # Relieved until the day before session 2; the entry on the session's own day belongs to no
    # window (it is not after session 2 and not before it).
    entries = [DiaryDay(day(2), 3), DiaryDay(day(6), 5), DiaryDay(day(7), 9), DiaryDay(day(8), 2)]
    first, second = relief_durations(sessions, entries)
    assert first == Relief(days=6, event=False)
    assert second == Relief(days=1, event=False)


def test_an_event_after_the_next_session_does_not_end_the_earlier_relief():
    sessions = [SessionDay(day(0), 7), SessionDay(day(7), 6)]
    entries = [DiaryDay(day(3), 2), DiaryDay(day(9), 8)]
    assert relief_durations(sessions, entries) == [Relief(3, False), Relief(2, True)]


def test_it_censors_the_last_session_at_the_last_entry():
    sessions = [SessionDay(day(0), 5)]
    entries = [DiaryDay(day(1), 1), DiaryDay(day(4), 2)]
    assert relief_durations(sessions, entries) == [Relief(days=4, event=False)]


def test_a_session_without_entries_has_no_duration():
    sessions = [SessionDay(day(0), 7), SessionDay(day(7), 6), SessionDay(day(14), 5)]
    entries = [DiaryDay(day(15), 6)]
    assert relief_durations(sessions, entries) == [None, None, Relief(1, True)]


def test_a_session_without_pain_before_has_no_duration():
    assert relief_after(SessionDay(day(0), None), None, [DiaryDay(day(1), 3)]) is None


def test_entries_on_or_before_the_session_day_are_not_in_its_window():
    session = SessionDay(day(5), 6)
    entries = [DiaryDay(day(3), 9), DiaryDay(day(5), 9)]
    assert relief_after(session, None, entries) is None


def test_it_answers_in_the_order_the_sessions_were_given():
    sessions = [SessionDay(day(7), 6), SessionDay(day(0), 7)]
    entries = [DiaryDay(day(2), 7), DiaryDay(day(9), 1)]
    assert relief_durations(sessions, entries) == [Relief(2, False), Relief(2, True)]


def test_pain_before_zero_ends_relief_at_the_first_entry():
    assert relief_after(SessionDay(day(0), 0), None, [DiaryDay(day(2), 0)]) == Relief(2, True)


@pytest.mark.parametrize(
    ("days", "trend"),
    [
        ([Relief(1, True), Relief(3, True)], "lengthening"),
        ([Relief(4, True), Relief(2, True)], "shortening"),
        ([Relief(2, True), Relief(2, True)], "steady"),
        ([Relief(4, True), Relief(2, False)], ""),
        ([Relief(4, True), None], ""),
        ([None, Relief(1, True), None, Relief(5, False)], "lengthening"),
        ([Relief(5, False), Relief(2, True)], "shortening"),
        # A censored first relief is a lower bound: a longer or equal last one proves nothing.
        ([Relief(2, False), Relief(3, True)], ""),
        ([Relief(2, False), Relief(5, False)], ""),
        ([Relief(3, False), Relief(3, True)], ""),
        ([Relief(3, True), Relief(3, False)], ""),
    ],
)
def test_the_trend_compares_the_first_and_last_known_durations(days, trend):
    assert relief_trend(days) == trend


entries_strategy = st.lists(
    st.builds(
        DiaryDay,
        st.integers(0, 40).map(day),
        st.integers(0, 10),
        st.one_of(st.none(), st.booleans()),
    ),
    max_size=30,
)
sessions_strategy = st.lists(
    st.builds(SessionDay, st.integers(0, 40).map(day), st.one_of(st.none(), st.integers(0, 10))),
    min_size=1,
    max_size=6,
)


@given(sessions_strategy, entries_strategy)
def test_durations_stay_in_their_window_and_ignore_entry_order(sessions, entries):
    forward = relief_durations(sessions, entries)
    backward = relief_durations(sessions, list(reversed(entries)))
    assert forward == backward
    ordered = sorted(s.day for s in sessions)
    for session, relief in zip(sessions, forward, strict=True):
        if relief is None:
            continue
        assert relief.days >= 1
        later = [d for d in ordered if d > session.day]
        if later:
            assert session.day + dt.timedelta(days=relief.days) < later[0]
