"""T2: the security headers on every route, for the signed out, a patient and a practitioner,
in production mode (HSTS is only sent there; the settings are those production mode really
produces, read as tests/test_settings_production.py reads them)."""

from __future__ import annotations

import re

import pytest

from tests.security.endpoints import outcome, send
from tests.security.matrix import MATRIX, expected
from tests.test_settings_production import production, production_settings  # noqa: F401

VIEWERS = ("anonymous", "patient", "physician")
CSP_DIRECTIVES = ("object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'")
YEAR = 31_536_000


def header_problems(response) -> list[str]:
    problems = []
    hsts = response.get("Strict-Transport-Security", "")
    match = re.search(r"max-age=(\d+)", hsts)
    if not match or int(match.group(1)) < YEAR or "includesubdomains" not in hsts.lower():
        problems.append(f"HSTS {hsts!r}")
    csp = response.get("Content-Security-Policy", "")
    problems += [f"CSP lacks {d}" for d in CSP_DIRECTIVES if d not in csp]
    if response.get("X-Content-Type-Options") != "nosniff":
        problems.append("no nosniff")
    if response.get("Referrer-Policy") not in ("same-origin", "no-referrer", "strict-origin"):
        problems.append(f"Referrer-Policy {response.get('Referrer-Policy')!r}")
    if "no-store" not in response.get("Cache-Control", ""):
        problems.append(f"Cache-Control {response.get('Cache-Control')!r}")
    problems += [f"{name} header" for name in ("Server", "X-Powered-By") if name in response]
    return problems


def test_the_check_finds_a_missing_header():
    class Bare(dict):
        def get(self, key, default=None):
            return super().get(key, default)

    assert len(header_problems(Bare())) == 1 + 3 + 3


@pytest.mark.parametrize("key", sorted(MATRIX))
def test_every_answer_carries_the_security_headers(actors, production_settings, key):  # noqa: F811
    assert production_settings.SECURE_HSTS_SECONDS >= YEAR
    for method in MATRIX[key]:
        cells = expected(key, method)
        if set(cells.values()) == {"405"}:
            continue
        for role in VIEWERS:
            response = send(actors.client(role), key, method, actors.url_values, secure=True)
            # The answer the matrix expects: the practitioner's pages are the health records.
            assert outcome(response) == cells[role], f"{method} {key} as {role}"
            problems = header_problems(response)
            assert not problems, f"{method} {key} as {role} ({response.status_code}): {problems}"
