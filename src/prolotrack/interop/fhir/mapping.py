"""prolotrack records as FHIR R4 resources (plain JSON dictionaries), one function per resource.

Resource ids are derived from primary keys ("patient-12", "procedure-40"), so the same record
always exports under the same id and references between resources need no lookup table. Which
FHIR element carries what is listed in the README (FHIR); the few prolotrack extensions are
defined, and published as StructureDefinitions, in ``extensions``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from prolotrack.accounts.models import Clinic, User
from prolotrack.core.catalog import Modality
from prolotrack.interop.fhir import terminology as t
from prolotrack.patients.models import Condition, Patient, Screening
from prolotrack.treatment.models import (
    AdverseEvent,
    AlgometerReading,
    Injection,
    Session,
    SessionAmendment,
    TreatmentSeries,
)

# The units an algometer reading is entered in, as UCUM codes (kg/cm2 is kilogram-force).
ENTERED_UNIT_UCUM = {"kg/cm2": "kgf/cm2", "N/cm2": "N/cm2", "kPa": "kPa"}

CAREPLAN_STATUS = {
    "planned": "draft",
    "active": "active",
    "completed": "completed",
    "stopped": "revoked",
}
ACTIVITY_STATUS = {
    "planned": "not-started",
    "active": "in-progress",
    "completed": "completed",
    "stopped": "stopped",
}
PROCEDURE_CODE = {"neural": "neural-prolotherapy", "classic": "classic-prolotherapy"}
SESSION_PHASES = {"pain_before": "baseline", "pain_after": "15min"}
# DetectedIssue.severity of a rule's finding, by the rule's severity.
ISSUE_SEVERITY = {"block": "high", "warn": "moderate", "info": "low"}
AMEND_ACTIVITY = {"system": t.DATA_OPERATION, "code": "UPDATE", "display": "revise"}
OVERRIDE_ACTION = {"system": t.ACT_CODE, "code": "1", "display": "Therapy Appropriate"}


# ----------------------------------------------------------------------------------------------
# Ids and small elements


def rid(kind: str, pk: int) -> str:
    return f"{kind}-{pk}"


def ref(resource_type: str, kind: str, pk: int) -> dict[str, str]:
    return {"reference": f"{resource_type}/{rid(kind, pk)}"}


def org_ref(clinic_id: int) -> dict[str, str]:
    return ref("Organization", "org", clinic_id)


def patient_ref(patient_id: int) -> dict[str, str]:
    return ref("Patient", "patient", patient_id)


def practitioner_ref(user_id: int) -> dict[str, str]:
    return ref("Practitioner", "practitioner", user_id)


def procedure_ref(session_id: int) -> dict[str, str]:
    return ref("Procedure", "procedure", session_id)


def number(value: Decimal | float | int) -> int | float:
    """A JSON number: whole values as integers, others as the shortest float."""
    if isinstance(value, int):
        return value
    as_float = float(value)
    return int(as_float) if as_float.is_integer() else as_float


def instant(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat()


def quantity(value: Decimal | float | int, ucum: str, unit: str | None = None) -> dict[str, Any]:
    return {"value": number(value), "unit": unit or ucum, "system": t.UCUM, "code": ucum}


def concept(name: str, code: str) -> dict[str, Any]:
    return {"coding": [t.coding(name, code)]}


def laterality(side: str) -> dict[str, Any]:
    codings = [t.coding("prolotrack-side", side)]
    if side in t.SNOMED_SIDE:
        code, display = t.SNOMED_SIDE[side]
        codings.append({"system": t.SNOMED, "code": code, "display": display})
    return {"url": t.extension_url("laterality"), "valueCodeableConcept": {"coding": codings}}


def body_site(system: str, code: str, side: str) -> dict[str, Any]:
    """A coded body site (prolotrack-site or -region) with its side as a laterality extension."""
    out: dict[str, Any] = {}
    text = t.display(system, code)
    if side:
        out["extension"] = [laterality(side)]
        text = f"{text}, {t.display('prolotrack-side', side).lower()}"
    out["coding"] = [t.coding(system, code)]
    out["text"] = text
    return out


def _category(code: str, display: str) -> list[dict[str, Any]]:
    return [{"coding": [{"system": t.OBSERVATION_CATEGORY, "code": code, "display": display}]}]


# ----------------------------------------------------------------------------------------------
# People and places


def organization(clinic: Clinic) -> dict[str, Any]:
    country, _, state = clinic.jurisdiction.partition("-")
    address = {"country": country}
    if state:
        address["state"] = state
    return {
        "resourceType": "Organization",
        "id": rid("org", clinic.pk),
        "extension": [
            {"url": t.extension_url("time-zone"), "valueCode": clinic.time_zone},
            {"url": t.extension_url("jurisdiction"), "valueCode": clinic.jurisdiction},
        ],
        "active": True,
        "name": clinic.name,
        "address": [address],
    }


def _name(family: str, given: str) -> list[dict[str, Any]]:
    name: dict[str, Any] = {}
    if family:
        name["family"] = family
    if given:
        name["given"] = [given]
    return [name] if name else []


def practitioner(user: User) -> dict[str, Any]:
    out: dict[str, Any] = {
        "resourceType": "Practitioner",
        "id": rid("practitioner", user.pk),
        "extension": [{"url": t.extension_url("role"), "valueCode": user.role}],
        "identifier": [{"system": t.identifier_system("username"), "value": user.username}],
        "active": user.is_active,
    }
    if name := _name(user.last_name, user.first_name):
        out["name"] = name
    profile = getattr(user, "practitioner", None)
    if profile is not None:
        qualification: dict[str, Any] = {
            "extension": [
                {
                    "url": t.extension_url("jurisdiction"),
                    "valueCode": profile.licence_jurisdiction,
                }
            ],
            "code": concept("prolotrack-profession", profile.profession),
        }
        if profile.licence_number:
            qualification["identifier"] = [
                {"system": t.identifier_system("licence"), "value": profile.licence_number}
            ]
        out["qualification"] = [
            qualification,
            *({"code": concept("prolotrack-certification", c)} for c in profile.certifications),
        ]
    return out


def patient(p: Patient) -> dict[str, Any]:
    facts: list[dict[str, Any]] = []
    if p.weight_kg is not None:
        facts.append({"url": "weight", "valueQuantity": quantity(p.weight_kg, "kg")})
    for key, value in (
        ("diabetes", p.diabetes),
        ("anticoagulant", p.anticoagulant),
        ("bleedingDisorder", p.bleeding_disorder),
        ("pregnant", p.pregnant),
    ):
        facts.append({"url": key, "valueBoolean": value})
    facts += [{"url": "allergy", "valueCode": a} for a in p.allergies]
    out: dict[str, Any] = {
        "resourceType": "Patient",
        "id": rid("patient", p.pk),
        "extension": [{"url": t.extension_url("safety-facts"), "extension": facts}],
        "identifier": [
            {
                "system": t.identifier_system("chart-number"),
                "value": p.chart_number,
                "assigner": org_ref(p.clinic_id),
            }
        ],
        "name": _name(p.family_name, p.given_name),
        "gender": p.sex,
        "birthDate": p.birth_date.isoformat(),
        "managingOrganization": org_ref(p.clinic_id),
    }
    telecom = []
    if p.phone:
        telecom.append({"system": "phone", "value": p.phone})
    if p.email:
        telecom.append({"system": "email", "value": p.email})
    if telecom:
        out["telecom"] = telecom
    if not out["name"]:
        del out["name"]
    return out


# ----------------------------------------------------------------------------------------------
# Conditions and series


def condition(c: Condition) -> dict[str, Any]:
    out: dict[str, Any] = {
        "resourceType": "Condition",
        "id": rid("condition", c.pk),
        "category": [
            {
                "coding": [
                    {
                        "system": t.CONDITION_CATEGORY,
                        "code": "problem-list-item",
                        "display": "Problem List Item",
                    }
                ]
            }
        ],
        "code": concept("prolotrack-condition", c.code),
        "bodySite": [body_site("prolotrack-region", c.region, c.side)],
        "subject": patient_ref(c.patient_id),
    }
    if c.onset is not None:
        out["onsetDateTime"] = c.onset.isoformat()
    if c.notes:
        out["note"] = [{"text": c.notes}]
    return out


def care_plan(s: TreatmentSeries) -> dict[str, Any]:
    region = t.display("prolotrack-region", s.region)
    out: dict[str, Any] = {
        "resourceType": "CarePlan",
        "id": rid("careplan", s.pk),
        "extension": [
            {
                "url": t.extension_url("region"),
                "valueCoding": t.coding("prolotrack-region", s.region),
            }
        ],
        "status": CAREPLAN_STATUS[s.status],
        "intent": "plan",
        "category": [concept("prolotrack-modality", s.modality)],
        "title": f"{Modality(s.modality).label}, {region}",
        "subject": patient_ref(s.patient_id),
        "period": {"start": s.started_on.isoformat()},
    }
    if s.condition_id is not None:
        out["addresses"] = [ref("Condition", "condition", s.condition_id)]
    out["activity"] = [
        {
            "detail": {
                "kind": "Procedure",
                "code": concept("prolotrack-procedure", PROCEDURE_CODE[s.modality]),
                "status": ACTIVITY_STATUS[s.status],
                "scheduledTiming": {
                    "repeat": {
                        "count": s.planned_sessions,
                        "frequency": 1,
                        "period": s.planned_interval_days,
                        "periodUnit": "d",
                    }
                },
            }
        }
    ]
    return out


# ----------------------------------------------------------------------------------------------
# Sessions: the procedure, what was injected, what was measured, who signed


def procedure(
    session: Session,
    injections: Iterable[Injection],
    amendments: Iterable[SessionAmendment] = (),
) -> dict[str, Any]:
    """One session as a Procedure; ``session.series`` must be loaded.

    The session's note is the first ``note``, as written; each amendment follows it, in the
    order written, as an Annotation with its author and time (the original note stays as it
    was signed). Each amendment also has a Provenance (``amendment_provenance``).
    """
    series = session.series
    code = PROCEDURE_CODE[series.modality]
    out: dict[str, Any] = {
        "resourceType": "Procedure",
        "id": rid("procedure", session.pk),
        "basedOn": [ref("CarePlan", "careplan", series.pk)],
        "status": "completed",
        "code": {
            "coding": [
                t.coding("prolotrack-procedure", code),
                {"system": t.HCPCS, "code": "M0076"},
            ],
            "text": Modality(series.modality).label,
        },
        "subject": patient_ref(series.patient_id),
        "performedDateTime": instant(session.performed_at),
        "performer": [{"actor": practitioner_ref(session.practitioner_id)}],
    }
    if series.condition_id is not None:
        out["reasonReference"] = [ref("Condition", "condition", series.condition_id)]
    sites: list[tuple[str, str]] = []
    for injection in injections:
        if (injection.site, injection.side) not in sites:
            sites.append((injection.site, injection.side))
    if sites:
        out["bodySite"] = [body_site("prolotrack-site", site, side) for site, side in sites]
    notes: list[dict[str, Any]] = [{"text": session.notes}] if session.notes else []
    notes += [
        {
            "authorReference": practitioner_ref(a.author_id),
            "time": instant(a.created_at),
            "text": a.text,
        }
        for a in amendments
    ]
    if notes:
        out["note"] = notes
    return out


def _ingredient(component: str, pct: Decimal | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "itemCodeableConcept": concept("prolotrack-solution-component", component),
        "isActive": True,
    }
    if pct is not None:
        # A w/v percentage: grams per 100 mL.
        out["strength"] = {"numerator": quantity(pct, "g"), "denominator": quantity(100, "mL")}
    return out


def solution_text(i: Injection) -> str:
    parts = [
        f"{name} {number(pct)}%"
        for name, pct in (
            ("dextrose", i.dextrose_pct),
            ("lidocaine", i.lidocaine_pct),
            ("mannitol", i.mannitol_pct),
        )
        if pct
    ]
    if i.epinephrine:
        parts.append("epinephrine")
    return (", ".join(parts) or "no active ingredient").capitalize()


def medication_administration(i: Injection) -> dict[str, Any]:
    """One injection: its solution (a contained Medication), dose, site, side and depth.

    ``i.session.series`` must be loaded.
    """
    session = i.session
    ingredients = [
        _ingredient(name, pct)
        for name, pct in (
            ("dextrose", i.dextrose_pct),
            ("lidocaine", i.lidocaine_pct),
            ("mannitol", i.mannitol_pct),
        )
        if pct
    ]
    if i.epinephrine:
        ingredients.append(_ingredient("epinephrine", None))
    medication: dict[str, Any] = {
        "resourceType": "Medication",
        "id": "solution",
        "code": {"text": solution_text(i)},
    }
    if ingredients:
        medication["ingredient"] = ingredients
    if i.lot:
        medication["batch"] = {"lotNumber": i.lot}
    return {
        "resourceType": "MedicationAdministration",
        "id": rid("medadmin", i.pk),
        "contained": [medication],
        "extension": [{"url": t.extension_url("needle-gauge"), "valueInteger": i.needle_gauge}],
        "partOf": [procedure_ref(i.session_id)],
        "status": "completed",
        "medicationReference": {"reference": "#solution", "display": solution_text(i)},
        "subject": patient_ref(session.series.patient_id),
        "effectiveDateTime": instant(session.performed_at),
        "performer": [{"actor": practitioner_ref(session.practitioner_id)}],
        "dosage": {
            "site": body_site("prolotrack-site", i.site, i.side),
            "route": concept("prolotrack-depth", i.depth),
            "dose": quantity(i.volume_ml, "mL"),
        },
    }


def _observation(
    session: Session, obs_id: str, category: tuple[str, str], code: dict[str, Any]
) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": obs_id,
        "partOf": [procedure_ref(session.pk)],
        "status": "final" if session.is_signed else "preliminary",
        "category": _category(*category),
        "code": code,
        "subject": patient_ref(session.series.patient_id),
        "effectiveDateTime": instant(session.performed_at),
    }


PAIN_CODE = {"coding": [{"system": t.LOINC, "code": t.PAIN_LOINC, "display": t.PAIN_LOINC_DISPLAY}]}


def session_observations(session: Session) -> list[dict[str, Any]]:
    """Pain before and after the injections and the PGIC, as far as they were recorded."""
    out = []
    for field, phase in SESSION_PHASES.items():
        value = getattr(session, field)
        if value is None:
            continue
        obs = _observation(
            session, f"{field.replace('_', '-')}-{session.pk}", ("survey", "Survey"), PAIN_CODE
        )
        obs["method"] = concept("prolotrack-phase", phase)
        obs["valueQuantity"] = quantity(value, "{score}")
        out.append(obs)
    if session.pgic is not None:
        obs = _observation(
            session,
            f"pgic-{session.pk}",
            ("survey", "Survey"),
            concept("prolotrack-observation", "pgic"),
        )
        obs["valueCodeableConcept"] = concept("prolotrack-pgic", str(session.pgic))
        out.append(obs)
    return out


def algometer_observation(r: AlgometerReading) -> dict[str, Any]:
    """A pressure-pain threshold in kPa, with the value as entered as a component.

    ``r.session.series`` must be loaded.
    """
    session = r.session
    obs = _observation(
        session, rid("ppt", r.pk), ("exam", "Exam"), concept("prolotrack-observation", "ppt")
    )
    obs["performer"] = [practitioner_ref(session.practitioner_id)]
    obs["valueQuantity"] = quantity(round(r.value_kpa, 4), "kPa")
    obs["bodySite"] = body_site("prolotrack-site", r.site, r.side)
    obs["method"] = concept("prolotrack-phase", r.phase)
    obs["component"] = [
        {
            "code": concept("prolotrack-observation", "ppt-as-entered"),
            "valueQuantity": quantity(r.value, ENTERED_UNIT_UCUM[r.unit], r.unit),
        }
    ]
    return obs


def diary_observations(entry: Any) -> list[dict[str, Any]]:
    """A diary entry's Observation, then the pain of each treated area it holds.

    ``entry.area_pains`` (each with its ``series``) should be prefetched.
    """
    areas = list(entry.area_pains.all())
    return [diary_observation(entry, areas), *(diary_area_observation(entry, a) for a in areas)]


def diary_observation(entry: Any, areas: Iterable[Any] = ()) -> dict[str, Any]:
    """A diary entry: the pain now (LOINC 72514-3) as the value (the highest of the treated
    areas); whether the pain is back to its pre-session level, the PGIC, the PSFS activities
    (with their mean) and each side effect reported as components; the patient's note; the
    pain of each treated area (``areas``) as members.
    """
    obs: dict[str, Any] = {
        "resourceType": "Observation",
        "id": rid("diary", entry.pk),
        "status": "final",
        "category": _category("survey", "Survey"),
        "code": PAIN_CODE,
        "subject": patient_ref(entry.patient_id),
        "effectiveDateTime": entry.entry_date.isoformat(),
        "performer": [patient_ref(entry.patient_id)],
        "valueQuantity": quantity(entry.pain, "{score}"),
    }
    if entry.note:
        obs["note"] = [{"text": entry.note}]
    if members := [ref("Observation", "diaryarea", a.pk) for a in areas]:
        obs["hasMember"] = members
    components: list[dict[str, Any]] = []
    if entry.pain_back is not None:
        components.append(
            {
                "code": concept("prolotrack-observation", "pain-back"),
                "valueBoolean": entry.pain_back,
            }
        )
    if entry.pgic is not None:
        components.append(
            {
                "code": concept("prolotrack-observation", "pgic"),
                "valueCodeableConcept": concept("prolotrack-pgic", str(entry.pgic)),
            }
        )
    if psfs := entry.psfs:
        scores = [item["score"] for item in psfs]
        components.append(
            {
                "code": concept("prolotrack-observation", "psfs"),
                "valueQuantity": quantity(round(sum(scores) / len(scores), 2), "{score}"),
            }
        )
        components += [
            {
                "code": {
                    **concept("prolotrack-observation", "psfs-activity"),
                    "text": item["activity"],
                },
                "valueInteger": item["score"],
            }
            for item in psfs
        ]
    # Patient-reported answers, not adverse events (those are the clinic's AdverseEvents).
    components += [
        {
            "code": concept("prolotrack-observation", "side-effect"),
            "valueCodeableConcept": concept("prolotrack-side-effect", effect.value),
        }
        for effect in entry.side_effect_codes
    ]
    if components:
        obs["component"] = components
    return obs


def diary_area_observation(entry: Any, area: Any) -> dict[str, Any]:
    """The pain of one treated area in a diary entry: its series (the CarePlan it is part of)
    and the series' region as the body site. ``area.series`` must be loaded."""
    return {
        "resourceType": "Observation",
        "id": rid("diaryarea", area.pk),
        "basedOn": [ref("CarePlan", "careplan", area.series_id)],
        "status": "final",
        "category": _category("survey", "Survey"),
        "code": PAIN_CODE,
        "subject": patient_ref(entry.patient_id),
        "effectiveDateTime": entry.entry_date.isoformat(),
        "performer": [patient_ref(entry.patient_id)],
        "valueQuantity": quantity(area.pain, "{score}"),
        "bodySite": body_site("prolotrack-region", area.series.region, ""),
    }


