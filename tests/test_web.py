from __future__ import annotations

import pytest
from django.urls import path, reverse

from prolotrack import urls as root_urls


def boom(request):
    raise RuntimeError("secret-internal-detail")


@pytest.fixture
def broken_route(settings):
    settings.ROOT_URLCONF = __name__
    settings.DEBUG = False
    yield


urlpatterns = [*root_urls.urlpatterns, path("boom/", boom)]


def test_it_sends_no_store_and_a_strict_csp_on_pages(world):
    response = world.client_for(world.front_desk).get(reverse("patients:list"))
    assert response["Cache-Control"] == "no-store"
    csp = response["Content-Security-Policy"]
    for directive in ("object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"):
        assert directive in csp
    assert "unsafe-inline" not in csp
    assert response["X-Content-Type-Options"] == "nosniff"


def test_it_shows_a_generic_error_page_with_a_reference(client, db, broken_route, caplog):
    client.raise_request_exception = False
    response = client.get("/boom/")
    assert response.status_code == 500
    body = response.content.decode()
    assert "Something went wrong" in body
    assert "secret-internal-detail" not in body and "Traceback" not in body
    reference = body.split("reference: <strong>")[1].split("<")[0]
    assert len(reference) == 12
    assert any(reference in r.getMessage() for r in caplog.records)


def test_the_health_check_answers_without_signing_in(client, db):
    response = client.get(reverse("health"))
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_it_keeps_403_and_404_answers_as_they_are(world, settings):
    settings.DEBUG = False
    c = world.client_for(world.patient_user)
    assert c.get(reverse("patients:list")).status_code == 403
    c = world.client_for(world.front_desk)
    assert c.get(reverse("patients:edit", args=[world.other_patient.pk])).status_code == 404
