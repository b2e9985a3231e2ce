"""When the daily diary reminder goes out: a wall-clock hour in the clinic's zone, every day.

The reminder is at the same local time every day, so across a daylight-saving change the gap
between two reminders is 23 or 25 hours, not 24 (adding a day in UTC would move it an hour).
A local time that does not exist on a spring-forward day (02:30 in most of North America) is
taken as the moment the clocks jump past it, the standard reading (PEP 495, ``fold=0``): the
reminder then goes out at 03:30 new time. A time that happens twice on a fall-back day goes out
the first time.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

DEFAULT_REMINDER_TIME = dt.time(20, 0)


def _at(day: dt.date, at: dt.time, zone: ZoneInfo) -> dt.datetime:
    local = dt.datetime.combine(day, at).replace(tzinfo=zone)
    # Round-tripping through UTC normalises a time in the spring-forward gap.
    return local.astimezone(dt.UTC)


def next_reminder_at(
    now: dt.datetime, zone: ZoneInfo, at: dt.time = DEFAULT_REMINDER_TIME
) -> dt.datetime:
    """The first reminder strictly after ``now`` (an aware datetime), in UTC."""
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    today = now.astimezone(zone).date()
    for offset in range(3):
        moment = _at(today + dt.timedelta(days=offset), at, zone)
        if moment > now:
            return moment
    raise AssertionError("unreachable: a day later is always after now")  # pragma: no cover


def reminder_day(now: dt.datetime, zone: ZoneInfo) -> dt.date:
    """The diary day a reminder sent at ``now`` is about: the local date in the clinic's zone."""
    return now.astimezone(zone).date()
