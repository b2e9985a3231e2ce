"""Relief duration after each session, from the patient's pain diary (DOMAIN 1.2 and 4.2).

Practitioners of neural prolotherapy say relief lasts "a few hours to 1 week" after a session and
should lengthen with each one (DOMAIN, introduction and 1.2 [P]): a claim to measure. One
definition serves the patient's chart, the patient's own view and the outcome pages:

- the window of a session is the diary entries dated after the session's day and before the next
  session's day (the last session's window has no end);
- the event is the first entry in the window whose pain is at or above the session's pain
  before (or, when ``pain_back_ends_relief``, that says the pain is back to where it was), and the
  duration is its date minus the session's date, in days;
- with no event, the duration is censored at the last entry of the window (the patient was still
  relieved then; what came after is unknown);
- a session with no entry in its window, or with no pain before recorded, has no duration.

Everything is a calendar date in the patient's (the clinic's) zone: the caller converts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SessionDay:
    """A session as relief sees it: its day and the pain the patient had before it (0-10)."""

    day: dt.date
    pain_before: int | None


@dataclass(frozen=True, slots=True)
class DiaryDay:
    """A diary entry as relief sees it. ``pain_back`` is None when the question was not asked."""

    day: dt.date
    pain: int
    pain_back: bool | None = None


@dataclass(frozen=True, slots=True)
class Relief:
    """Days of relief after one session; ``event`` False means censored (still relieved)."""

    days: int
    event: bool

    @property
    def censored(self) -> bool:
        return not self.event

    def describe(self) -> str:
        unit = "day" if self.days == 1 else "days"
        return f"{self.days} {unit}" if self.event else f"{self.days}+ {unit} (still relieved)"


def relief_after(
    session: SessionDay,
    next_session_day: dt.date | None,
    entries: Iterable[DiaryDay],
    *,
    pain_back_ends_relief: bool = True,
) -> Relief | None:
    """The relief after ``session``, reading the entries of its window (any order, any extra)."""
    if session.pain_before is None:
        return None
    window = sorted(
        (
            e
            for e in entries
            if e.day > session.day and (next_session_day is None or e.day < next_session_day)
        ),
        key=lambda e: e.day,
    )
    if not window:
        return None
    for entry in window:
        back = pain_back_ends_relief and entry.pain_back is True
        if entry.pain >= session.pain_before or back:
            return Relief(days=(entry.day - session.day).days, event=True)
    return Relief(days=(window[-1].day - session.day).days, event=False)


def relief_durations(
    sessions: Sequence[SessionDay],
    entries: Iterable[DiaryDay],
    *,
    pain_back_ends_relief: bool = True,
) -> list[Relief | None]:
    """The relief after each of ``sessions`` (one series, any order given; answered in the same
    order), each window ending at the next session's day.

    Two sessions on the same day: the earlier-listed one has an empty window (None).
    """
    entries = list(entries)
    order = sorted(range(len(sessions)), key=lambda i: sessions[i].day)
    result: list[Relief | None] = [None] * len(sessions)
    for rank, i in enumerate(order):
        nxt = sessions[order[rank + 1]].day if rank + 1 < len(order) else None
        result[i] = relief_after(
            sessions[i], nxt, entries, pain_back_ends_relief=pain_back_ends_relief
        )
    return result


def relief_trend(reliefs: Sequence[Relief | None]) -> str:
    """A plain-words trend over a series: "lengthening", "shortening", "steady" or "" (too few).

    Compares the first and the last known durations (DOMAIN 1.2: each session should lengthen
    relief). A censored duration is a lower bound: a censored last duration that already exceeds
    an ended first one counts as lengthening, an ended last one below a censored first one as
    shortening; anything a censored duration leaves open is "".
    """
    known = [r for r in reliefs if r is not None]
    if len(known) < 2:
        return ""
    first, last = known[0], known[-1]
    if last.days > first.days and first.event:
        return "lengthening"
    if last.days < first.days and last.event:
        return "shortening"
    if last.days == first.days and first.event and last.event:
        return "steady"
    return ""