def adverse_event(e: AdverseEvent) -> dict[str, Any]:
    """``e.session.series`` must be loaded."""
    extensions = []
    if e.resolved_on is not None:
        extensions.append(
            {"url": t.extension_url("resolved-date"), "valueDate": e.resolved_on.isoformat()}
        )
    if e.notes:
        extensions.append({"url": t.extension_url("note"), "valueString": e.notes})
    out: dict[str, Any] = {"resourceType": "AdverseEvent", "id": rid("adverseevent", e.pk)}
    if extensions:
        out["extension"] = extensions
    out |= {
        "actuality": "actual",
        "event": concept("prolotrack-adverse-event", e.category),
        "subject": patient_ref(e.session.series.patient_id),
        "date": e.onset.isoformat(),
        "seriousness": {
            "coding": [
                {
                    "system": t.AE_SERIOUSNESS,
                    "code": "serious" if e.serious else "non-serious",
                    "display": "Serious" if e.serious else "Non-serious",
                }
            ]
        },
        "outcome": {
            "coding": [
                {
                    "system": t.AE_OUTCOME,
                    "code": "resolved" if e.resolved_on else "ongoing",
                    "display": "Resolved" if e.resolved_on else "Ongoing",
                }
            ]
        },
        "suspectEntity": [{"instance": procedure_ref(e.session_id)}],
    }
    return out


