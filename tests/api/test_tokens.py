"""API tokens: stored hashed, shown once, created and revoked by a clinic admin or the CLI."""

from __future__ import annotations

import hashlib
import io

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError

from prolotrack.accounts.models import Role
from prolotrack.api.models import ApiToken
from prolotrack.api.tokens import token_authenticate, token_create, token_revoke
from tests.api.conftest import ApiClient, error_of, token_for
from tests.conftest import make_user

PAGE = "/api/tokens/"


def test_it_stores_only_the_sha256_of_the_secret(world):
    token, secret = token_create(
        clinic=world.clinic, name="Lab", user=world.physician, read_only=True, created_by=None
    )
    assert secret.startswith(f"ptk_{token.prefix}_")
    assert len(secret) >= 40
    stored = ApiToken.objects.get(pk=token.pk)
    assert stored.secret_sha256 == hashlib.sha256(secret.encode()).hexdigest()
    row = ApiToken.objects.filter(pk=token.pk).values()[0]
    assert secret not in {str(v) for v in row.values()}


def test_each_token_is_different(world):
    secrets = {token_for(world.physician) for _ in range(5)}
    assert len(secrets) == 5


def test_it_authenticates_the_secret_and_records_its_use(world):
    secret = token_for(world.physician)
    found = token_authenticate(secret)
    assert found is not None and found.user == world.physician
    assert ApiToken.objects.get(pk=found.pk).last_used_at is not None


@pytest.mark.parametrize(
    "mangle",
    [
        lambda s: s[:-1] + ("A" if s[-1] != "A" else "B"),
        lambda s: s.upper(),
        lambda s: s[4:],
        lambda s: "",
        lambda s: s + " ",
    ],
)
def test_a_changed_secret_does_not_authenticate(world, mangle):
    secret = token_for(world.physician)
    assert token_authenticate(mangle(secret)) is None


def test_a_revoked_token_or_a_deactivated_user_no_longer_authenticates(world):
    token, secret = token_create(
        clinic=world.clinic, name="Lab", user=world.physician, read_only=True, created_by=None
    )
    token_revoke(token=token)
    assert token_authenticate(secret) is None
    _, other = token_create(
        clinic=world.clinic, name="Lab 2", user=world.nurse, read_only=True, created_by=None
    )
    world.nurse.is_active = False
    world.nurse.save(update_fields=["is_active"])
    assert token_authenticate(other) is None


@pytest.mark.parametrize("role", ["patient", "other_clinic_physician"])
def test_a_token_acts_only_as_staff_of_its_clinic(world, role):
    with pytest.raises(ValidationError) as caught:
        token_create(
            clinic=world.clinic, name="x", user=world.roles[role], read_only=True, created_by=None
        )
    assert "user" in caught.value.message_dict


def test_only_a_clinic_admin_creates_tokens(world):
    with pytest.raises(ValidationError) as caught:
        token_create(
            clinic=world.clinic,
            name="x",
            user=world.physician,
            read_only=True,
            created_by=world.front_desk,
        )
    assert "created_by" in caught.value.message_dict


# The page -----------------------------------------------------------------------------------


def test_the_admin_creates_a_token_and_sees_its_secret_once(world, audit_log):
    client = world.client_for(world.admin)
    mark = audit_log.mark()
    response = client.post(
        PAGE, {"name": "Lab results import", "user": world.front_desk.pk, "read_only": "on"}
    )
    assert response.status_code == 200
    token = ApiToken.objects.get(name="Lab results import")
    assert (token.user, token.read_only, token.created_by) == (world.front_desk, True, world.admin)
    body = response.content.decode()
    start = body.index('<code id="new-token">') + len('<code id="new-token">')
    secret = body[start : body.index("</code>", start)]
    assert token_authenticate(secret) == token
    [event] = audit_log.since(mark)
    assert (event.action, event.object_type, event.object_id) == (
        "create",
        "api_token",
        str(token.pk),
    )
    assert secret not in str(event.detail)
    # The list shows the prefix, never the secret again.
    again = client.get(PAGE).content.decode()
    assert token.prefix in again and secret not in again


