"""Shared set-up for the charting page tests: sessions in the fixture world and form posts."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from prolotrack.core.charting import InjectionInput, ReadingInput
from prolotrack.treatment import services
from prolotrack.treatment.models import AdverseEvent, AlgometerReading, Injection, Session

# Two bilateral neural sites of the knee (the fixture series is neural, knee).
SAPHENOUS = "n_saphenous_medial_knee"
INFRAPATELLAR = "n_infrapatellar_saphenous"
MIDLINE_SITE = "c_lumbar_interspinous_ligaments"
WHEN = dt.datetime(2026, 11, 2, 17, 30, tzinfo=dt.UTC)  # 09:30 in Vancouver (PST)
CLINICIANS = ("physician", "naturopathic_doctor", "nurse_practitioner")


def record_session(
    world: Any, *, when: dt.datetime = WHEN, signed: bool = False, **changes: Any
) -> Session:
    fields: dict[str, Any] = {
        "series": world.series,
        "practitioner": world.physician,
        "performed_at": when,
        "pain_before": 6,
        "pain_after": 2,
        "notes": "Tender medial knee.",
        "injections": [
            InjectionInput(SAPHENOUS, "left", "subcutaneous", Decimal("0.5"), 27),
            InjectionInput(SAPHENOUS, "right", "subcutaneous", Decimal("0.5"), 27),
        ],
        "readings": [
            ReadingInput(SAPHENOUS, "left", "baseline", Decimal("2.5"), "kg/cm2"),
            ReadingInput(SAPHENOUS, "left", "15min", Decimal("3.5"), "kg/cm2"),
        ],
    }
    fields.update(changes)
    session = services.session_record(**fields)
    if signed:
        session = services.session_sign(session=session, user=world.physician)
    return session


def session_post(**overrides: str) -> dict[str, str]:
    """A valid session form as the browser posts it: two injections, readings in kg/cm2."""
    data = {
        "performed_at": "2026-11-02T09:30",
        "pain_before": "7",
        "pain_after": "3",
        "notes": "Medial knee pain on stairs.",
        "unit": "kg/cm2",
        "injections-0-site": SAPHENOUS,
        "injections-0-side": "left",
        "injections-0-depth": "subcutaneous",
        "injections-0-dextrose_pct": "5",
        "injections-0-lidocaine_pct": "0",
        "injections-0-mannitol_pct": "0",
        "injections-0-volume_ml": "0,5",
        "injections-0-needle_gauge": "27",
        "injections-0-lot": "D5-2291",
        "injections-1-site": INFRAPATELLAR,
        "injections-1-side": "right",
        "injections-1-depth": "subcutaneous",
        "injections-1-dextrose_pct": "5",
        "injections-1-lidocaine_pct": "",
        "injections-1-mannitol_pct": "",
        "injections-1-volume_ml": "1.0",
        "injections-1-needle_gauge": "30",
        "injections-1-lot": "",
        "readings-0-site": SAPHENOUS,
        "readings-0-side": "left",
        "readings-0-baseline": "2,5",
        "readings-0-1min": "3.1",
        "readings-0-15min": "",
        "readings-1-site": INFRAPATELLAR,
        "readings-1-side": "right",
        "readings-1-baseline": "",
        "readings-1-1min": "",
        "readings-1-15min": "4",
        "save": "1",
    }
    data.update(overrides)
    return data


def counts() -> tuple[int, int, int, int]:
    return (
        Session.objects.count(),
        Injection.objects.count(),
        AlgometerReading.objects.count(),
        AdverseEvent.objects.count(),
    )


def findings_url(form_url: str) -> str:
    """The live-findings endpoint of a session form's address (new or edit)."""
    return form_url.replace("/sessions/new/", "/findings/").replace("/edit/", "/findings/")


def acknowledging(client: Any, form_url: str, data: dict[str, str]) -> dict[str, str]:
    """``data`` with its cautions ticked as read, as the practitioner does after reading the
    panel: the checkbox carries the key of the cautions it acknowledges."""
    panel = client.post(findings_url(form_url), data).content.decode()
    match = re.search(r'name="acknowledge" value="([0-9a-f]+)"', panel)
    return {**data, "acknowledge": match.group(1)} if match else dict(data)


def post_acknowledged(client: Any, form_url: str, data: dict[str, str]) -> Any:
    """Save the session form as a practitioner who has read the cautions."""
    return client.post(form_url, acknowledging(client, form_url, data))
