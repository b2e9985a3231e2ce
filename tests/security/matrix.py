"""The authorization matrix (RELIABILITY.md T5): every route of the URL configuration and every
operation of the API's OpenAPI document, for each method and each of the nine roles, with the
answer expected.

A new route or operation fails `test_every_route_and_operation_has_an_entry` until it gets an
entry here; an entry for a route that no longer exists fails it too. The expectations follow
the access helpers (patients/access.py, treatment/access.py, audit/access.py) and the views'
decorators, for the world of tests/security/conftest.py: clinic A's patient in the care of its
three practitioners (the URLs name the physician's session); the outsider, a physician of clinic A
without the patient in their care, must break the glass first (403).

Outcomes:
  ok     2xx, or a redirect that is not to the sign-in page
  login  401, or a redirect to a sign-in page (with ?next=): the staff's, or the diary's page
         that sends a patient a sign-in link
  403    refused: the role may not do this (or must break the glass first)
  400    let through, and the empty form refused as invalid
  404    refused without saying the record or page exists
  405    the route does not take this method
  409    let through, and refused by the record's state: the roles are asked in the columns'
         order, so a session the physician has just signed cannot be signed again

An API operation that takes a body is sent a valid one (API_BODIES), so a role let through gets
"ok" and a refused one 403 or 404, never the 422 of an empty body.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from prolotrack.patients.models import Patient
from tests.core.rules.plan_helpers import plan_data
from tests.security.conftest import ROLES

OUTCOMES = frozenset({"ok", "login", "400", "403", "404", "405", "409"})

# Open to anyone, signed in or not, each with the reason; they hold no health information.
PUBLIC = {
    "login": "the sign-in page",
    "logout": "signing out",
    "health": "the load balancer's check",
    "static": "scripts, styles and images",
    "api-v1:api-root": "answers 404 to everyone: there is nothing at the API's root",
    # Open as ninja serves them; they describe the operations, no record. Token clients read
    # the description without a session.
    "api-v1:openapi-json": "the API's description",
    "api-v1:openapi-view": "the API's interactive documentation (its page, no data)",
    # The patient diary's sign-in by a one-time link: asking for a link (the same answer for a
    # known and an unknown address), and the link itself (the URL's token is the credential).
    "diary:signin_request": "the page that sends a patient a sign-in link",
    "diary:signin": "a one-time sign-in link (an unknown token: 404)",
    # Patient information: the same text for everyone.
    "diary:info": "the patient information pages' index",
    "diary:info_topic": "one patient information page",
    # prolotrack's FHIR code systems and value sets: the catalog, never a record.
    "interop:fhir_code_system": "a FHIR CodeSystem of prolotrack's codes",
    "interop:fhir_value_set": "a FHIR ValueSet of prolotrack's codes",
    # FHIR extension definitions (issue 7): how prolotrack's extensions are shaped, no record.
    "interop:fhir_structure_definition": "a FHIR StructureDefinition of a prolotrack extension",
}

# The columns, in ROLES order:
#   anonymous  patient  physician  naturopathic_doctor  nurse_practitioner  front_desk
#   clinic_admin  auditor  other_clinic_physician  outsider
#
# Routes take GET and POST entries (a route that does not take a method says 405); API
# operations take the method the OpenAPI document gives them.
ALL_405 = "405 405 405 405 405 405 405 405 405 405"
ALL_OK = "ok ok ok ok ok ok ok ok ok ok"
# A practitioners-only page (treatment.views.clinical_page): patients 404, other roles 403,
# another clinic's physician 404, the outsider 403 (the break-glass page).
CLINICAL = "login 404 ok ok ok 403 403 403 404 403"
# ... and its other method, refused by the view's method check after the role check.
# Signed-in only, then the view's method check.
ACCOUNT_405 = "login 405 405 405 405 405 405 405 405 405"
ALL_LANDING = "login ok ok ok ok ok ok ok ok ok"
CLINICAL_405 = "login 404 405 405 405 403 403 403 405 405"
# The patient's own diary pages (diary.access.patient_for_diary): the signed out are sent to the
# diary's sign-in page, everyone but a patient gets 404 (there is no id to try).
OWN_DIARY = "login ok 404 404 404 404 404 404 404 404"
# API reads of clinical records (api.treatment, api.outcomes): practitioners in the care; other
# roles 403 (the API says so, where the pages tell a patient 404), another clinic's 404, the
# outsider 403 until they break the glass.
API_CLINICAL = "login 403 ok ok ok 403 403 403 404 403"

MATRIX: dict[str, dict[str, str]] = {
    # -- public -----------------------------------------------------------------------------
    "login": {"GET": ALL_OK, "POST": ALL_OK},
    "logout": {"GET": ALL_405, "POST": ALL_OK},
    "health": {"GET": ALL_OK, "POST": ALL_405},
    # -- landing: a redirect to the role's page (patients: their diary) ----------------------
    "home": {
        "GET": ALL_LANDING,
        "POST": ALL_LANDING,
    },
    # -- patients: staff of the clinic (patients.access.require_staff) ----------------------
    "patients:list": {
        "GET": "login 403 ok ok ok ok ok 403 ok ok",
        "POST": "login 403 ok ok ok ok ok 403 ok ok",
    },
    "patients:create": {
        "GET": "login 403 ok ok ok ok ok 403 ok ok",
        "POST": "login 403 ok ok ok ok ok 403 ok ok",
    },
    # Demographics: a practitioner outside the care meets the break-glass page.
    "patients:edit": {
        "GET": "login 403 ok ok ok ok ok 403 404 403",
        "POST": "login 403 ok ok ok ok ok 403 404 403",
    },
    "patients:screening": {"GET": CLINICAL, "POST": CLINICAL},
    # -- audit trail: clinic administrators and auditors (audit.access) ---------------------
    "audit:list": {"GET": "login 403 403 403 403 403 ok ok 403 403", "POST": ALL_405},
    "audit:export": {"GET": "login 403 403 403 403 403 ok ok 403 403", "POST": ALL_405},
    # -- the chart: staff; demographics only for front desk and administrators --------------
    "treatment:chart": {
        "GET": "login 404 ok ok ok ok ok 403 404 403",
        "POST": "login 404 ok ok ok ok ok 403 404 403",
    },
    "treatment:condition_add": {"GET": CLINICAL_405, "POST": CLINICAL},
    "treatment:series_new": {"GET": CLINICAL_405, "POST": CLINICAL},
    # -- charting: practitioners in the patient's care --------------------------------------
    "treatment:session_new": {"GET": CLINICAL, "POST": CLINICAL},
    "treatment:series_findings": {"GET": CLINICAL_405, "POST": CLINICAL},
    "treatment:session_detail": {"GET": CLINICAL, "POST": CLINICAL_405},
    "treatment:session_edit": {"GET": CLINICAL, "POST": CLINICAL},
    "treatment:session_findings": {"GET": CLINICAL_405, "POST": CLINICAL},
    "treatment:session_sign": {"GET": CLINICAL_405, "POST": CLINICAL},
    "treatment:session_amend": {"GET": CLINICAL_405, "POST": CLINICAL},
    "treatment:adverse_event_add": {"GET": CLINICAL_405, "POST": CLINICAL},
    # -- the signed-in user's own account and second factor (accounts.views) ---------------
    "accounts:account": {"GET": "login ok ok ok ok ok ok ok ok ok", "POST": ACCOUNT_405},
    "accounts:sign_out_others": {"GET": ACCOUNT_405, "POST": "login ok ok ok ok ok ok ok ok ok"},
    # Verified already (World.client_for), or a patient without a second factor: sent on.
    "accounts:second_factor": {"GET": ALL_LANDING, "POST": ALL_LANDING},
    "accounts:second_factor_enrol": {"GET": ALL_LANDING, "POST": ALL_LANDING},
    # -- staff accounts: the clinic's administrators (accounts.admin_views) -----------------
    # The list takes only GET. Each change's URL names clinic A's front desk user: its
    # confirmation page for the administrators, and the empty form refused (no reason: 400);
    # every other role 403 before any account is looked up, another clinic's administrator
    # 404 (tests/security/test_cross_tenant.py).
    "accounts:users": {"GET": "login 403 403 403 403 403 ok 403 403 403", "POST": ACCOUNT_405},
    "accounts:user_deactivate": {
        "GET": "login 403 403 403 403 403 ok 403 403 403",
        "POST": "login 403 403 403 403 403 400 403 403 403",
    },
    "accounts:user_reactivate": {
        "GET": "login 403 403 403 403 403 ok 403 403 403",
        "POST": "login 403 403 403 403 403 400 403 403 403",
    },
    "accounts:user_second_factor_reset": {
        "GET": "login 403 403 403 403 403 ok 403 403 403",
        "POST": "login 403 403 403 403 403 400 403 403 403",
    },
    # -- break-glass: practitioners of the clinic; reviewed by administrators and auditors ---
    # In care already: sent back to the chart; the outsider's empty reason: the 403 form.
    "patients:break_glass": {"GET": ACCOUNT_405, "POST": "login 403 ok ok ok 403 403 403 404 403"},
    "audit:break_glass": {"GET": "login 403 403 403 403 403 ok ok 403 403", "POST": ALL_405},
    # -- the care team: practitioners in the care and clinic administrators ----------------
    "patients:care_team": {"GET": ACCOUNT_405, "POST": "login 403 ok ok ok 403 ok 403 404 403"},
    # -- API tokens: clinic administrators (the empty form is invalid: 400) ------------------
    "api-tokens:list": {
        "GET": "login 403 403 403 403 403 ok 403 403 403",
        "POST": "login 403 403 403 403 403 400 403 403 403",
    },
    # -- the printed progress report: practitioners in the care (patients get 403 here) -----
    "interop:patient_report": {
        "GET": ACCOUNT_405,
        "POST": "login 403 ok ok ok 403 403 403 404 403",
    },
    # -- the API's own pages (its operations are below, by their OpenAPI path) --------------
    # ninja's root answers 404 to any method; its description takes any method.
    "api-v1:api-root": {
        "GET": "404 404 404 404 404 404 404 404 404 404",
        "POST": "404 404 404 404 404 404 404 404 404 404",
    },
    "api-v1:openapi-json": {
        "GET": ALL_OK,
        "POST": ALL_OK,
    },
    "api-v1:openapi-view": {
        "GET": ALL_OK,
        "POST": ALL_OK,
    },
    # -- the patient diary: the patient's own pages (no id but the entry's, among their own) -
    "diary:today": {"GET": OWN_DIARY, "POST": "login 400 404 404 404 404 404 404 404 404"},
    "diary:entry": {"GET": OWN_DIARY, "POST": ALL_405},
    "diary:progress": {"GET": OWN_DIARY, "POST": ALL_405},
    "diary:export_json": {"GET": OWN_DIARY, "POST": ALL_405},
    "diary:export_csv": {"GET": OWN_DIARY, "POST": ALL_405},
    "diary:info": {"GET": ALL_OK, "POST": ALL_405},
    "diary:info_topic": {"GET": ALL_OK, "POST": ALL_405},
    # An unknown link answers 404 whoever asks; asking for a link is the same page for all.
    "diary:signin_request": {"GET": ALL_OK, "POST": ALL_OK},
    "diary:signin": {
        "GET": "404 404 404 404 404 404 404 404 404 404",
        "POST": "404 404 404 404 404 404 404 404 404 404",
    },
    # -- the diary's clinic pages (diary.access): patients 404 ------------------------------
    # The alert board is the clinic's: every practitioner of the clinic, in the care or not
    # (an emergency must reach whoever is on duty); another clinic's physician sees their own
    # clinic's board, and gets 404 for this clinic's alert.
    "diary:alerts": {"GET": "login 404 ok ok ok 403 403 403 ok ok", "POST": ALL_405},
    "diary:alert_ack": {"GET": ALL_405, "POST": "login 404 ok ok ok 403 403 403 404 ok"},
    # The patient's diary entries: practitioners in the care, as the chart's clinical pages.
    "diary:patient_entries": {
        "GET": "login 404 ok ok ok 403 403 403 404 403",
        "POST": ALL_405,
    },
    # Inviting the patient to the diary: the clinic's staff (front desk too); the outsider
    # meets the break-glass page.
    "diary:invite": {"GET": ALL_405, "POST": "login 404 ok ok ok ok ok 403 404 403"},
    # The clinic's diary settings: its administrators (the empty form is invalid: 400).
    "diary:settings": {
        "GET": "login 404 403 403 403 403 ok 403 403 403",
        "POST": "login 404 403 403 403 403 400 403 403 403",
    },
    "interop:fhir_code_system": {"GET": ALL_OK, "POST": ALL_405},
    "interop:fhir_value_set": {"GET": ALL_OK, "POST": ALL_405},
    # FHIR extension definitions (issue 7), public like the code systems. The matrix's name is
    # a code system's (prolotrack-site), no extension's: 404 for everyone, signed in or not;
    # tests/interop/test_fhir_extensions.py fetches each extension (200).
    "interop:fhir_structure_definition": {
        "GET": "404 404 404 404 404 404 404 404 404 404",
        "POST": ALL_405,
    },
    # -- outcomes (outcomes.views): the dashboard is the clinic's aggregates, for its
    # practitioners, administrators and auditors; the progress page is clinical --------------
    "outcomes:dashboard": {"GET": "login 403 ok ok ok 403 ok ok ok ok", "POST": ALL_405},
    "outcomes:export": {"GET": "login 403 ok ok ok 403 ok ok ok ok", "POST": ALL_405},
    "outcomes:progress": {"GET": "login 403 ok ok ok 403 403 403 404 403", "POST": ALL_405},
    # -- the dashboard's breakdown table (outcomes.views.dashboard_breakdown), loaded after the
    # page: the dashboard's roles, each for their own clinic's aggregates ------------------
    "outcomes:breakdown": {"GET": "login 403 ok ok ok 403 ok ok ok ok", "POST": ALL_405},
    # -- the clinic's outcome report (PDF, interop.clinic_report_views): the dashboard's
    # roles, each for their own clinic's aggregates; a POST (the empty form: no filters) ------
    "outcomes:report": {"GET": ACCOUNT_405, "POST": "login 403 ok ok ok 403 ok ok ok ok"},
    # -- API tokens: revoking one is the administrators' too --------------------------------
    "api-tokens:revoke": {
        "GET": ACCOUNT_405,
        "POST": "login 403 403 403 403 403 ok 403 403 403",
    },
    # -- API operations: session cookie; practitioners of any clinic ------------------------
    "POST /api/v1/plans/check": {"POST": "login 403 ok ok ok 403 403 403 ok ok"},
    # -- API: patients (api.patients): the clinic's staff; a patient reads their own record;
    # a practitioner outside the care must break the glass ---------------------------------
    "GET /api/v1/patients": {"GET": "login 403 ok ok ok ok ok 403 ok ok"},
    "POST /api/v1/patients": {"POST": "login 403 ok ok ok ok ok 403 ok ok"},
    "GET /api/v1/patients/{patient_id}": {"GET": "login ok ok ok ok ok ok 403 404 403"},
    "PATCH /api/v1/patients/{patient_id}": {"PATCH": "login 403 ok ok ok ok ok 403 404 403"},
    # -- API: clinical records (api.patients, api.treatment, api.outcomes) -----------------
    "GET /api/v1/patients/{patient_id}/conditions": {"GET": API_CLINICAL},
    "POST /api/v1/patients/{patient_id}/conditions": {"POST": API_CLINICAL},
    "GET /api/v1/patients/{patient_id}/series": {"GET": API_CLINICAL},
    "POST /api/v1/patients/{patient_id}/series": {"POST": API_CLINICAL},
    "GET /api/v1/patients/{patient_id}/sessions": {"GET": API_CLINICAL},
    "GET /api/v1/patients/{patient_id}/outcomes": {"GET": API_CLINICAL},
    "GET /api/v1/series/{series_id}": {"GET": API_CLINICAL},
    "GET /api/v1/series/{series_id}/sessions": {"GET": API_CLINICAL},
    "POST /api/v1/series/{series_id}/sessions": {"POST": API_CLINICAL},
    "POST /api/v1/series/{series_id}/sessions/findings": {"POST": API_CLINICAL},
    "GET /api/v1/sessions/{session_id}": {"GET": API_CLINICAL},
    # The physician signs the session; the next practitioners find it signed.
    "POST /api/v1/sessions/{session_id}/sign": {"POST": "login 403 ok 409 409 403 403 403 404 403"},
    "POST /api/v1/sessions/{session_id}/amendments": {"POST": API_CLINICAL},
    "GET /api/v1/sessions/{session_id}/adverse-events": {"GET": API_CLINICAL},
    "POST /api/v1/sessions/{session_id}/adverse-events": {"POST": API_CLINICAL},
    # Everything about the patient as FHIR: practitioners in the care, and the patient's own.
    "GET /api/v1/fhir/Patient/{patient_id}/$everything": {
        "GET": "login ok ok ok ok 403 403 403 404 403"
    },
    # -- API: the patient diary (api.diary) ---------------------------------------------------
    # A patient's diary entries: clinical records, read-only, as the chart's diary page.
    "GET /api/v1/patients/{patient_id}/diary-entries": {"GET": API_CLINICAL},
    "GET /api/v1/patients/{patient_id}/diary-entries/{entry_id}": {"GET": API_CLINICAL},
    # The clinic's alert board, as its page: every practitioner of the clinic, in the care or
    # not; other roles 403 (patients too: the API says so); another clinic's physician reads
    # their own clinic's board and gets 404 for this clinic's alert. The physician
    # acknowledges the alert; the practitioners after find it acknowledged.
    "GET /api/v1/alerts": {"GET": "login 403 ok ok ok 403 403 403 ok ok"},
    "GET /api/v1/alerts/{alert_id}": {"GET": "login 403 ok ok ok 403 403 403 404 ok"},
    "POST /api/v1/alerts/{alert_id}/acknowledge": {
        "POST": "login 403 ok 409 409 403 403 403 404 409"
    },
}

# A session time no safety rule remarks on, two weeks after the fixture's sessions (and past).
LATER = "2026-11-16T09:30:00-08:00"
_chart_numbers = itertools.count(1)


# A body function gets the URL's values and ``post(path, data)``, which posts JSON as the same
# client.
Post = Callable[[str, Any], Any]


def _new_patient(values: dict[str, Any], post: Post) -> dict[str, Any]:
    """A new patient, with a chart number of its own for each request."""
    number = f"M-{next(_chart_numbers):04d}"
    return {
        "chart_number": number,
        "given_name": "Mo",
        "family_name": "Trix",
        "birth_date": "1990-01-01",
    }


def _patient_change(values: dict[str, Any], post: Post) -> dict[str, Any]:
    """A change of phone number, with the version the record has now."""
    version = Patient._base_manager.get(pk=values["patient_id"]).version
    return {"version": version, "phone": "604 555 0100"}


def _acknowledged_session(values: dict[str, Any], post: Post) -> dict[str, Any]:
    """A session with the cautions acknowledged as the page does: the key read from the
    findings operation (the sessions saved by the practitioners before draw cautions)."""
    plan = {"performed_at": LATER, "injections": []}
    findings = post(f"/api/v1/series/{values['series_id']}/sessions/findings", plan)
    key = findings.json()["warnings_key"] if findings.status_code == 200 else ""
    return {**plan, "pain_before": 5, "acknowledge": key}


# The body each API operation is sent (JSON), or a function of the URL's values that makes it;
# an operation not listed gets {}. Each is valid, so what refuses a role is its rights.
API_BODIES: dict[str, Any | Callable[[dict[str, Any], Post], Any]] = {
    "POST /api/v1/plans/check": plan_data(),
    "POST /api/v1/patients": _new_patient,
    "PATCH /api/v1/patients/{patient_id}": _patient_change,
    "POST /api/v1/patients/{patient_id}/conditions": {"code": "knee_problems", "region": "knee"},
    "POST /api/v1/patients/{patient_id}/series": {
        "modality": "neural",
        "region": "knee",
        "planned_sessions": 6,
        "planned_interval_days": 7,
        "started_on": "2026-11-01",
    },
    "POST /api/v1/series/{series_id}/sessions/findings": {"performed_at": LATER, "injections": []},
    "POST /api/v1/series/{series_id}/sessions": _acknowledged_session,
    "POST /api/v1/sessions/{session_id}/amendments": {"text": "Left knee, not right."},
    "POST /api/v1/sessions/{session_id}/adverse-events": {
        "category": "local_pain_flare",
        "onset": "2026-11-03",
    },
    # The patient diary (api.diary): acknowledging an alert.
    "POST /api/v1/alerts/{alert_id}/acknowledge": {"note": "Called the patient; seen today."},
}

# Operations whose path argument takes another of Actors.url_values: amending needs a signed
# session.
API_ARGUMENTS: dict[str, dict[str, str]] = {
    "POST /api/v1/sessions/{session_id}/amendments": {"session_id": "signed_session_id"},
}

# Where a new route or operation gets its entry, for the failure messages.
WHERE = "tests/security/matrix.py (MATRIX)"


def expected(key: str, method: str) -> dict[str, str]:
    """Role -> outcome for one entry's method."""
    cells = MATRIX[key][method].split()
    assert len(cells) == len(ROLES), f"{key} {method}: {len(cells)} cells for {len(ROLES)} roles"
    return dict(zip(ROLES, cells, strict=True))


def triples() -> list[tuple[str, str, str]]:
    """Every (entry, method, role) of the table."""
    return [
        (key, method, role)
        for key, methods in MATRIX.items()
        for method in methods
        for role in ROLES
    ]


def entries() -> list[tuple[str, str]]:
    """Every (entry, method) of the table."""
    return [(key, method) for key, methods in MATRIX.items() for method in methods]
