"""One patient's progress for the outcome page: pain and function over the sessions, algometer
thresholds per site against the 3-4 kg/cm2 band the clinics quote and against the other side,
relief per session, and where the patient stands against the responder definitions."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass, field

from django.utils.safestring import SafeString

from prolotrack.core import outcomes as core
from prolotrack.core.catalog import load_catalog
from prolotrack.core.relief import Relief
from prolotrack.core.units import kpa_to_kg_cm2
from prolotrack.diary.models import DiaryEntry
from prolotrack.patients.models import Patient
from prolotrack.treatment import charts
from prolotrack.treatment.models import AlgometerReading, Session

# "Normal 3-4 kg/cm2", as the clinics quote it (DOMAIN, top; a claim, not a norm: Fischer's
# site-specific values were not retrieved, DOMAIN 4.1).
BAND_KG_CM2 = (3.0, 4.0)
# Commonly quoted: a side-to-side difference of 2 kg/cm2 or more is abnormal tenderness [U].
SIDE_DIFFERENCE_KG_CM2 = 2.0


@dataclass
class SessionLine:
    number: int
    session: Session
    day: dt.date
    label: str
    relief: Relief | None


@dataclass
class SiteLine:
    site: str
    side: str
    name: str
    baseline: list[float | None]
    other_side: list[float | None]
    chart: SafeString | None = None

    @property
    def rows(self) -> list[tuple[str, str, str, str]]:
        """(session, baseline, band, other side) as text, one per measured session."""
        out = []
        for i, value in enumerate(self.baseline):
            if value is None:
                continue
            low, high = BAND_KG_CM2
            band = "below" if value < low else "above" if value > high else "within"
            other = self.other_side[i]
            if other is None:
                versus = ""
            else:
                diff = value - other
                flag = " (2 or more: tender side)" if abs(diff) >= SIDE_DIFFERENCE_KG_CM2 else ""
                versus = f"{charts.fmt_value(other)} ({diff:+.1f}){flag}"
            out.append((str(i + 1), charts.fmt_value(value), band, versus))
        return out


@dataclass
class Progress:
    sessions: list[SessionLine]
    course: core.PainCourse
    pain_chart: SafeString | None
    relief_chart: SafeString | None
    sites: list[SiteLine] = field(default_factory=list)
    function: list[tuple[dt.date, float]] = field(default_factory=list)

    @property
    def status(self) -> str:
        c = self.course
        if c.sessions_with_pain == 0:
            return "No pain scores recorded before sessions yet."
        if not c.eligible:
            if c.baseline == 0:
                return "Not assessed: the baseline pain is 0."
            return "Not assessed yet: two sessions with a pain score are needed."
        pct = round(100 * (c.improvement or 0))
        if c.responder_50:
            verdict = "a 50% responder (substantial improvement, IMMPACT)"
        elif c.responder_30:
            verdict = "a 30% responder (moderate improvement, Farrar 2001)"
        else:
            verdict = "not a responder yet (less than 30% improvement)"
        return (
            f"Pain {c.baseline} at baseline, {c.latest} at the latest session ({pct}%): {verdict}."
        )


def patient_progress(patient: Patient, zone: zoneinfo.ZoneInfo) -> Progress:
    catalog = load_catalog()
    sessions = list(
        Session.objects.filter(series__patient=patient)
        .select_related("series")
        .order_by("performed_at", "id")
    )
    days = {s.pk: s.performed_at.astimezone(zone).date() for s in sessions}
    ordered = sorted(sessions, key=lambda s: (days[s.pk], s.pk))
    rows = [core.SessionRow(s.pk, patient.pk, days[s.pk], s.pain_before) for s in ordered]
    diary = list(DiaryEntry.objects.filter(patient=patient).order_by("entry_date", "id"))
    relief = core.session_relief(
        rows, [core.DiaryRow(patient.pk, d.entry_date, d.pain) for d in diary]
    )
    lines = [
        SessionLine(i + 1, s, days[s.pk], str(i + 1), relief.get(s.pk))
        for i, s in enumerate(ordered)
    ]
    labels = [line.label for line in lines]
    pain_chart = None
    if any(s.pain_before is not None for s in ordered):
        pain_chart = charts.line_chart(
            chart_id="progress-pain",
            title="Pain before each session and PGIC, by session",
            x_labels=labels,
            lines=charts.styled_lines(
                [
                    ("Pain before (0-10)", [_f(s.pain_before) for s in ordered]),
                    ("Pain after", [_f(s.pain_after) for s in ordered]),
                    (
                        "PGIC (1 very much better - 7 very much worse)",
                        [_f(s.pgic) for s in ordered],
                    ),
                ]
            ),
            y_max=10,
            y_ticks=[0, 2, 4, 6, 8, 10],
            y_label="Score",
        )
    relief_chart = None
    if relief:
        relief_chart = charts.line_chart(
            chart_id="progress-relief",
            title="Relief in days after each session (diary); it should lengthen",
            x_labels=labels,
            lines=charts.styled_lines(
                [
                    (
                        "Relief, days",
                        [_f(line.relief.days) if line.relief else None for line in lines],
                    )
                ]
            ),
            y_max=max(r.days for r in relief.values()) or 1,
            y_label="Days",
        )
    function = []
    for entry in diary:
        scores = [
            a.get("score") for a in (getattr(entry, "psfs", None) or []) if isinstance(a, dict)
        ]
        scores = [s for s in scores if isinstance(s, int | float)]
        if scores:
            function.append((entry.entry_date, sum(scores) / len(scores)))
    return Progress(
        sessions=lines,
        course=core.pain_course(rows),
        pain_chart=pain_chart,
        relief_chart=relief_chart,
        sites=_sites(ordered, labels, catalog),
        function=function,
    )


def _f(value: int | None) -> float | None:
    return None if value is None else float(value)


def _sites(ordered: list[Session], labels: list[str], catalog: object) -> list[SiteLine]:
    index = {s.pk: i for i, s in enumerate(ordered)}
    base: dict[tuple[str, str], list[float | None]] = {}
    for r in AlgometerReading.objects.filter(session_id__in=index, phase="baseline"):
        base.setdefault((r.site, r.side), [None] * len(ordered))[index[r.session_id]] = (
            kpa_to_kg_cm2(r.value_kpa)
        )
    sites = []
    for (site, side), values in sorted(base.items()):
        other_key = (site, {"left": "right", "right": "left"}.get(side, side))
        other = base.get(other_key) if other_key != (site, side) else None
        entry = getattr(catalog, "sites", {}).get(site)
        line = SiteLine(
            site, side, entry.name if entry else site, values, other or [None] * len(values)
        )
        series = [(f"{side.title()} (before injection)", values)]
        if other:
            series.append((f"{other_key[1].title()} side", other))
        series += [
            ("Band low, 3", [BAND_KG_CM2[0]] * len(values)),
            ("Band high, 4", [BAND_KG_CM2[1]] * len(values)),
        ]
        top = max([v for v in values + (other or []) if v is not None] + [BAND_KG_CM2[1]])
        line.chart = charts.line_chart(
            chart_id=f"progress-ppt-{len(sites)}",
            title=f"Threshold at {line.name}, {side}, kg/cm², against the quoted 3-4 band",
            x_labels=labels,
            lines=charts.styled_lines(series),
            y_max=top * 1.15,
            y_label="kg/cm²",
            width=420,
            height=240,
        )
        sites.append(line)
    return sites
