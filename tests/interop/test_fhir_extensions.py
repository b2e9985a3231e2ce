"""prolotrack's FHIR extensions are published as StructureDefinitions at their canonical URLs,
and every extension an export writes has one that describes how it is used."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from prolotrack.interop.fhir.export import bulk_export
from prolotrack.interop.fhir.extensions import EXTENSIONS
from prolotrack.interop.fhir.terminology import BASE, extension_url
from tests.interop.test_fhir_world import load_fhir_clinic, read_ndjson, validate

PREFIX = f"{BASE}/StructureDefinition/"


def served_path(url: str) -> str:
    """Where the server publishes the definition with canonical URL ``url``."""
    assert url.startswith(PREFIX), f"{url} is not a prolotrack extension URL"
    return reverse("interop:fhir_structure_definition", kwargs={"name": url[len(PREFIX) :]})


def extensions_in(resource: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Each extension of ``resource`` with the element it is on ("Condition.bodySite");
    the parts of a complex extension are its own, not listed."""
    found: list[tuple[str, dict[str, Any]]] = []

    def walk(node: Any, path: list[str]) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item, path)
        elif isinstance(node, dict):
            for key, value in node.items():
                if key in ("extension", "modifierExtension"):
                    found.extend((".".join(path), ext) for ext in value)
                    for ext in value:  # a value may carry extensions of its own
                        walk({k: v for k, v in ext.items() if k != "extension"}, path)
                else:
                    walk(value, [*path, key])

    walk(resource, [resource["resourceType"]])
    return found


def value_key(fhir_type: str) -> str:
    """The JSON key of a value[x] of ``fhir_type``: integer -> valueInteger."""
    return "value" + fhir_type[0].upper() + fhir_type[1:]


def element(definition: dict[str, Any], element_id: str) -> dict[str, Any]:
    [found] = [e for e in definition["differential"]["element"] if e["id"] == element_id]
    return found


def check_use(definition: dict[str, Any], context: str, ext: dict[str, Any]) -> list[str]:
    """How ``ext``, found on ``context``, departs from its definition."""
    problems = []
    where = f"{ext['url']} on {context}"
    if context not in [c["expression"] for c in definition["context"]]:
        problems.append(f"{where}: {context} is not a context of its definition")
    values = sorted(k for k in ext if k.startswith("value"))
    root_value = element(definition, "Extension.value[x]")
    if root_value.get("max") == "0":  # complex: parts only
        if values:
            problems.append(f"{where}: a complex extension with a value {values}")
        parts = {
            e["sliceName"]: e
            for e in definition["differential"]["element"]
            if e["path"] == "Extension.extension" and "sliceName" in e
        }
        for part in ext.get("extension", []):
            if part["url"] not in parts:
                problems.append(f"{where}: part {part['url']!r} is not defined")
                continue
            kind = element(definition, f"Extension.extension:{part['url']}.value[x]")["type"]
            wanted = [value_key(t["code"]) for t in kind]
            got = [k for k in part if k.startswith("value")]
            if len(got) != 1 or got[0] not in wanted:
                problems.append(f"{where}: part {part['url']} has {got}, defined {wanted}")
        for name, part in parts.items():
            count = sum(1 for p in ext.get("extension", []) if p["url"] == name)
            if count < part["min"] or (part["max"] != "*" and count > int(part["max"])):
                problems.append(f"{where}: part {name} appears {count} times")
    else:
        wanted = [value_key(t["code"]) for t in root_value["type"]]
        if len(values) != 1 or values[0] not in wanted:
            problems.append(f"{where}: has {values}, defined {wanted}")
        if "extension" in ext:
            problems.append(f"{where}: a simple extension with parts")
    return problems


@pytest.fixture
def exported(db, tmp_path):
    clinic = load_fhir_clinic()
    bulk_export(clinic, tmp_path / "bulk")
    return read_ndjson(tmp_path / "bulk")


