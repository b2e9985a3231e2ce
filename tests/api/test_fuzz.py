"""T9: schemathesis generates requests for every operation of the OpenAPI description and sends
them in-process to the WSGI application, as a practitioner with a read-and-write token.

Pass criterion: no server error (5xx) and every answer conforms to the description (status
declared, body matching its schema, 422 included). The suite runs a modest number of examples
per operation; the full run of RELIABILITY.md T9 (200 per operation) is

    PROLOTRACK_FUZZ_EXAMPLES=200 uv run pytest -p no:cacheprovider tests/api/test_fuzz.py

Path ids are half the time replaced by the fixture world's own patient, series and session, so
the generated bodies reach the services instead of stopping at 404.
"""

from __future__ import annotations

import json
import os

import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from prolotrack.api.v1 import api
from tests.api.conftest import token_for
from tests.treatment.charting_helpers import record_session

# No 5xx; the status, content type, body and headers as described; schema-invalid input refused
# (strict types). Not "positive data acceptance": a request valid by the schema may still be
# refused by the clinic's rules (an unknown site code, a stale version, a record of another
# patient), with a described 4xx.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    negative_data_rejection,
]
EXAMPLES = int(os.environ.get("PROLOTRACK_FUZZ_EXAMPLES", "10"))


# The description as /api/v1/openapi.json serves it, built without a request: collecting the
# tests must not touch the database (on PostgreSQL every request sets the clinic on the
# connection).
schema = schemathesis.openapi.from_dict(json.loads(json.dumps(api.get_openapi_schema())))
schema.app = WSGIHandler()


@pytest.fixture
def _keep_the_test_connection():
    """The WSGI handler closes the database connection after each request, which would end
    the test's transaction on PostgreSQL; Django's test client holds these signals off too."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def fuzz_world(world, _keep_the_test_connection):
    """The world, a recorded session, and a physician's token that may write."""
    session = record_session(world)
    ids = {"patient_id": world.patient.pk, "series_id": world.series.pk, "session_id": session.pk}
    return ids, token_for(world.physician)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_no_server_error_and_every_answer_is_described(case, fuzz_world):
    ids, secret = fuzz_world
    if case.path_parameters:
        for name, value in list(case.path_parameters.items()):
            if name in ids and isinstance(value, int) and value % 2 == 0:
                case.path_parameters[name] = ids[name]
    case.call_and_validate(headers={"Authorization": f"Bearer {secret}"}, checks=CHECKS)
