"""The outcome numbers, aggregated in the database: ``outcomes_compute()``.

Plain SQL that SQLite (3.25 or newer: window functions), PostgreSQL and Citus all run: CTEs,
ROW_NUMBER and FIRST_VALUE, CASE inside SUM, joins that keep ``clinic_id`` equal so a table
distributed by clinic joins shard-locally. Five statements read the derived per-session table
(``SessionOutcome``) and return only small aggregates: counts and sums, relief as
(days, event, count), patients as counts by responder status and sessions to response, and
first-session days for drop-out. ``core.outcomes`` turns those into rates, intervals, a
Kaplan-Meier curve and verdicts: the definitions live there, once.

The CLI, the dashboard and the benchmark call the same ``outcomes_compute``.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection

from prolotrack.accounts.models import Clinic
from prolotrack.core.outcomes import (
    DEFAULT_THRESHOLD_KG_CM2,
    DROP_OUT_DAYS,
    THRESHOLD_TOLERANCE,
    Aggregates,
    outcomes_report,
)

# Breakdowns of the dashboard: dimension -> column of the per-session table.
DIMENSIONS = {
    "modality": "so.modality",
    "region": "so.region",
    "condition": "so.condition",
    "practitioner": "so.practitioner_id",
    "period": "so.period",
}


@dataclass(frozen=True)
class Filters:
    clinic_id: int | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    modality: str | None = None
    region: str | None = None
    condition: str | None = None
    practitioner_id: int | None = None
    patient_id: int | None = None

    def where(self) -> tuple[str, list[Any]]:
        parts: list[str] = []
        params: list[Any] = []
        for column, value in (
            ("so.clinic_id", self.clinic_id),
            ("so.modality", self.modality),
            ("so.region", self.region),
            ("so.condition", self.condition),
            ("so.practitioner_id", self.practitioner_id),
            ("so.patient_id", self.patient_id),
        ):
            if value is not None:
                parts.append(f"{column} = %s")
                params.append(value)
        if self.date_from is not None:
            parts.append("so.day >= %s")
            params.append(self.date_from)
        if self.date_to is not None:
            parts.append("so.day <= %s")
            params.append(self.date_to)
        return (" AND ".join(parts) or "1 = 1"), params


@dataclass
class _Partial:
    """Aggregates of one group as the statements fill them in."""

    values: dict[str, Any] = field(default_factory=dict)
    relief: Counter[tuple[int, bool]] = field(default_factory=Counter)
    to_response: Counter[int] = field(default_factory=Counter)
    first_days: list[tuple[dt.date, int, int]] = field(default_factory=list)


def outcomes_compute(
    clinic: Clinic | int | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    modality: str | None = None,
    region: str | None = None,
    *,
    condition: str | None = None,
    practitioner_id: int | None = None,
    patient_id: int | None = None,
    threshold_kg_cm2: float = DEFAULT_THRESHOLD_KG_CM2,
) -> dict[str, Any]:
    """The outcome report (``core.outcomes.outcomes_report``) of the sessions the filters select.

    ``clinic`` None means every clinic (a registry); dates are the sessions' local dates,
    both ends included.
    """
    filters = Filters(
        clinic_id=clinic.pk if isinstance(clinic, Clinic) else clinic,
        date_from=date_from,
        date_to=date_to,
        modality=modality,
        region=region,
        condition=condition,
        practitioner_id=practitioner_id,
        patient_id=patient_id,
    )
    groups = outcomes_aggregates(filters, threshold_kg_cm2=threshold_kg_cm2)
    return outcomes_report(
        groups.get(0, Aggregates()), threshold_kg_cm2=threshold_kg_cm2, modality=modality
    )


def outcomes_by(
    dimension: str, filters: Filters, *, threshold_kg_cm2: float = DEFAULT_THRESHOLD_KG_CM2
) -> list[tuple[Any, dict[str, Any]]]:
    """(group value, report) per value of ``dimension`` (a key of DIMENSIONS), in value order.

    Breakdown tables leave drop-out out (it is reported as 0 of 0): one statement less.
    """
    groups = outcomes_aggregates(
        filters, group=dimension, threshold_kg_cm2=threshold_kg_cm2, drop_out=False
    )
    return [
        (
            value,
            outcomes_report(
                agg,
                threshold_kg_cm2=threshold_kg_cm2,
                # A modality's row is that modality's sessions; any other row follows the filter.
                modality=value if dimension == "modality" else filters.modality,
            ),
        )
        for value, agg in sorted(groups.items(), key=lambda item: str(item[0]))
    ]


def outcomes_aggregates(
    filters: Filters,
    *,
    group: str | None = None,
    threshold_kg_cm2: float = DEFAULT_THRESHOLD_KG_CM2,
    execute: Callable[[str, Sequence[Any]], list[tuple[Any, ...]]] | None = None,
    drop_out: bool = True,
) -> dict[Any, Aggregates]:
    """``core.outcomes.Aggregates`` per group (key 0 when ungrouped), computed in SQL.

    ``execute(sql, params)`` runs a statement (``%s`` placeholders) and returns its rows; the
    default is Django's connection. The benchmark passes DuckDB's, to run the same statements.
    """
    g = "0" if group is None else DIMENSIONS[group]
    where, params = filters.where()
    # Only column names of DIMENSIONS and Filters reach the text; values are parameters.
    selected = f"SELECT {g} AS g, so.* FROM outcomes_sessionoutcome so WHERE {where}"  # noqa: S608
    partials: dict[Any, _Partial] = defaultdict(_Partial)
    run = execute or _django_execute
    for row in _fetch(
        run,
        _SESSIONS_SQL.format(s=selected, tolerance=repr(THRESHOLD_TOLERANCE)),
        [*params, threshold_kg_cm2],
    ):
        partials[row[0]].values.update(
            sessions=row[1],
            patients=row[2],
            immediate_sessions=row[3],
            sum_change_1min=float(row[4] or 0.0),
            sumsq_change_1min=float(row[5] or 0.0),
            responding_sessions=int(row[6] or 0),
            immediate_sessions_15min=row[7],
            sum_change_15min=float(row[8] or 0.0),
        )
    for key, days, event, count in _fetch(run, _RELIEF_SQL.format(s=selected), params):
        partials[key].relief[int(days), bool(event)] += count
    for key, eligible, r30, r50, improved, first30, count in _fetch(
        run, _PATIENTS_SQL.format(s=selected), params
    ):
        values = partials[key].values
        values["eligible"] = values.get("eligible", 0) + eligible * count
        values["responders_30"] = values.get("responders_30", 0) + r30 * count
        values["responders_50"] = values.get("responders_50", 0) + r50 * count
        values["improved"] = values.get("improved", 0) + improved * count
        if r30:
            partials[key].to_response[int(first30)] += count
    first_days = _fetch(run, _FIRST_DAYS_SQL.format(s=selected), params) if drop_out else []
    for key, first_day, singles, count in first_days:
        partials[key].first_days.append((_date(first_day), int(singles), count))
    for key, count, serious in _fetch(run, _ADVERSE_SQL.format(s=selected), params):
        partials[key].values.update(adverse_events=count, serious_adverse_events=serious)

    result: dict[Any, Aggregates] = {}
    for key, part in partials.items():
        if not part.values.get("sessions"):
            continue
        single, of = _drop_out(part.first_days)
        result[key] = Aggregates(
            **{k: int(v) if isinstance(v, int | bool) else v for k, v in part.values.items()},
            relief_counts=dict(part.relief),
            sessions_to_response=dict(part.to_response),
            drop_out_single=single,
            drop_out_of=of,
        )
    return result


def _django_execute(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        return cursor.fetchall()


def _fetch(run: Any, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    return [(_key(row[0]), *row[1:]) for row in run(sql, params)]


def _key(value: Any) -> Any:
    return int(value) if isinstance(value, int) else value


def _date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def _drop_out(first_days: list[tuple[dt.date, int, int]]) -> tuple[int, int]:
    """From (first day, patients seen once, patients) rows: ``core.outcomes.drop_out_counts``'s
    rule, summed by day. The latest session day comes as a row of zero patients."""
    if not first_days:
        return 0, 0
    cutoff = max(day for day, _, _ in first_days) - dt.timedelta(days=DROP_OUT_DAYS)
    considered = [(singles, count) for day, singles, count in first_days if day <= cutoff]
    return sum(s for s, _ in considered), sum(c for _, c in considered)


# Sessions, patients and the immediate response (session level). The last %s is the threshold.
_SESSIONS_SQL = """
WITH s AS ({s})
SELECT g,
       COUNT(*),
       COUNT(DISTINCT patient_id),
       COUNT(change_1min),
       SUM(change_1min),
       SUM(change_1min * change_1min),
       SUM(CASE WHEN change_1min >= %s - {tolerance} THEN 1 ELSE 0 END),
       COUNT(change_15min),
       SUM(change_15min)