def provenance(session: Session) -> dict[str, Any]:
    """Who signed a signed session's record, and when."""
    assert session.signed_at is not None and session.signed_by_id is not None
    signer = practitioner_ref(session.signed_by_id)
    when = instant(session.signed_at)
    return {
        "resourceType": "Provenance",
        "id": rid("provenance", session.pk),
        "target": [procedure_ref(session.pk)],
        "recorded": when,
        "agent": [
            {
                "type": {
                    "coding": [
                        {"system": t.PROVENANCE_AGENT, "code": "attester", "display": "Attester"}
                    ]
                },
                "who": signer,
            }
        ],
        "signature": [
            {
                "type": [
                    {
                        "system": t.SIGNATURE_TYPE,
                        "code": "1.2.840.10065.1.12.1.1",
                        "display": "Author's Signature",
                    }
                ],
                "when": when,
                "who": signer,
            }
        ],
    }


def amendment_provenance(a: SessionAmendment) -> dict[str, Any]:
    """An amendment of a signed session: who revised the Procedure, and when.

    The amendment's text is on the Procedure, as a note with the same author and time.
    """
    return {
        "resourceType": "Provenance",
        "id": rid("amendment", a.pk),
        "target": [procedure_ref(a.session_id)],
        "recorded": instant(a.created_at),
        "activity": {"coding": [{**AMEND_ACTIVITY}]},
        "agent": [
            {
                "type": {
                    "coding": [
                        {"system": t.PROVENANCE_AGENT, "code": "author", "display": "Author"}
                    ]
                },
                "who": practitioner_ref(a.author_id),
            }
        ],
    }