@pytest.mark.parametrize("role", ["physician", "naturopathic_doctor", "nurse_practitioner"])
def test_an_admin_cannot_mint_a_practitioners_clinical_access(world, role):
    with pytest.raises(ValidationError) as caught:
        token_create(
            clinic=world.clinic,
            name="x",
            user=world.roles[role],
            read_only=True,
            created_by=world.admin,
        )
    assert "user" in caught.value.message_dict
    client = world.client_for(world.admin)
    response = client.post(PAGE, {"name": "x", "user": world.roles[role].pk})
    assert response.status_code == 400
    assert not ApiToken.objects.exists()


def test_the_page_refuses_a_token_acting_as_another_clinics_user(world):
    client = world.client_for(world.admin)
    response = client.post(PAGE, {"name": "x", "user": world.other_physician.pk})
    assert response.status_code == 400
    assert not ApiToken.objects.exists()


def test_the_admin_revokes_a_token(world):
    token, secret = token_create(
        clinic=world.clinic, name="Lab", user=world.physician, read_only=True, created_by=None
    )
    client = world.client_for(world.admin)
    response = client.post(f"{PAGE}{token.pk}/revoke/")
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert ApiClient(secret).get("/patients").status_code == 401


@pytest.mark.parametrize("role", ["physician", "front_desk", "patient"])
def test_only_clinic_admins_open_the_token_page(world, role):
    client = world.client_for(world.roles[role])
    assert client.get(PAGE).status_code == 403
    assert client.post(PAGE, {"name": "x", "user": world.physician.pk}).status_code == 403
    assert not ApiToken.objects.exists()


def test_another_clinics_admin_cannot_revoke_the_token(world):
    token, _ = token_create(
        clinic=world.clinic, name="Lab", user=world.physician, read_only=True, created_by=None
    )
    other_admin = make_user(world.other_clinic, "otheradmin", Role.CLINIC_ADMIN)
    response = world.client_for(other_admin).post(f"{PAGE}{token.pk}/revoke/")
    assert response.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_the_token_page_needs_sign_in(client, db):
    assert client.get(PAGE).status_code == 302


# The command --------------------------------------------------------------------------------


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("api_token", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_the_command_creates_lists_and_revokes(world):
    name = world.clinic.name
    out, err = run("create", "--clinic", name, "--name", "Registry", "--user", "drphys")
    secret = out.strip()
    token = token_authenticate(secret)
    assert token is not None and token.read_only and token.created_by is None
    assert "shown only this once" in err
    listed, _ = run("list", "--clinic", name)
    assert token.prefix in listed and secret not in listed and "active" in listed
    run("revoke", "--clinic", name, f"ptk_{token.prefix}")
    assert token_authenticate(secret) is None
    listed, _ = run("list", "--clinic", name)
    assert "revoked" in listed


def test_the_command_creates_a_writing_token_only_when_asked(world):
    out, _ = run(
        "create", "--clinic", world.clinic.name, "--name", "Sync", "--user", "drphys", "--write"
    )
    assert token_authenticate(out.strip()).read_only is False


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["create", "--clinic", "Nowhere", "--name", "x", "--user", "drphys"], "--clinic"),
        (
            ["create", "--clinic", "Harbour Prolotherapy", "--name", "x", "--user", "otherdoc"],
            "--user",
        ),
        (["create", "--clinic", "Harbour Prolotherapy", "--name", "x", "--user", "pat"], "--user"),
        (["revoke", "--clinic", "Harbour Prolotherapy", "ptk_00000000"], "no token"),
    ],
)
def test_the_command_names_what_is_wrong(world, args, message):
    with pytest.raises(CommandError, match=message):
        run(*args)


def test_the_cli_knows_the_dashed_name():
    from prolotrack.cli import ALIASES

    assert ALIASES["api-token"] == "api_token"


def test_an_unknown_token_answers_401_in_the_error_shape(db):
    response = ApiClient("ptk_00000000_nope").get("/patients")
    assert response.status_code == 401
    assert error_of(response)["code"] == "unauthenticated"
