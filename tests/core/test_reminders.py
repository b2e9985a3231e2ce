"""The next diary reminder: the same wall-clock hour in the clinic's zone, across DST changes."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from prolotrack.core.reminders import next_reminder_at, reminder_day

VANCOUVER = ZoneInfo("America/Vancouver")
EIGHT_PM = dt.time(20, 0)


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def test_it_picks_today_when_the_hour_is_still_ahead():
    # 2026-07-01 10:00 PDT (UTC-7) -> 20:00 PDT the same day = 03:00 UTC the next day.
    assert next_reminder_at(utc(2026, 7, 1, 17), VANCOUVER, EIGHT_PM) == utc(2026, 7, 2, 3)


def test_it_picks_tomorrow_once_the_hour_has_passed():
    # 20:00:01 PDT on 1 July -> 20:00 PDT on 2 July.
    now = utc(2026, 7, 2, 3, 0, 1)
    assert next_reminder_at(now, VANCOUVER, EIGHT_PM) == utc(2026, 7, 3, 3)


def test_exactly_at_the_hour_the_next_one_is_tomorrow():
    assert next_reminder_at(utc(2026, 7, 2, 3), VANCOUVER, EIGHT_PM) == utc(2026, 7, 3, 3)


def test_it_keeps_the_local_hour_across_the_spring_change():
    # Clocks go forward on Sunday 2026-03-08 at 02:00 PST -> 03:00 PDT.
    # Saturday 7 March, 20:00 PST (UTC-8) = 04:00 UTC on 8 March.
    saturday = next_reminder_at(utc(2026, 3, 7, 20), VANCOUVER, EIGHT_PM)
    assert saturday == utc(2026, 3, 8, 4)
    # Sunday 8 March, 20:00 PDT (UTC-7) = 03:00 UTC on 9 March: 23 hours later, not 24.
    sunday = next_reminder_at(saturday, VANCOUVER, EIGHT_PM)
    assert sunday == utc(2026, 3, 9, 3)
    assert sunday - saturday == dt.timedelta(hours=23)
    assert sunday.astimezone(VANCOUVER).time() == EIGHT_PM


def test_it_keeps_the_local_hour_across_the_autumn_change():
    # Clocks go back on Sunday 2026-11-01 at 02:00 PDT -> 01:00 PST.
    saturday = next_reminder_at(utc(2026, 10, 31, 12), VANCOUVER, EIGHT_PM)
    assert saturday == utc(2026, 11, 1, 3)  # 20:00 PDT
    sunday = next_reminder_at(saturday, VANCOUVER, EIGHT_PM)
    assert sunday == utc(2026, 11, 2, 4)  # 20:00 PST
    assert sunday - saturday == dt.timedelta(hours=25)


def test_a_time_in_the_spring_gap_goes_out_after_the_jump():
    # 02:30 does not exist on 8 March 2026 in Vancouver: read as 02:30 PST = 03:30 PDT.
    when = next_reminder_at(utc(2026, 3, 8, 9), VANCOUVER, dt.time(2, 30))
    assert when == utc(2026, 3, 8, 10, 30)
    assert when.astimezone(VANCOUVER).time() == dt.time(3, 30)


def test_a_time_that_happens_twice_goes_out_the_first_time():
    # 01:30 happens twice on 1 November 2026: first in PDT (08:30 UTC), then PST (09:30 UTC).
    assert next_reminder_at(utc(2026, 11, 1, 7), VANCOUVER, dt.time(1, 30)) == utc(
        2026, 11, 1, 8, 30
    )


def test_it_follows_a_southern_hemisphere_zone():
    auckland = ZoneInfo("Pacific/Auckland")
    # NZ goes back on 2026-04-05 at 03:00 NZDT -> 02:00 NZST. 20:00 NZDT on 4 April = 07:00 UTC.
    first = next_reminder_at(utc(2026, 4, 4, 0), auckland, EIGHT_PM)
    second = next_reminder_at(first, auckland, EIGHT_PM)
    assert (first, second) == (utc(2026, 4, 4, 7), utc(2026, 4, 5, 8))


def test_it_refuses_a_naive_now():
    with pytest.raises(ValueError, match="aware"):
        next_reminder_at(dt.datetime(2026, 7, 1, 12), VANCOUVER)


def test_the_reminder_day_is_the_local_date():
    assert reminder_day(utc(2026, 7, 2, 3), VANCOUVER) == dt.date(2026, 7, 1)
