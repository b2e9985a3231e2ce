from __future__ import annotations

import datetime as dt
import itertools
import json

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory

from prolotrack.audit.models import GENESIS_HASH, AuditCheckpoint, AuditEvent
from prolotrack.audit.services import audit_record, clean_text, client_ip
from prolotrack.audit.verify import verify_database


def test_it_chains_every_event_to_the_one_before(audit_log):
    events = audit_log.append(5)
    assert [e.id for e in events] == [1, 2, 3, 4, 5]
    assert events[0].prev_hash == GENESIS_HASH
    for before, after in itertools.pairwise(events):
        assert after.prev_hash == before.hash
    checkpoint = AuditCheckpoint.objects.get()
    assert (checkpoint.event_id, checkpoint.hash) == (5, events[-1].hash)


def test_it_verifies_after_many_appends_streamed_in_small_chunks(audit_log):
    audit_log.append(250, detail={"page": 1, "ids": [1, 2, 3]})
    result = verify_database(chunk_size=7)
    assert result.ok, result.problems
    assert result.checked == 250
    assert result.head == (250, AuditEvent.objects.get(pk=250).hash)


def test_it_stores_what_it_hashed(audit_log):
    """What comes back from the database hashes the same: no field is rewritten on the way."""
    written = audit_record(
        action="read",
        object_type="patient",
        object_id="12",
        detail={"note": "é ü ✓", "count": 3, "flag": True, "none": None},
    )
    stored = AuditEvent.objects.get(pk=written.id)
    assert stored.compute_hash() == stored.hash == written.hash


def test_it_records_who_what_when_and_from_where(world):
    request = RequestFactory().get("/patients/", REMOTE_ADDR="203.0.113.9", HTTP_USER_AGENT="UA/1")
    request.user = world.physician
    event = audit_record(request=request, action="read", target=world.patient)
    assert event.user_id == world.physician.pk
    assert event.username == "drphys"
    assert event.role == "physician"
    assert event.clinic_id == world.clinic.pk
    assert event.patient_id == world.patient.pk
    assert (event.object_type, event.object_id) == ("patient", str(world.patient.pk))
    assert event.source_ip == "203.0.113.9"
    assert event.user_agent == "UA/1"
    assert event.outcome == "ok" and event.break_glass is False
    assert event.at.utcoffset() == dt.timedelta(0)


def test_it_takes_the_patient_from_a_record_that_belongs_to_one(world):
    request = RequestFactory().get("/")
    request.user = world.physician
    event = audit_record(request=request, action="read", target=world.series)
    assert event.object_type == "treatmentseries"
    assert event.patient_id == world.patient.pk and event.clinic_id == world.clinic.pk


def test_it_defaults_the_clinic_to_the_users(world):
    request = RequestFactory().get("/")
    request.user = world.front_desk
    event = audit_record(request=request, action="list", object_type="patient")
    assert event.clinic_id == world.clinic.pk and event.patient_id is None


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("mallory\r\n2026-01-01 boss login ok", "mallory2026-01-01 boss login ok"),
        ("tab\there", "tabhere"),
        ("esc\x1b[31mred", "esc[31mred"),
        ("nul\x00byte", "nulbyte"),
        ("bidi\u202eevil", "bidievil"),
        ("line\u2028sep", "linesep"),
        ("plain café", "plain café"),
    ],
)
def test_it_keeps_every_text_on_one_printable_line(raw, clean):
    assert clean_text(raw, 200) == clean


def test_it_cleans_every_text_field_it_stores(db):
    request = RequestFactory().get("/", HTTP_USER_AGENT="evil\r\nUA" + "x" * 400)
    event = audit_record(
        request=request,
        action="read",
        object_type="pa\ntient",
        object_id="1\r\n2",
        detail={"k\n": "v\r\nw"},
    )
    assert (event.object_type, event.object_id) == ("patient", "12")
    assert event.detail == {"k": "vw"}
    assert event.user_agent.startswith("evilUA") and len(event.user_agent) == 256


def test_it_refuses_detail_that_could_carry_records_or_break_the_hash(db):
    with pytest.raises(TypeError):
        audit_record(action="read", detail={"weight": 81.5})
    with pytest.raises(TypeError):
        audit_record(action="read", detail={"patient": {"name": "Avery"}})
    with pytest.raises(ValueError, match="longer than"):
        audit_record(action="read", detail={"text": "x" * 200, **{f"k{i}": 1 for i in range(200)}})
    assert not AuditEvent.objects.exists()


def test_it_refuses_an_unknown_action_or_outcome(db):
    with pytest.raises(ValueError, match="action"):
        audit_record(action="peek")
    with pytest.raises(ValueError, match="outcome"):
        audit_record(action="read", outcome="maybe")


def test_it_ignores_x_forwarded_for_from_a_direct_client():
    request = RequestFactory().get(
        "/", REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR="10.9.9.9, 192.0.2.1"
    )
    assert client_ip(request) == "198.51.100.7"


def test_it_reads_x_forwarded_for_from_the_right_behind_a_trusted_proxy(settings):
    settings.AUDIT_TRUSTED_PROXIES = ["10.0.0.0/8"]
    # The client may send any X-Forwarded-For; our proxies append the peer they saw.
    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.7, 10.0.0.5"
    )
    assert client_ip(request) == "198.51.100.7"
    direct = RequestFactory().get("/", REMOTE_ADDR="198.51.100.8", HTTP_X_FORWARDED_FOR="1.2.3.4")
    assert client_ip(direct) == "198.51.100.8"
    garbage = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="<script>")
    assert client_ip(garbage) == "10.0.0.2"


def test_it_refuses_a_misconfigured_proxy_list(settings):
    settings.AUDIT_TRUSTED_PROXIES = ["not-an-address"]
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2")
    with pytest.raises(ImproperlyConfigured, match="AUDIT_TRUSTED_PROXIES"):
        client_ip(request)


def test_its_canonical_form_is_sorted_compact_ascii_json(db):
    event = audit_record(action="read", object_type="patient", detail={"b": 1, "a": "é"})
    text = event.canonical().decode("ascii")
    assert json.loads(text)["detail"] == {"a": "é", "b": 1}
    assert ", " not in text and list(json.loads(text)) == sorted(json.loads(text))
    assert json.loads(text)["at"].endswith("Z")
