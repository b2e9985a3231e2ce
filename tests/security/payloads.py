"""One form post that every write route of the project would accept: the session form, the
patient form, a condition, a series, an adverse event, an amendment, a screening, a care-team
member, a break-glass reason. Each view reads its own fields and ignores the rest, so one
payload tries every route with data that would change something."""

from __future__ import annotations

from typing import Any

from tests.treatment.charting_helpers import session_post

# Fields a client must never set: whose record, which clinic, which version, which rights.
PROTECTED = {
    "clinic": "",
    "clinic_id": "",
    "owner": "",
    "user": "",
    "user_id": "",
    "is_staff": "true",
    "is_superuser": "true",
    "role": "clinic_admin",
    "version": "999",
    "patient": "",
    "patient_id": "",
    "practitioner": "",
    "practitioner_id": "",
    "signed_by": "",
    "signed_at": "2026-01-01T00:00",
    "series": "",
    "series_id": "",
    "created_at": "2001-01-01T00:00",
    "expires_at": "2099-01-01T00:00",
}


def protected_fields(actors: Any) -> dict[str, str]:
    """PROTECTED, pointing at another clinic's records wherever it names one."""
    world = actors.world
    other = {
        "clinic": world.other_clinic.pk,
        "clinic_id": world.other_clinic.pk,
        "owner": world.other_physician.pk,
        "user": world.other_physician.pk,
        "user_id": world.other_physician.pk,
        "patient": world.other_patient.pk,
        "patient_id": world.other_patient.pk,
        "practitioner": world.other_physician.pk,
        "practitioner_id": world.other_physician.pk,
        "signed_by": world.other_physician.pk,
        "series": world.series.pk,
        "series_id": world.series.pk,
    }
    return {**PROTECTED, **{k: str(v) for k, v in other.items()}}


def write_data(actors: Any, text: str = "Changed by the test") -> dict[str, str]:
    """A post that every write route takes, with ``text`` in every free-text field."""
    world = actors.world
    data = session_post(notes=text, **{"injections-0-lot": text[:32]})
    data.update(
        {
            # the patient form
            "chart_number": "A-999",
            "given_name": text,
            "family_name": text,
            "birth_date": "1980-01-01",
            "sex": "male",
            "weight_kg": "81",
            "phone": text[:32],
            "version": str(world.patient.version),
            # a condition, a series, an adverse event, an amendment
            "condition-code": "neck_pain",
            "condition-region": "neck_shoulder",
            "condition-side": "left",
            "series-modality": "neural",
            "series-region": "knee",
            "series-planned_sessions": "6",
            "series-planned_interval_days": "7",
            "series-started_on": "2026-11-01",
            "ae-category": "local_pain_flare",
            "ae-onset": "2026-11-03",
            "ae-notes": text,
            "amend-text": text,
            # the screening, the care team, break-glass, the printed report
            "symptoms": "fever",
            "clinician": str(world.outsider.pk),
            "reason": f"Emergency: {text}",
            "summary": text,
        }
    )
    return data
