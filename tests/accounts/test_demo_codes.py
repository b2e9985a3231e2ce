"""The demo's way through the second factor: printed secrets, and codes shown by its server only."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from prolotrack.accounts.otp import current_code, secret_text
from prolotrack.demo.management.commands import demo as demo_command
from tests.accounts.conftest import sign_in
from tests.conftest import second_factor_device
from tests.test_settings_production import production_env, prolotrack

SECOND = reverse("accounts:second_factor")


def demo_code_on_page(client: Client) -> str | None:
    match = re.search(r"data-demo-code>(\d{6})<", client.get(SECOND).content.decode())
    return match.group(1) if match else None


def test_the_code_page_shows_the_current_code_under_a_demo_banner_when_switched_on(world, settings):
    settings.DEMO_SHOW_CODES = True
    device = second_factor_device(world.physician)
    client = Client()
    sign_in(client, world.physician)
    assert b"Demo only." in client.get(SECOND).content
    code = demo_code_on_page(client)
    assert code == current_code(device)
    assert client.post(SECOND, {"code": code}).status_code == 302


def test_the_code_is_not_shown_by_default(world):
    second_factor_device(world.physician)
    client = Client()
    sign_in(client, world.physician)
    assert demo_code_on_page(client) is None
    assert b"Demo only." not in client.get(SECOND).content


def test_the_code_is_never_shown_in_production_even_when_switched_on(world, settings):
    settings.DEMO_SHOW_CODES = True
    settings.PRODUCTION = True
    second_factor_device(world.physician)
    client = Client()
    sign_in(client, world.physician)
    assert demo_code_on_page(client) is None


def test_production_settings_refuse_demo_codes(tmp_path):
    result = prolotrack("check", env=production_env(tmp_path, PROLOTRACK_DEMO_SHOW_CODES="True"))
    assert result.returncode != 0
    assert "PROLOTRACK_DEMO_SHOW_CODES must be False when PROLOTRACK_PRODUCTION" in result.stderr


@pytest.mark.django_db
def test_the_demo_prints_each_logins_totp_secret_and_keeps_it_across_runs():
    out = StringIO()
    call_command("demo", "--no-serve", "--patients", "3", stdout=out)
    devices = {d.user.username: d for d in TOTPDevice.objects.select_related("user")}
    assert set(devices) == {"physician", "naturopath", "nurse", "frontdesk", "clinicadmin"}
    assert all(d.confirmed for d in devices.values())
    printed = out.getvalue()
    for name, device in devices.items():
        assert secret_text(device) in printed
        assert f"{name}: otpauth://totp/prolotrack%3A{name}?secret=" in printed
    assert "DEMO ONLY" in printed
    call_command("demo", "--no-serve", "--patients", "3", stdout=StringIO())
    assert {d.pk for d in TOTPDevice.objects.all()} == {d.pk for d in devices.values()}


@pytest.mark.django_db
def test_only_the_demo_server_switches_the_codes_on(monkeypatch, settings):
    settings.DEMO_SHOW_CODES = False
    seen = {}

    def fake_call_command(name, *args, **kwargs):
        if name == "runserver":
            seen["show"] = settings.DEMO_SHOW_CODES
        else:
            call_command(name, *args, **kwargs)

    monkeypatch.setattr(demo_command, "call_command", fake_call_command)
    call_command("demo", "--patients", "2", stdout=StringIO())
    assert seen == {"show": True}
    settings.DEMO_SHOW_CODES = False
    settings.PRODUCTION = True
    call_command("demo", "--patients", "2", stdout=StringIO())
    assert seen == {"show": False}
