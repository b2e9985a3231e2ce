"""A clean plan to start every rules test from, and small helpers to change one thing in it.

The clean plan draws no finding at all: a physician in CA-BC, a healthy 70 kg adult, the second
weekly session of a neural series, one 0.5 mL subcutaneous injection of 5% dextrose at the knee.
"""

from __future__ import annotations

import copy
from typing import Any

from prolotrack.core.rules import ClinicLimits, Finding, PlanResult, check_plan, parse_plan

Data = dict[str, Any]

CLEAN: Data = {
    "jurisdiction": "CA-BC",
    "practitioner": {"profession": "physician", "certifications": []},
    "patient": {
        "age": 54,
        "sex": "female",
        "weight_kg": 70.0,
        "diabetes": False,
        "anticoagulant": False,
        "bleeding_disorder": False,
        "pregnant": False,
        "allergies": [],
        "symptoms": [],
        "history": [],
        "infection_at_site": False,
    },
    "series": {
        "modality": "neural",
        "session_number": 2,
        "date": "2026-11-05",
        "previous_session_date": "2026-10-29",
    },
    "injections": [
        {
            "region": "knee",
            "side": "left",
            "depth": "subcutaneous",
            "volume_ml": 0.5,
            "needle_gauge": 27,
            "solution": {
                "dextrose_pct": 5,
                "lidocaine_pct": 0,
                "mannitol_pct": 0,
                "epinephrine": False,
            },
        }
    ],
}


def solution(**changes: Any) -> Data:
    return {**CLEAN["injections"][0]["solution"], **changes}


def injection(**changes: Any) -> Data:
    """The clean injection with ``changes``; ``solution`` may be a dict of solution changes."""
    base = copy.deepcopy(CLEAN["injections"][0])
    if "solution" in changes:
        changes["solution"] = solution(**changes["solution"])
    return {**base, **changes}


def plan_data(
    *,
    injections: list[Data] | None = None,
    jurisdiction: str | None = None,
    **parts: Data,
) -> Data:
    """The clean plan with some fields of ``practitioner``, ``patient`` or ``series`` changed."""
    data = copy.deepcopy(CLEAN)
    for part, changes in parts.items():
        data[part].update(changes)
    if injections is not None:
        data["injections"] = injections
    if jurisdiction is not None:
        data["jurisdiction"] = jurisdiction
    return data


def check(
    *,
    limits: ClinicLimits | None = None,
    injections: list[Data] | None = None,
    jurisdiction: str | None = None,
    **parts: Data,
) -> PlanResult:
    data = plan_data(injections=injections, jurisdiction=jurisdiction, **parts)
    return check_plan(parse_plan(data), clinic_limits=limits)


def codes(result: PlanResult) -> list[str]:
    return [f.code for f in result.findings]


def only(result: PlanResult, code: str) -> Finding:
    """The single finding with ``code``; fails if there is none or more than one."""
    found = [f for f in result.findings if f.code == code]
    assert len(found) == 1, f"expected one {code}, got {codes(result)}"
    return found[0]


# A classic series four weeks on, where large intra-articular volumes draw no technique finding.
CLASSIC: Data = {"modality": "classic", "previous_session_date": "2026-10-08"}


def lidocaine(volume_ml: float, pct: float = 1.0, *, epinephrine: bool = False) -> list[Data]:
    """Intra-articular injections totalling ``volume_ml`` of a lidocaine mix, 20 mL at most each
    (the charting limit per injection); use them in a ``CLASSIC`` series."""
    out = []
    left = volume_ml
    while left > 1e-12:
        part = min(left, 20.0)
        out.append(
            injection(
                depth="intra_articular",
                volume_ml=round(part, 10),
                solution={"dextrose_pct": 5, "lidocaine_pct": pct, "epinephrine": epinephrine},
            )
        )
        left -= part
    return out
