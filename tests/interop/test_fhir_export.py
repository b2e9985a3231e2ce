"""FHIR export: every resource of a generated clinic validates, with prolotrack's codes."""

from __future__ import annotations

from collections import Counter

import pytest

from prolotrack.interop.fhir.export import RESOURCE_TYPES, Scope, resources
from tests.interop.test_fhir_world import load_fhir_clinic, validate


@pytest.fixture
def clinic(db):
    return load_fhir_clinic()


def test_every_exported_resource_validates_and_uses_known_codes(clinic):
    seen = Counter()
    problems = []
    for kind, resource in resources(Scope(clinic)):
        assert resource["resourceType"] == kind
        seen[kind] += 1
        problems += [f"{kind}/{resource['id']}: {p}" for p in validate(resource)]
    assert problems == []
    assert set(seen) == set(RESOURCE_TYPES)