def test_every_extension_of_a_bulk_export_is_published_and_describes_its_use(exported, client):
    definitions: dict[str, dict[str, Any]] = {}
    problems: list[str] = []
    for kind, resource in exported:
        for context, ext in extensions_in(resource):
            url = ext["url"]
            if url not in definitions:
                response = client.get(served_path(url))
                assert response.status_code == 200, f"{url} ({kind}): {response.status_code}"
                assert response["Content-Type"].startswith("application/fhir+json")
                definitions[url] = response.json()
                assert validate(definitions[url]) == []
                assert definitions[url]["url"] == url
            problems += check_use(definitions[url], context, ext)
    assert problems == []
    # The generated clinic uses every extension: none is published that is not written.
    assert set(definitions) == {extension_url(name) for name in EXTENSIONS}


@pytest.mark.parametrize("name", sorted(EXTENSIONS))
def test_each_extension_is_a_valid_draft_extension_definition_at_its_canonical_url(client, name):
    path = reverse("interop:fhir_structure_definition", kwargs={"name": name})
    response = client.get(path)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/fhir+json")
    definition = response.json()
    assert validate(definition) == []
    # The canonical URL names the page that serves it: .../fhir/StructureDefinition/<name>.
    assert definition["url"].removeprefix(BASE) == path.removeprefix("/interop/fhir")
    assert definition["id"] == name
    assert {
        key: definition[key]
        for key in ("kind", "type", "derivation", "status", "publisher", "fhirVersion")
    } == {
        "kind": "complex-type",
        "type": "Extension",
        "derivation": "constraint",
        "status": "draft",
        "publisher": "prolotrack",
        "fhirVersion": "4.0.1",
    }
    assert definition["baseDefinition"] == "http://hl7.org/fhir/StructureDefinition/Extension"
    assert definition["context"] and all(c["type"] == "element" for c in definition["context"])
    assert element(definition, "Extension.url")["fixedUri"] == definition["url"]
    value = element(definition, "Extension.value[x]")
    assert value.get("max") == "0" or value["type"]


def test_the_laterality_extension_is_bound_to_the_side_value_set(client, db):
    definition = client.get("/interop/fhir/StructureDefinition/laterality").json()
    value = element(definition, "Extension.value[x]")
    assert value["type"] == [{"code": "CodeableConcept"}]
    assert value["binding"] == {
        "strength": "required",
        "valueSet": f"{BASE}/ValueSet/prolotrack-side",
    }
    # The value set it names is published too.
    assert client.get("/interop/fhir/ValueSet/prolotrack-side").status_code == 200


def test_the_safety_facts_define_each_part(client, db):
    definition = client.get("/interop/fhir/StructureDefinition/safety-facts").json()
    slices = {
        e["sliceName"]: (e["min"], e["max"])
        for e in definition["differential"]["element"]
        if "sliceName" in e
    }
    assert slices == {
        "weight": (0, "1"),
        "diabetes": (1, "1"),
        "anticoagulant": (1, "1"),
        "bleedingDisorder": (1, "1"),
        "pregnant": (1, "1"),
        "allergy": (0, "*"),
    }
    assert element(definition, "Extension.extension")["slicing"]["rules"] == "closed"
    assert element(definition, "Extension.value[x]")["max"] == "0"


def test_a_definition_that_does_not_describe_the_export_is_caught():
    """The check the export test relies on finds a wrong context, value type and part."""
    definition = {
        "context": [{"type": "element", "expression": "Organization"}],
        "differential": {
            "element": [
                {
                    "id": "Extension.value[x]",
                    "path": "Extension.value[x]",
                    "type": [{"code": "code"}],
                }
            ]
        },
    }
    ext = {"url": extension_url("time-zone"), "valueString": "Europe/Paris"}
    assert check_use(definition, "Organization", {**ext, "valueCode": "x"}) != []
    assert check_use(definition, "Practitioner", {"url": ext["url"], "valueCode": "x"}) != []
    assert check_use(definition, "Organization", {"url": ext["url"], "valueCode": "x"}) == []


@pytest.mark.parametrize("name", ["nope", "prolotrack-site", "Laterality"])
def test_an_unknown_extension_is_404(client, db, name):
    assert client.get(f"/interop/fhir/StructureDefinition/{name}").status_code == 404


def test_definitions_are_read_only(client, db):
    assert client.post("/interop/fhir/StructureDefinition/laterality").status_code == 405