def override_issues(session: Session) -> list[dict[str, Any]]:
    """A physician's override of the findings that blocked a session: one DetectedIssue per
    finding overridden, each implicating the session's Procedure, with the override as its
    mitigation (who, when, and why). ``session.series`` must be loaded.

    A finding is coded in ``prolotrack-rule``; a code the rule catalog no longer holds is kept
    as text, so that nothing recorded is lost.
    """
    if session.override_at is None or session.override_by_id is None:
        return []
    rules = t.codes("prolotrack-rule")
    found: list[str | None] = list(session.override_codes or []) or [None]
    out = []
    for i, code in enumerate(found, start=1):
        issue: dict[str, Any] = {
            "resourceType": "DetectedIssue",
            "id": f"override-{session.pk}-{i}",
            "status": "final",
        }
        rule = rules.get(code) if code else None
        if rule is not None:
            issue["code"] = {
                "coding": [t.coding("prolotrack-rule", rule.code)],
                "text": rule.display,
            }
            issue["severity"] = ISSUE_SEVERITY[rule.properties["severity"]]
        elif code:
            issue["code"] = {"text": code}
        issue |= {
            "patient": patient_ref(session.series.patient_id),
            "implicated": [procedure_ref(session.pk)],
            "mitigation": [
                {
                    "extension": [
                        {
                            "url": t.extension_url("override-reason"),
                            "valueString": session.override_reason,
                        }
                    ],
                    "action": {
                        "coding": [{**OVERRIDE_ACTION}],
                        "text": "Overridden by a physician",
                    },
                    "date": instant(session.override_at),
                    "author": practitioner_ref(session.override_by_id),
                }
            ],
        }
        out.append(issue)
    return out


def screening_observation(s: Screening) -> dict[str, Any]:
    """One intake screening: every question asked (``prolotrack-screening``) as a component,
    true for yes and false for no; the practitioner who recorded it; the notes."""
    yes = {*s.symptoms, *s.history}
    if s.infection_at_site:
        yes.add(t.SCREENING_SITE)
    obs: dict[str, Any] = {
        "resourceType": "Observation",
        "id": rid("screening", s.pk),
        "status": "final",
        "category": _category("survey", "Survey"),
        "code": concept("prolotrack-observation", "intake-screening"),
        "subject": patient_ref(s.patient_id),
        "effectiveDateTime": instant(s.recorded_at),
        "performer": [practitioner_ref(s.recorded_by_id)],
    }
    if s.notes:
        obs["note"] = [{"text": s.notes}]
    obs["component"] = [
        {"code": concept("prolotrack-screening", code), "valueBoolean": code in yes}
        for code in t.codes("prolotrack-screening")
    ]
    return obs
