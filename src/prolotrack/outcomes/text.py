"""The outcome report as a few readable lines (``prolotrack outcomes --format text``)."""

from __future__ import annotations

from typing import Any

VERDICTS = {
    "consistent": "consistent",
    "not_consistent": "NOT consistent",
    "insufficient_data": "not enough data",
    "not_applicable": "not applicable to this selection (filter by the claim's modality)",
}


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.0f}%"


def _ci_pct(ci: list[float | None] | None) -> str:
    if not ci or ci[0] is None or ci[1] is None:
        return ""
    return f" (95% CI {100 * ci[0]:.0f}-{100 * ci[1]:.0f}%)"


def _num(value: float | None, unit: str = "") -> str:
    return "-" if value is None else f"{value:g}{unit}"


def _ci(ci: list[float | None] | None) -> str:
    if not ci:
        return "-"
    low, high = ci
    return f"{_num(low)} to {'open' if high is None else _num(high)}"


def report_text(report: dict[str, Any], *, clinic: str | None) -> str:
    r30, r50 = report["responders_30"], report["responders_50"]
    imm, relief = report["immediate"], report["relief_days"]
    stc, ae = report["sessions_to_response"], report["adverse_events"]
    drop = report["drop_out_after_first"]
    lines = [
        f"Outcomes: {clinic or 'all clinics'}",
        f"  {report['patients']} patients, {report['sessions']} sessions, "
        f"{report['eligible']} eligible (two or more pain scores, baseline at least 1)",
        f"  Responders, 30% less pain: {r30['n']} of {report['eligible']}, "
        f"{_pct(r30['rate'])}{_ci_pct(r30['ci95'])}",
        f"  Responders, 50% less pain: {r50['n']} of {report['eligible']}, "
        f"{_pct(r50['rate'])}{_ci_pct(r50['ci95'])}",
        f"  Immediate response ({imm['sessions']} sessions): mean threshold change "
        f"{_num(imm['mean_change_1min'], ' kg/cm2')} at 1 min, "
        f"{_num(imm['mean_change_15min'], ' kg/cm2')} at 15 min; "
        f"{_pct(imm['responding_share'])} rose by {imm['threshold_kg_cm2']:g} kg/cm2 or more",
        f"  Relief ({relief['sessions']} sessions, {relief['events']} with pain back): median "
        f"{_num(relief['median'], ' days')} (95% CI {_ci(relief['median_ci95'])})",
        f"  Sessions to a 30% response ({stc['n']} responders): median {_num(stc['median'])}",
        f"  Adverse events: {ae['count']} ({ae['serious']} serious), "
        f"{_num(ae['per_100_sessions'])} per 100 sessions",
        f"  Seen once and not again: {drop['n']} of {drop['of']}, {_pct(drop['rate'])}",
        "",
        "Claims beside the measured numbers:",
    ]
    for claim in report["claims"]:
        lines.append(
            f"  - {claim['claim']}: measured {_num(claim['measured'])} "
            f"(95% CI {_ci(claim['ci95'])}, n={claim['n']}): {VERDICTS[claim['verdict']]}"
        )
    return "\n".join(lines) + "\n"
