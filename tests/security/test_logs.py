"""T18: no secret and no health information in the logs, and no forged log lines.

Everything the project and Django log at DEBUG is captured while a practitioner signs in (both
steps), someone fails to sign in, a session is charted, a page fails with a 500 and requests
carry CR/LF in their paths; then the records are searched for the password, the one-time code,
the session key, the CSRF token, the patient's names and birth date.
"""

from __future__ import annotations

import logging

import pytest
from django.test import Client
from django.urls import re_path, reverse

from prolotrack import urls as root_urls
from prolotrack.accounts.otp import current_code
from tests.conftest import PASSWORD, second_factor_device
from tests.treatment.charting_helpers import post_acknowledged, session_post

FORGED = "FORGED-LOG-LINE"


def boom(request):
    raise RuntimeError("the view failed")


# Any path under /boom/, CR and LF included (a path converter stops at a line break).
urlpatterns = [*root_urls.urlpatterns, re_path(r"^boom/", boom)]


@pytest.fixture
def logs(caplog, settings):
    settings.DEBUG = False
    for name in ("", "django", "prolotrack", "axes", "django_otp"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def text_of(record: logging.LogRecord) -> str:
    """The record as a handler would write it, traceback included."""
    return logging.Formatter("%(name)s %(levelname)s %(message)s").format(record)


def test_no_secret_or_phi_is_logged_and_no_line_is_forged(actors, logs, settings):
    world = actors.world
    user = world.physician
    secrets = []

    # Signing in, both steps, as a person does; then failing to.
    client = Client()
    page = client.get(reverse("login"))
    secrets.append(client.cookies[settings.CSRF_COOKIE_NAME].value)
    secrets.append(str(page.context["csrf_token"]))
    response = client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    code = current_code(second_factor_device(user))
    response = client.post(reverse("accounts:second_factor"), {"code": code, "next": "/"})
    assert response.status_code == 302
    secrets += [PASSWORD, code, client.session.session_key]
    wrong = "not-the-password-Z9q"
    response = Client().post(reverse("login"), {"username": user.username, "password": wrong})
    assert response.status_code == 200
    secrets.append(wrong)

    # Charting a session with the patient's names in its note.
    patient = world.patient
    note = f"Seen with {patient.given_name} {patient.family_name}"
    url = reverse("treatment:session_new", args=[world.series.pk])
    response = post_acknowledged(client, url, session_post(notes=note))
    assert response.status_code == 302

    # A page that fails, at a path with CR/LF in it; a 404 and a 403 likewise.
    settings.ROOT_URLCONF = __name__
    client.raise_request_exception = False
    forged = f"/boom/x%0D%0A{FORGED}%0A"
    assert client.get(forged).status_code == 500
    assert client.get(f"/nowhere/%0D%0A{FORGED}").status_code == 404
    assert Client().get(f"/patients/%0D%0A{FORGED}/").status_code in (302, 404)

    records = logs.records
    # The capture works: the 500 and the forged paths were logged.
    assert any("unhandled error" in r.getMessage() for r in records)
    assert any(FORGED in r.getMessage() for r in records)
    phi = [patient.given_name, patient.family_name, patient.chart_number]
    phi += [patient.birth_date.isoformat(), patient.birth_date.strftime("%d/%m/%Y")]
    for record in records:
        text = text_of(record)
        found = [s for s in [*secrets, *phi, note] if s and s in text]
        assert not found, f"{record.name}: {found} in {text[:300]!r}"
        message = record.getMessage()
        if FORGED in message:
            # The user's CR/LF are written encoded: the forged text stays on the same line.
            assert "\r" not in message and "\n" not in message, repr(message)
