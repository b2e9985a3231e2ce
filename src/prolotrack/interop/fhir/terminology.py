"""prolotrack's own FHIR code systems and value sets, for what has no standard code (DOMAIN 4.6).

Standard codes are used where the domain reference found one: LOINC 72514-3 for the 0-10 pain
score, UCUM for units, HL7's terminology for statuses and categories, SNOMED CT only for the two
laterality qualifiers (left, right) that every FHIR laterality value set carries. Nothing else
in the catalog has a verified SNOMED CT or LOINC code, so injection sites, regions, phases,
modalities, adverse-event categories, solution components, the pressure-pain threshold, the
PGIC, the diary's side effects, the intake screening's questions and the safety rules are coded
in prolotrack's code systems below, generated from the catalog data, the rule catalog and the
model enums, and published at ``/interop/fhir/CodeSystem/<name>`` and
``/interop/fhir/ValueSet/<name>`` under canonical URLs beginning with ``BASE``. HL7's own codes
name what FHIR defines: an amendment's activity (v3 DataOperation UPDATE) and a physician's
override of a finding (v3 ActCode 1, "Therapy Appropriate").

The catalog is a draft for clinical review, so the code systems are published as ``draft``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from prolotrack.core.catalog import Depth, Modality, Side, load_catalog
from prolotrack.core.triage import SIDE_EFFECT_LABELS, SideEffect

# Canonical base of every prolotrack code system, value set, extension and identifier system.
# A canonical URL is a name, not a location: the running server publishes the same resources
# at /interop/fhir/CodeSystem/<name>, /interop/fhir/ValueSet/<name> and, for the extensions
# (``extensions``), /interop/fhir/StructureDefinition/<name>.
BASE = "https://prolotrack.org/fhir"
VERSION = "0.1.0"

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
SNOMED = "http://snomed.info/sct"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
AE_SERIOUSNESS = "http://terminology.hl7.org/CodeSystem/adverse-event-seriousness"
AE_OUTCOME = "http://terminology.hl7.org/CodeSystem/adverse-event-outcome"
PROVENANCE_AGENT = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
SIGNATURE_TYPE = "urn:iso-astm:E1762-95:2013"
# Provenance.activity of an amendment: HL7 v3 DataOperation UPDATE ("revise").
DATA_OPERATION = "http://terminology.hl7.org/CodeSystem/v3-DataOperation"
# DetectedIssue.mitigation.action of an override: HL7 v3 ActCode 1, "Therapy Appropriate".
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
# HCPCS Level II, whose M0076 describes prolotherapy (DOMAIN 4.6, a US billing code).
HCPCS = "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"

PAIN_LOINC = "72514-3"
PAIN_LOINC_DISPLAY = "Pain severity - 0-10 verbal numeric rating [Score] - Reported"

# SNOMED CT laterality qualifiers, as in FHIR's laterality value sets.
SNOMED_SIDE = {"left": ("7771000", "Left"), "right": ("24028007", "Right")}


def system_url(name: str) -> str:
    return f"{BASE}/CodeSystem/{name}"


def valueset_url(name: str) -> str:
    return f"{BASE}/ValueSet/{name}"


def extension_url(name: str) -> str:
    return f"{BASE}/StructureDefinition/{name}"


def identifier_system(name: str) -> str:
    return f"{BASE}/sid/{name}"


@dataclass(frozen=True)
class Concept:
    code: str
    display: str
    definition: str = ""
    properties: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CodeSystemDef:
    name: str  # the URL's last part, e.g. "prolotrack-site"
    title: str
    description: str
    concepts: Callable[[], tuple[Concept, ...]]
    # property code -> FHIR type of its values
    properties: Mapping[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return system_url(self.name)


def _sites() -> tuple[Concept, ...]:
    return tuple(
        Concept(
            s.code,
            s.name,
            s.landmark,
            {
                "region": s.region,
                "modality": s.modality.value,
                "laterality": s.laterality.value,
                "needsReview": s.needs_review,
            },
        )
        for s in load_catalog().sites.values()
    )


def _regions() -> tuple[Concept, ...]:
    return tuple(Concept(r.code, r.name) for r in load_catalog().regions.values())


def _conditions() -> tuple[Concept, ...]:
    return tuple(Concept(c.code, c.name) for c in load_catalog().conditions.values())


def _adverse_events() -> tuple[Concept, ...]:
    return tuple(
        Concept(a.code, a.name, properties={"seriousByDefault": a.serious_by_default})
        for a in load_catalog().adverse_events.values()
    )


def _certifications() -> tuple[Concept, ...]:
    from prolotrack.core.rules.scope_table import load_scope_table

    return tuple(Concept(c.code, c.name) for c in load_scope_table().certifications.values())


PHASES = {
    "baseline": "Before the injections",
    "1min": "1 minute after the injections",
    "15min": "15 minutes after the injections",
}
PGIC = {
    "1": "Very much improved",
    "2": "Much improved",
    "3": "Minimally improved",
    "4": "No change",
    "5": "Minimally worse",
    "6": "Much worse",
    "7": "Very much worse",
}
OBSERVATIONS = {
    "ppt": (
        "Pressure pain threshold",
        "The smallest pressure that induces pain, by pressure algometer (DOMAIN 4.1), in kPa.",
    ),
    "ppt-as-entered": (
        "Pressure pain threshold as entered",
        "The algometer reading in the unit the practitioner entered (kg/cm2, N/cm2 or kPa).",
    ),
    "pgic": (
        "Patient Global Impression of Change",
        "7-point scale, 1 = very much improved, 4 = no change, 7 = very much worse (DOMAIN 4.3).",
    ),
    "psfs": (
        "Patient-Specific Functional Scale, mean score",
        "Mean of the activity scores, 0 = unable, 10 = pre-injury level (DOMAIN 4.4).",
    ),
    "psfs-activity": ("Patient-Specific Functional Scale, one activity", "0-10 (DOMAIN 4.4)."),
    "pain-back": (
        "Pain back to its pre-session level",
        "The diary's answer: is the pain back to where it was before the last session?",
    ),
    "intake-screening": (
        "Intake screening for red flags and contraindications",
        "The answers of one intake screening (DOMAIN 2.3, 3): each question of "
        "prolotrack-screening as a component, true for yes and false for no.",
    ),
    "side-effect": (
        "Side effect reported in the diary",
        "A side effect or symptom the patient reported in a diary entry, coded in "
        "prolotrack-side-effect (DOMAIN 2.4, 3.1). Reported by the patient, not assessed by "
        "the clinic: the clinic's adverse events are AdverseEvent resources.",
    ),
}
# The diary's side-effect answers (core.triage.SideEffect). The diary asks in the patient's
# words (the definition); the display names the finding.
SIDE_EFFECTS: dict[SideEffect, str] = {
    SideEffect.SORENESS: "Soreness at an injection site",
    SideEffect.STIFFNESS: "Stiffness",
    SideEffect.BRUISING: "Bruising",
    SideEffect.SWELLING: "Swelling",
    SideEffect.REDNESS_WARMTH: "Spreading redness or warmth around an injection site",
    SideEffect.FEVER: "Fever or chills",
    SideEffect.NUMBNESS_WEAKNESS: "New numbness or weakness",
    SideEffect.BLADDER_BOWEL: "New bladder or bowel dysfunction",
    SideEffect.SADDLE_NUMBNESS: "Saddle numbness",
    SideEffect.OTHER: "Other side effect",
}
SOLUTION_COMPONENTS = {
    "dextrose": "Dextrose",
    "lidocaine": "Lidocaine",
    "mannitol": "Mannitol",
    "epinephrine": "Epinephrine (in the local anaesthetic)",
}
PROCEDURES = {
    "neural-prolotherapy": "Neural prolotherapy (perineural subcutaneous injection, DOMAIN 1.2)",
    "classic-prolotherapy": "Classic dextrose prolotherapy (DOMAIN 1.1)",
}
SIDES = {
    "left": "Left",
    "right": "Right",
    "midline": "Midline",
    "both": "Both sides",
}
PROFESSIONS = {
    "physician": "Physician",
    "naturopathic_doctor": "Naturopathic doctor",
    "nurse_practitioner": "Nurse practitioner",
    "other": "Other",
}


def _side_effects() -> tuple[Concept, ...]:
    # Every answer the diary offers; a new one without a display here fails (KeyError).
    return tuple(
        Concept(s.value, SIDE_EFFECTS[s], f'The diary asks: "{SIDE_EFFECT_LABELS[s]}"')
        for s in SideEffect
    )


def _rule_display(code: str) -> str:
    """ "red_flag.cauda_equina" -> "Red flag: cauda equina"."""
    kind, _, name = code.partition(".")
    return f"{kind.replace('_', ' ').capitalize()}: {name.replace('_', ' ')}"


def _rules() -> tuple[Concept, ...]:
    # Every rule of the safety checks, so that a finding a session was saved despite (an
    # override) is coded whatever rule raised it; a new rule is a new code.
    from prolotrack.core.rules import RULES

    sources = load_catalog().sources
    return tuple(
        Concept(
            rule.code,
            _rule_display(rule.code),
            sources[rule.source].citation if rule.source in sources else rule.source,
            {"kind": rule.kind.value, "severity": rule.severity.value, "source": rule.source},
        )
        for rule in RULES
    )


# The intake screening's questions: the core vocabulary's symptoms and history items, and
# infection at the injection site, with the model field each answer is stored in.
SCREENING_SITE = "infection_at_site"


def _screening_questions() -> tuple[Concept, ...]:
    from prolotrack.core.rules.vocabulary import History, Symptom
    from prolotrack.patients.forms import SCREENING_GROUPS

    asked = {q.code: q.label for group in SCREENING_GROUPS for q in group.questions}
    # Every question the form asks; one without its wording there fails here (KeyError).
    out = [
        Concept(
            member.value,
            member.label[0].upper() + member.label[1:],
            f'The screening asks: "{asked[member.value]}"',
            {"answers": field},
        )
        for field, enum in (("symptoms", Symptom), ("history", History))
        for member in enum
    ]
    out.append(
        Concept(
            SCREENING_SITE,
            "Infection at the injection site",
            f'The screening asks: "{asked["yes"]}"',
            {"answers": SCREENING_SITE},
        )
    )
    return tuple(out)


def _plain(values: Mapping[str, Any]) -> Callable[[], tuple[Concept, ...]]:
    def concepts() -> tuple[Concept, ...]:
        out = []
        for code, value in values.items():
            if isinstance(value, tuple):
                out.append(Concept(code, value[0], value[1]))
            else:
                out.append(Concept(code, value))
        return tuple(out)

    return concepts


CODE_SYSTEMS: dict[str, CodeSystemDef] = {
    d.name: d
    for d in (
        CodeSystemDef(
            "prolotrack-site",
            "prolotrack injection sites",
            "Injection and algometry sites of the prolotrack catalog (a draft for clinical "
            "review; sites with needsReview = true are not confirmed by a source).",
            _sites,
            {
                "region": "code",
                "modality": "code",
                "laterality": "code",
                "needsReview": "boolean",
            },
        ),
        CodeSystemDef("prolotrack-region", "prolotrack body regions", "Body regions.", _regions),
        CodeSystemDef(
            "prolotrack-condition",
            "prolotrack conditions",
            "Conditions treated with prolotherapy, as named by practising clinics.",
            _conditions,
        ),
        CodeSystemDef(
            "prolotrack-adverse-event",
            "prolotrack adverse-event categories",
            "Adverse-event categories of prolotherapy (DOMAIN 2.4).",
            _adverse_events,
            {"seriousByDefault": "boolean"},
        ),
        CodeSystemDef(
            "prolotrack-modality",
            "prolotrack modalities",
            "Neural or classic prolotherapy.",
            lambda: tuple(Concept(m.value, m.label) for m in Modality),
        ),
        CodeSystemDef(
            "prolotrack-procedure",
            "prolotrack procedures",
            "Prolotherapy procedures (no SNOMED CT concept was found; DOMAIN 4.6).",
            _plain(PROCEDURES),
        ),
        CodeSystemDef("prolotrack-side", "prolotrack sides", "Side of the body.", _plain(SIDES)),
        CodeSystemDef(
            "prolotrack-depth",
            "prolotrack injection depths",
            "How deep an injection goes.",
            lambda: tuple(Concept(d.value, d.label) for d in Depth),
        ),
        CodeSystemDef(
            "prolotrack-phase",
            "prolotrack measurement phases",
            "When a pain score or algometer reading was taken relative to the injections.",
            _plain(PHASES),
        ),
        CodeSystemDef(
            "prolotrack-observation",
            "prolotrack observations",
            "Measurements with no LOINC code (DOMAIN 4.6).",
            _plain(OBSERVATIONS),
        ),
        CodeSystemDef(
            "prolotrack-side-effect",
            "prolotrack diary side effects",
            "What a patient may report in the diary after a session: the expected side effects "
            "and the red-flag symptoms the diary asks about (DOMAIN 2.4, 3.1). Patient-reported "
            "answers, not adverse events assessed by the clinic.",
            _side_effects,
        ),
        CodeSystemDef(
            "prolotrack-pgic",
            "PGIC answers",
            "Patient Global Impression of Change, 7 points (DOMAIN 4.3).",
            _plain(PGIC),
        ),
        CodeSystemDef(
            "prolotrack-solution-component",
            "prolotrack solution components",
            "Ingredients of a prolotherapy solution.",
            _plain(SOLUTION_COMPONENTS),
        ),
        CodeSystemDef(
            "prolotrack-profession",
            "prolotrack professions",
            "Professions of practitioners.",
            _plain(PROFESSIONS),
        ),
        CodeSystemDef(
            "prolotrack-certification",
            "prolotrack certifications",
            "Certifications that extend a practitioner's scope (DOMAIN 6).",
            _certifications,
        ),
        CodeSystemDef(
            "prolotrack-rule",
            "prolotrack safety rules",
            "The rules of prolotrack's safety checks of an injection plan (red flags, "
            "contraindications, allergies, dose limits, scope of practice, intervals, solutions, "
            "sites and series), each with its kind, its severity (block, warn, info) and the "
            "section of the domain reference it rests on. A physician may override the findings "
            "that block (DOMAIN 3.2, software rule); those are exported as DetectedIssues.",
            _rules,
            {"kind": "code", "severity": "code", "source": "code"},
        ),
        CodeSystemDef(
            "prolotrack-screening",
            "prolotrack intake screening questions",
            "The yes/no questions of the intake screening: red-flag symptoms and history "
            "(DOMAIN 3.1, 3.2) and infection at the injection site (DOMAIN 2.3). The property "
            "answers names where prolotrack stores the answer.",
            _screening_questions,
            {"answers": "code"},
        ),
    )
}

# Codes of the external systems prolotrack writes; an import that brings others is refused.
EXTERNAL_CODES: dict[str, frozenset[str]] = {
    LOINC: frozenset({PAIN_LOINC}),
    SNOMED: frozenset(code for code, _ in SNOMED_SIDE.values()),
    OBSERVATION_CATEGORY: frozenset({"survey", "exam"}),
    CONDITION_CATEGORY: frozenset({"problem-list-item"}),
    AE_SERIOUSNESS: frozenset({"serious", "non-serious"}),
    AE_OUTCOME: frozenset({"resolved", "ongoing"}),
    PROVENANCE_AGENT: frozenset({"attester", "author"}),
    SIGNATURE_TYPE: frozenset({"1.2.840.10065.1.12.1.1"}),
    DATA_OPERATION: frozenset({"UPDATE"}),
    ACT_CODE: frozenset({"1"}),
    HCPCS: frozenset({"M0076"}),
    UCUM: frozenset({"{score}", "kPa", "kgf/cm2", "N/cm2", "mL", "kg", "g", "%"}),
}

# Sides of the body (prolotrack-side), incl. "both" for conditions.
BODY_SIDES = frozenset(s.value for s in Side) | {"both"}


@cache
def codes(name: str) -> Mapping[str, Concept]:
    """The concepts of prolotrack code system ``name`` by code."""
    return {c.code: c for c in CODE_SYSTEMS[name].concepts()}


def display(name: str, code: str) -> str:
    concept = codes(name).get(code)
    return concept.display if concept else code


def coding(name: str, code: str) -> dict[str, str]:
    """A Coding of prolotrack code system ``name``."""
    return {"system": system_url(name), "code": code, "display": display(name, code)}


def code_system_resource(name: str) -> dict[str, Any]:
    """The published CodeSystem resource of ``name`` (KeyError if there is none)."""
    definition = CODE_SYSTEMS[name]
    concepts = [_concept_json(c) for c in definition.concepts()]
    resource: dict[str, Any] = {
        "resourceType": "CodeSystem",
        "id": name,
        "url": definition.url,
        "version": VERSION,
        "name": _computable(name),
        "title": definition.title,
        "status": "draft",
        "experimental": False,
        "publisher": "prolotrack",
        "description": definition.description,
        "caseSensitive": True,
        "valueSet": valueset_url(name),
        "content": "complete",
        "count": len(concepts),
    }
    if definition.properties:
        resource["property"] = [
            {"code": code, "type": kind} for code, kind in definition.properties.items()
        ]
    resource["concept"] = concepts
    return resource


def value_set_resource(name: str) -> dict[str, Any]:
    """The ValueSet of every code of prolotrack code system ``name``."""
    definition = CODE_SYSTEMS[name]
    return {
        "resourceType": "ValueSet",
        "id": name,
        "url": valueset_url(name),
        "version": VERSION,
        "name": _computable(name),
        "title": definition.title,
        "status": "draft",
        "experimental": False,
        "publisher": "prolotrack",
        "description": f"All codes of {definition.url}.",
        "compose": {"include": [{"system": definition.url, "version": VERSION}]},
    }


def _computable(name: str) -> str:
    return "".join(part.title() for part in name.split("-"))


def _concept_json(concept: Concept) -> dict[str, Any]:
    out: dict[str, Any] = {"code": concept.code, "display": concept.display}
    if concept.definition:
        out["definition"] = concept.definition
    props = []
    for code, value in concept.properties.items():
        key = "valueBoolean" if isinstance(value, bool) else "valueCode"
        props.append({"code": code, key: value})
    if props:
        out["property"] = props
    return out


def coding_errors(resource: Any, path: str = "") -> Iterator[str]:
    """Every Coding (or Quantity code) in ``resource`` whose code is not in its system.

    prolotrack checks its own value sets: the FHIR models check structure, not codes. Yields
    messages such as ``bodySite[0].coding[0]: unknown code 'x' in .../prolotrack-site``.
    """
    if isinstance(resource, dict):
        system, code = resource.get("system"), resource.get("code")
        if isinstance(system, str) and isinstance(code, str):
            message = _code_error(system, code)
            if message:
                yield f"{path or '(resource)'}: {message}"
        for key, value in resource.items():
            if key == "contained":
                continue
            yield from coding_errors(value, f"{path}.{key}" if path else key)
        for i, inner in enumerate(resource.get("contained", []) or []):
            yield from coding_errors(inner, f"{path}.contained[{i}]" if path else f"contained[{i}]")
    elif isinstance(resource, list):
        for i, item in enumerate(resource):
            yield from coding_errors(item, f"{path}[{i}]")


def _code_error(system: str, code: str) -> str | None:
    prefix = f"{BASE}/CodeSystem/"
    if system.startswith(prefix):
        name = system[len(prefix) :]
        if name not in CODE_SYSTEMS:
            return f"unknown prolotrack code system {system!r}"
        if code not in codes(name):
            return f"unknown code {code!r} in {system}"
        return None
    if system.startswith(f"{BASE}/sid/"):
        return None  # an identifier, not a code
    known = EXTERNAL_CODES.get(system)
    if known is None:
        return f"code system {system!r} is not one prolotrack reads"
    if code not in known:
        return f"code {code!r} of {system} is not one prolotrack reads"
    return None


# Elements of type `code` bound to a required FHIR R4 value set, with the codes prolotrack
# writes and reads. The FHIR models accept any string there; prolotrack checks.
REQUIRED_CODES: dict[tuple[str, str], frozenset[str]] = {
    ("Patient", "gender"): frozenset({"male", "female", "other", "unknown"}),
    ("Observation", "status"): frozenset({"final", "preliminary"}),
    ("Procedure", "status"): frozenset({"completed"}),
    ("MedicationAdministration", "status"): frozenset({"completed"}),
    ("CarePlan", "status"): frozenset({"draft", "active", "completed", "revoked"}),
    ("CarePlan", "intent"): frozenset({"plan"}),
    ("CarePlan", "activity.detail.status"): frozenset(
        {"not-started", "in-progress", "completed", "stopped"}
    ),
    ("CarePlan", "activity.detail.kind"): frozenset({"Procedure"}),
    ("CarePlan", "activity.detail.scheduledTiming.repeat.periodUnit"): frozenset({"d"}),
    ("AdverseEvent", "actuality"): frozenset({"actual"}),
    ("DetectedIssue", "status"): frozenset({"final"}),
    ("DetectedIssue", "severity"): frozenset({"high", "moderate", "low"}),
    ("Bundle", "type"): frozenset({"searchset", "collection"}),
    ("Bundle", "entry.search.mode"): frozenset({"match", "include"}),
}


def binding_errors(resource: dict[str, Any]) -> Iterator[str]:
    """Required-binding codes of ``resource`` that are not in their value set."""
    kind = resource.get("resourceType")
    for (rtype, path), allowed in REQUIRED_CODES.items():
        if rtype != kind:
            continue
        for where, value in _values_at(resource, path.split("."), ""):
            if value not in allowed:
                yield f"{where}: {value!r} is not one of {', '.join(sorted(allowed))}"


def _values_at(node: Any, keys: list[str], where: str) -> Iterator[tuple[str, Any]]:
    if not keys:
        yield where, node
        return
    if isinstance(node, list):
        for i, item in enumerate(node):
            yield from _values_at(item, keys, f"{where}[{i}]")
        return
    if isinstance(node, dict) and keys[0] in node:
        key = keys[0]
        yield from _values_at(node[key], keys[1:], f"{where}.{key}" if where else key)
