"""The landing page after sign-in depends on the role; the Audit link shows to its readers only."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from prolotrack.accounts.models import Role
from tests.conftest import PASSWORD, make_user, pass_second_factor


def test_signed_out_visitors_are_sent_to_sign_in(db):
    response = Client().get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(
    ("role", "landing"),
    [
        ("physician", "patients:list"),
        ("nurse_practitioner", "patients:list"),
        ("front_desk", "patients:list"),
        ("clinic_admin", "patients:list"),
        ("auditor", "audit:list"),
    ],
)
def test_sign_in_lands_on_the_roles_page(world, role, landing):
    user = make_user(world.clinic, "lander", role)
    client = Client()
    response = client.post(reverse("login"), {"username": "lander", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:second_factor") + "?next=%2F"
    response = pass_second_factor(client, user, next_url="/")
    assert response.status_code == 302 and response["Location"] == reverse("home")
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response["Location"] == reverse(landing)


def test_a_patient_lands_on_their_diary(world):
    response = world.client_for(world.patient_user).get(reverse("home"))
    assert response.status_code == 302 and response["Location"] == reverse("diary:today")


@pytest.mark.parametrize(
    ("role", "shown"),
    [("physician", False), ("front_desk", False), ("clinic_admin", True), ("auditor", True)],
)
def test_the_audit_link_shows_to_admins_and_auditors_only(world, role, shown):
    user = make_user(world.clinic, "viewer", role)
    page = Client()
    page.force_login(user)
    landing = "audit:list" if role == Role.AUDITOR else "patients:list"
    html = page.get(reverse(landing)).content.decode()
    assert (f'href="{reverse("audit:list")}">Audit</a>' in html) is shown
