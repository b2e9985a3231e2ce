"""Where the session sits in its series: the interval since the last one, the course length and
whether the course is working (DOMAIN 1.1, 1.2 and 4.2)."""

from __future__ import annotations

from collections.abc import Iterator

from prolotrack.core.catalog import Modality
from prolotrack.core.rules.base import Check, Context, Finding, Kind, Rule, Severity, number
from prolotrack.core.rules.limits import Range
from prolotrack.core.rules.plan import Plan

NEURAL_INTERVAL = Rule("interval.neural", Kind.INTERVAL, Severity.WARN, "domain.1.2")
CLASSIC_INTERVAL = Rule("interval.classic", Kind.INTERVAL, Severity.WARN, "domain.1.1")
NEURAL_COURSE = Rule("series.neural_course_length", Kind.SERIES, Severity.INFO, "domain.1.2")
CLASSIC_COURSE = Rule("series.classic_course_length", Kind.SERIES, Severity.INFO, "domain.1.1")
NO_RESPONSE = Rule("series.no_response", Kind.SERIES, Severity.WARN, "domain.4.2")
RELIEF_NOT_LENGTHENING = Rule(
    "series.relief_not_lengthening", Kind.SERIES, Severity.WARN, "domain.1.2"
)


def _interval(plan: Plan, rule: Rule, allowed: Range, rhythm: str) -> Iterator[Finding]:
    days = plan.series.interval_days
    if days is None or days in allowed:
        return
    change = "later" if days < allowed.low else "sooner, or restart the series"
    yield rule.finding(
        f"Check the timing: {days} days since the last session; {rhythm}, "
        f"{allowed.describe()} days apart. Consider booking {change}."
    )


def interval(plan: Plan, ctx: Context) -> Iterator[Finding]:
    if plan.series.modality is Modality.NEURAL:
        # DOMAIN 1.2: weekly where possible; warn under 5 days.
        rhythm = "neural prolotherapy is given about weekly"
        yield from _interval(plan, NEURAL_INTERVAL, ctx.limits.neural_interval_days, rhythm)
    else:
        # DOMAIN 1.1: every 2-6 weeks; warn under 2 or over 8 weeks.
        rhythm = "classic prolotherapy is given every few weeks"
        yield from _interval(plan, CLASSIC_INTERVAL, ctx.limits.classic_interval_days, rhythm)


def course_length(plan: Plan, ctx: Context) -> Iterator[Finding]:
    series = plan.series
    if series.modality is Modality.NEURAL:
        # DOMAIN 1.2: typically 4-8 sessions.
        rule, typical = NEURAL_COURSE, ctx.limits.neural_typical_sessions
    else:
        # DOMAIN 1.1: four to twelve sessions.
        rule, typical = CLASSIC_COURSE, ctx.limits.classic_typical_sessions
    if series.session_number > typical:
        yield rule.finding(
            f"Review progress with the patient before continuing: session "
            f"{series.session_number} is past the typical course of up to {typical} sessions "
            f"of {series.modality.label.lower()}."
        )


def no_response(plan: Plan, ctx: Context) -> Iterator[Finding]:
    # DOMAIN 4.2 [V]: a 30% fall in pain is clinically important; review after the third session.
    series, limits = plan.series, ctx.limits
    pains = series.pain_history
    if series.sessions_done < limits.review_after_sessions or len(pains) < 2 or pains[0] <= 0:
        return
    improvement_pct = (pains[0] - pains[-1]) / pains[0] * 100
    if improvement_pct < limits.responder_improvement_pct:
        yield NO_RESPONSE.finding(
            f"Review the plan with the patient: after {series.sessions_done} sessions pain has "
            f"gone from {number(pains[0])} to {number(pains[-1])} ({number(improvement_pct, 0)}% "
            f"better), short of the {number(limits.responder_improvement_pct, 0)}% that counts "
            f"as a clinically important response."
        )


def relief_not_lengthening(plan: Plan, ctx: Context) -> Iterator[Finding]:
    # DOMAIN 1.2 [P]: in neural prolotherapy each session should lengthen the relief. The claim is
    # about PIT only; classic prolotherapy's response builds differently (DOMAIN 1.1).
    series = plan.series
    relief = series.relief_days_history
    if (
        series.modality is not Modality.NEURAL
        or series.sessions_done < ctx.limits.review_after_sessions
        or len(relief) < 2
    ):
        return
    if relief[-1] <= relief[0]:
        yield RELIEF_NOT_LENGTHENING.finding(
            f"Review the plan with the patient: relief is not lengthening ({number(relief[0])} "
            f"days after the first session, {number(relief[-1])} after the latest); neural "
            "prolotherapy should give longer relief with each session."
        )


RULES = (
    NEURAL_INTERVAL, CLASSIC_INTERVAL, NEURAL_COURSE, CLASSIC_COURSE, NO_RESPONSE,
    RELIEF_NOT_LENGTHENING,
)  # fmt: skip
CHECKS: tuple[Check, ...] = (interval, course_length, no_response, relief_not_lengthening)
