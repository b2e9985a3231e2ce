"""A restored installation keeps its staff's second-factor devices (else nobody could sign in)."""

from __future__ import annotations

from io import StringIO

from django.core.management import call_command
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from prolotrack.accounts.otp import current_code
from prolotrack.ops.backup import backup_create
from tests.accounts.conftest import sign_in
from tests.conftest import pass_second_factor, second_factor_device


def test_backup_and_restore_keep_the_totp_devices(transactional_db, world, tmp_path, clock):
    device = second_factor_device(world.physician)
    pass_second_factor(Client(), world.physician)  # moves last_t: the replay guard is kept too
    device.refresh_from_db()
    saved = (device.key, device.confirmed, device.last_t, device.user_id)
    path = tmp_path / "clinic.tar"
    backup_create(path)
    call_command("flush", interactive=False, verbosity=0)
    assert not TOTPDevice.objects.exists()

    call_command("restore", str(path), stdout=StringIO())

    restored = TOTPDevice.objects.get()
    assert (restored.key, restored.confirmed, restored.last_t, restored.user_id) == saved
    # The user signs in with the app they already have (a minute on: a fresh code).
    clock.advance(minutes=1)
    client = Client()
    sign_in(client, world.physician)
    response = client.post("/account/second-factor/", {"code": current_code(restored)})
    assert response.status_code == 302
    assert client.get("/patients/").status_code == 200