FROM s
GROUP BY g
"""

# Relief as (days, event, sessions): Kaplan-Meier needs nothing more.
_RELIEF_SQL = """
WITH s AS ({s})
SELECT g, relief_days, relief_event, COUNT(*)
FROM s
WHERE relief_days IS NOT NULL
GROUP BY g, relief_days, relief_event
"""

# Each patient's sessions with a pain_before in (date, id) order: baseline, latest, and the
# position of the first at <= 0.7 x baseline (one window order: the last session is the one
# without a next, LEAD's -1); then patients counted by what they are. Responder
# thresholds compare integers (10 x (baseline - latest) >= 3 x baseline), like core.outcomes.
_PATIENTS_SQL = """
WITH s AS ({s}),
ranked AS (
    SELECT g, patient_id, pain_before,
           ROW_NUMBER() OVER (
               PARTITION BY g, patient_id ORDER BY day, session_id) AS pos,
           FIRST_VALUE(pain_before) OVER (
               PARTITION BY g, patient_id ORDER BY day, session_id) AS baseline,
           LEAD(pain_before, 1, -1) OVER (
               PARTITION BY g, patient_id ORDER BY day, session_id) AS next_pain
    FROM s
    WHERE pain_before IS NOT NULL
),
courses AS (
    SELECT g, patient_id,
           MAX(baseline) AS baseline,
           MAX(CASE WHEN next_pain = -1 THEN pain_before END) AS latest,
           COUNT(*) AS n,
           MIN(CASE WHEN 10 * pain_before <= 7 * baseline THEN pos END) AS first30
    FROM ranked
    GROUP BY g, patient_id
),
judged AS (
    SELECT g,
           CASE WHEN n >= 2 AND baseline >= 1 THEN 1 ELSE 0 END AS eligible,
           CASE WHEN n >= 2 AND baseline >= 1 AND 10 * (baseline - latest) >= 3 * baseline
                THEN 1 ELSE 0 END AS r30,
           CASE WHEN n >= 2 AND baseline >= 1 AND 2 * (baseline - latest) >= baseline
                THEN 1 ELSE 0 END AS r50,
           CASE WHEN n >= 2 AND baseline >= 1 AND latest < baseline
                THEN 1 ELSE 0 END AS improved,
           first30
    FROM courses
)
SELECT g, eligible, r30, r50, improved,
       CASE WHEN r30 = 1 THEN first30 END AS first30, COUNT(*)
FROM judged
GROUP BY g, eligible, r30, r50, improved, CASE WHEN r30 = 1 THEN first30 END
"""

# Drop-out: patients by first session day (how many were seen once), and the latest session
# day of the group as a row of zero patients.
_FIRST_DAYS_SQL = """
WITH s AS ({s}),
people AS (
    SELECT g, patient_id, MIN(day) AS first_day, COUNT(*) AS n
    FROM s
    GROUP BY g, patient_id
)
SELECT g, first_day, SUM(CASE WHEN n = 1 THEN 1 ELSE 0 END), COUNT(*)
FROM people
GROUP BY g, first_day
UNION ALL
SELECT g, MAX(day), 0, 0 FROM s GROUP BY g
"""

_ADVERSE_SQL = """
WITH s AS ({s})
SELECT s.g, COUNT(*), SUM(CASE WHEN ae.serious THEN 1 ELSE 0 END)
FROM treatment_adverseevent ae
JOIN s ON s.session_id = ae.session_id AND s.clinic_id = ae.clinic_id
GROUP BY s.g
"""
