"""A series' progress for the patient chart: pain and algometer thresholds, session by session.

Works on sessions already fetched with their injections and readings (see
``views._chart_series``), so drawing the charts adds no query however long the series is.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone
from django.utils.safestring import SafeString

from prolotrack.core.catalog import Catalog
from prolotrack.core.charting import PHASES
from prolotrack.core.relief import Relief, relief_trend
from prolotrack.core.units import MAX_PPT_KG_CM2, kpa_to_kg_cm2
from prolotrack.treatment import charts
from prolotrack.treatment.forms import PHASE_LABELS
from prolotrack.treatment.models import AdverseEvent, Session, TreatmentSeries

PAIN_TICKS = [0, 2, 4, 6, 8, 10]


@dataclass(frozen=True)
class SessionPoint:
    number: int
    session: Session
    day: dt.date
    injections: int
    # Days of relief after the session, from the patient's diary (core.relief); None: no entries.
    relief: Relief | None = None

    @property
    def label(self) -> str:
        return f"{self.number}"

    @property
    def volume_ml(self) -> str:
        """Total volume injected, from the prefetched injections, as plain text (6.5, not 6.50)."""
        total = sum((i.volume_ml for i in self.session.injections.all()), Decimal("0"))
        return charts.fmt_value(float(total))


@dataclass
class SiteThresholds:
    site: str
    side: str
    name: str
    # phase -> kg/cm2 per session (None when not measured that session)
    values: dict[str, list[float | None]] = field(default_factory=dict)
    chart: SafeString | None = None

    @property
    def label(self) -> str:
        return f"{self.name}, {self.side}"

    @property
    def rows(self) -> list[tuple[str, list[str]]]:
        """Table rows: (phase label, value per session as text, "" when not measured)."""
        return [
            (PHASE_LABELS[p], ["" if v is None else charts.fmt_value(v) for v in self.values[p]])
            for p in PHASES
        ]


@dataclass
class SeriesProgress:
    series: TreatmentSeries
    points: list[SessionPoint]
    thresholds: list[SiteThresholds]
    pain_chart: SafeString | None
    relief_chart: SafeString | None = None
    relief_trend: str = ""

    @property
    def has_pain(self) -> bool:
        return self.pain_chart is not None


def series_progress(
    series: TreatmentSeries,
    sessions: Sequence[Session],
    catalog: Catalog,
    relief: Sequence[Relief | None] | None = None,
) -> SeriesProgress:
    """Numbers and charts for ``sessions`` (the series' sessions, in date order), with the
    relief after each one when ``relief`` (one per session, from the diary) is given."""
    relief = list(relief) if relief is not None else [None] * len(sessions)
    points = [
        SessionPoint(
            number=i + 1,
            session=s,
            day=timezone.localdate(s.performed_at),
            injections=len(s.injections.all()),
            relief=relief[i],
        )
        for i, s in enumerate(sessions)
    ]
    x_labels = [p.label for p in points]
    pain_chart = None
    if any(s.pain_before is not None or s.pain_after is not None for s in sessions):
        pain_chart = charts.line_chart(
            chart_id=f"pain-{series.pk}",
            title=f"Pain, 0 to 10, before and after each session ({_series_name(series, catalog)})",
            x_labels=x_labels,
            lines=charts.styled_lines(
                [
                    ("Before", [_num(s.pain_before) for s in sessions]),
                    ("After", [_num(s.pain_after) for s in sessions]),
                ]
            ),
            y_max=10,
            y_ticks=PAIN_TICKS,
            y_label="Pain (0-10)",
        )
    thresholds = _thresholds(series, sessions, catalog, x_labels)
    return SeriesProgress(
        series=series,
        points=points,
        thresholds=thresholds,
        pain_chart=pain_chart,
        relief_chart=_relief_chart(series, relief, x_labels, catalog),
        relief_trend=relief_trend(relief),
    )


def _relief_chart(
    series: TreatmentSeries,
    relief: Sequence[Relief | None],
    x_labels: Sequence[str],
    catalog: Catalog,
) -> SafeString | None:
    """Days of relief after each session: the line should climb (DOMAIN 1.2)."""
    if not any(r is not None for r in relief):
        return None
    top = max(r.days for r in relief if r is not None)
    return charts.line_chart(
        chart_id=f"relief-{series.pk}",
        title=f"Days of relief after each session ({_series_name(series, catalog)})",
        x_labels=x_labels,
        lines=charts.styled_lines(
            [("Relief (days)", [_num(r.days if r else None) for r in relief])]
        ),
        y_max=max(top * 1.15, 4.0),
        y_label="Days",
        width=560,
        height=220,
    )


def _series_name(series: TreatmentSeries, catalog: Catalog) -> str:
    region = catalog.regions.get(series.region)
    return f"{series.get_modality_display()}, {region.name if region else series.region}"


def _num(value: int | None) -> float | None:
    return None if value is None else float(value)


def _thresholds(
    series: TreatmentSeries,
    sessions: Sequence[Session],
    catalog: Catalog,
    x_labels: Sequence[str],
) -> list[SiteThresholds]:
    by_site: dict[tuple[str, str], SiteThresholds] = {}
    for i, session in enumerate(sessions):
        for reading in session.readings.all():
            key = (reading.site, reading.side)
            entry = by_site.get(key)
            if entry is None:
                site = catalog.sites.get(reading.site)
                entry = SiteThresholds(
                    site=reading.site,
                    side=reading.side,
                    name=site.name if site else reading.site,
                    values={p: [None] * len(sessions) for p in PHASES},
                )
                by_site[key] = entry
            if reading.phase in entry.values:
                entry.values[reading.phase][i] = kpa_to_kg_cm2(reading.value_kpa)
    ordered = sorted(by_site.values(), key=lambda t: (t.name, t.side))
    for n, entry in enumerate(ordered):
        top = max((v for vs in entry.values.values() for v in vs if v is not None), default=1.0)
        entry.chart = charts.line_chart(
            chart_id=f"ppt-{series.pk}-{n}",
            title=f"Pressure-pain threshold at {entry.label}, kg/cm², by session",
            x_labels=x_labels,
            lines=charts.styled_lines([(PHASE_LABELS[p], entry.values[p]) for p in PHASES]),
            y_max=min(max(top * 1.15, 2.0), MAX_PPT_KG_CM2),
            y_label="kg/cm²",
            width=380,
            height=230,
        )
    return ordered


def adverse_events(
    sessions_by_series: Mapping[int, Sequence[Session]],
) -> list[tuple[Session, AdverseEvent]]:
    """Every adverse event of the patient, with its session, newest first."""
    found = [
        (session, event)
        for sessions in sessions_by_series.values()
        for session in sessions
        for event in session.adverse_events.all()
    ]
    found.sort(key=lambda pair: (pair[1].onset, pair[1].pk), reverse=True)
    return found
