"""prolotrack's FHIR extensions, published as StructureDefinitions.

Every extension prolotrack writes is defined here: where it is used (its context), the type of
its value, and for the one complex extension (``safety-facts``) its parts. The running server
publishes each as a FHIR R4 StructureDefinition at ``/interop/fhir/StructureDefinition/<name>``,
under its canonical URL ``terminology.extension_url(name)``
(``https://prolotrack.org/fhir/StructureDefinition/<name>``), beside the code systems and value
sets. A test exports a clinic and fetches the definition of every extension it meets, so an
extension written without a definition here fails it.

Like the code systems, the definitions are ``draft``: they describe what prolotrack writes and
reads, not a profile agreed with anyone else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from prolotrack.interop.fhir import terminology as t

FHIR_VERSION = "4.0.1"
EXTENSION_BASE = "http://hl7.org/fhir/StructureDefinition/Extension"


@dataclass(frozen=True)
class Part:
    """One part (a sub-extension, named by a relative URL) of a complex extension."""

    url: str
    type: str
    short: str
    min: int = 0
    max: str = "1"


@dataclass(frozen=True)
class ExtensionDef:
    name: str  # the URL's last part
    title: str
    description: str
    # FHIRPath of the elements the extension is used on ("Condition.bodySite").
    contexts: tuple[str, ...]
    # The type of value[x] for a simple extension; empty for a complex one (``parts``).
    type: str = ""
    parts: tuple[Part, ...] = ()
    # The prolotrack value set a coded value is bound to (required binding).
    value_set: str = ""

    @property
    def url(self) -> str:
        return t.extension_url(self.name)


EXTENSIONS: dict[str, ExtensionDef] = {
    d.name: d
    for d in (
        ExtensionDef(
            "laterality",
            "Side of the body",
            "The side of a coded body site or region: prolotrack-side (left, right, midline, "
            "both), with the SNOMED CT laterality qualifier beside it for left and right.",
            (
                "Condition.bodySite",
                "Procedure.bodySite",
                "MedicationAdministration.dosage.site",
                "Observation.bodySite",
            ),
            type="CodeableConcept",
            value_set="prolotrack-side",
        ),
        ExtensionDef(
            "time-zone",
            "Clinic time zone",
            "The IANA time zone the clinic works in (for example America/Vancouver): dates "
            "without a time, such as a diary entry's day, are days of this zone.",
            ("Organization",),
            type="code",
        ),
        ExtensionDef(
            "jurisdiction",
            "Jurisdiction",
            "An ISO 3166-2 subdivision code (for example CA-BC): where the clinic practises, or "
            "where a practitioner's licence was issued.",
            ("Organization", "Practitioner.qualification"),
            type="code",
        ),
        ExtensionDef(
            "role",
            "prolotrack role",
            "The user's role in prolotrack (physician, naturopathic_doctor, nurse_practitioner, "
            "front_desk, clinic_admin, patient or auditor), which decides what they may see and "
            "do.",
            ("Practitioner",),
            type="code",
        ),
        ExtensionDef(
            "safety-facts",
            "Safety facts",
            "What the injection safety checks read about a patient (DOMAIN 2.2, 2.3): weight, "
            "diabetes, anticoagulant, bleeding disorder, pregnancy and allergies.",
            ("Patient",),
            parts=(
                Part("weight", "Quantity", "Body weight, in kg (UCUM kg)"),
                Part("diabetes", "boolean", "Has diabetes", min=1),
                Part("anticoagulant", "boolean", "Takes an anticoagulant", min=1),
                Part("bleedingDisorder", "boolean", "Has a bleeding disorder", min=1),
                Part("pregnant", "boolean", "Is pregnant", min=1),
                Part(
                    "allergy",
                    "code",
                    "An allergy that changes what may be injected: corn, local_anaesthetic",
                    max="*",
                ),
            ),
        ),
        ExtensionDef(
            "region",
            "Treated region",
            "The body region a treatment series treats (prolotrack-region).",
            ("CarePlan",),
            type="Coding",
            value_set="prolotrack-region",
        ),
        ExtensionDef(
            "needle-gauge",
            "Needle gauge",
            "The gauge of the needle of an injection (for example 27).",
            ("MedicationAdministration",),
            type="integer",
        ),
        ExtensionDef(
            "resolved-date",
            "Resolution date",
            "The day an adverse event resolved; absent while it is ongoing.",
            ("AdverseEvent",),
            type="date",
        ),
        ExtensionDef(
            "note",
            "Clinician's note",
            "The clinician's free-text note on an adverse event (left out of the patient's own "
            "copy).",
            ("AdverseEvent",),
            type="string",
        ),
        ExtensionDef(
            "override-reason",
            "Reason for the override",
            "Why the physician went ahead with the session despite the finding that blocks it "
            "(DOMAIN 3.2, software rule: a hard stop until a clinician documents the referral "
            "or override), as the physician wrote it. FHIR R4 has no text on a mitigation; R5 "
            "adds DetectedIssue.mitigation.note for it. Left out of the patient's own copy.",
            ("DetectedIssue.mitigation",),
            type="string",
        ),
    )
}


def _computable(name: str) -> str:
    return "".join(part.title() for part in name.split("-"))


def _value(path: str, element_id: str, kind: str, value_set: str = "") -> dict[str, Any]:
    element: dict[str, Any] = {
        "id": element_id,
        "path": path,
        "min": 1,
        "type": [{"code": kind}],
    }
    if value_set:
        element["binding"] = {"strength": "required", "valueSet": t.valueset_url(value_set)}
    return element


def _part_elements(part: Part) -> list[dict[str, Any]]:
    slice_id = f"Extension.extension:{part.url}"
    return [
        {
            "id": slice_id,
            "path": "Extension.extension",
            "sliceName": part.url,
            "short": part.short,
            "min": part.min,
            "max": part.max,
        },
        {"id": f"{slice_id}.extension", "path": "Extension.extension.extension", "max": "0"},
        {"id": f"{slice_id}.url", "path": "Extension.extension.url", "fixedUri": part.url},
        _value("Extension.extension.value[x]", f"{slice_id}.value[x]", part.type),
    ]


def _differential(d: ExtensionDef) -> list[dict[str, Any]]:
    elements: list[dict[str, Any]] = [
        {
            "id": "Extension",
            "path": "Extension",
            "short": d.title,
            "definition": d.description,
            "min": 0,
            "max": "1",
        }
    ]
    if d.parts:
        elements.append(
            {
                "id": "Extension.extension",
                "path": "Extension.extension",
                "slicing": {
                    "discriminator": [{"type": "value", "path": "url"}],
                    "rules": "closed",
                },
                "min": sum(1 for p in d.parts if p.min),
            }
        )
        for part in d.parts:
            elements += _part_elements(part)
    else:
        elements.append({"id": "Extension.extension", "path": "Extension.extension", "max": "0"})
    elements.append({"id": "Extension.url", "path": "Extension.url", "fixedUri": d.url})
    if d.parts:
        elements.append({"id": "Extension.value[x]", "path": "Extension.value[x]", "max": "0"})
    else:
        elements.append(_value("Extension.value[x]", "Extension.value[x]", d.type, d.value_set))
    return elements


def structure_definition_resource(name: str) -> dict[str, Any]:
    """The published StructureDefinition of extension ``name`` (KeyError if there is none)."""
    d = EXTENSIONS[name]
    return {
        "resourceType": "StructureDefinition",
        "id": name,
        "url": d.url,
        "version": t.VERSION,
        "name": _computable(name),
        "title": d.title,
        "status": "draft",
        "experimental": False,
        "publisher": "prolotrack",
        "description": d.description,
        "fhirVersion": FHIR_VERSION,
        "kind": "complex-type",
        "abstract": False,
        "context": [{"type": "element", "expression": c} for c in d.contexts],
        "type": "Extension",
        "baseDefinition": EXTENSION_BASE,
        "derivation": "constraint",
        "differential": {"element": _differential(d)},
    }
