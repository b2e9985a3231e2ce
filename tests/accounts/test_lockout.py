"""Lockout per (username, address) and the per-address rate limit on signing in (T20)."""

from __future__ import annotations

import datetime as dt

from axes.models import AccessAttempt
from django.db.models import F
from django.urls import reverse

from prolotrack.accounts.models import SignInRequest
from prolotrack.audit.models import AuditEvent
from tests.accounts.conftest import client_at, sign_in

IP1, IP2 = "203.0.113.7", "198.51.100.9"
WRONG = "not-the-password-at-all"


def fail(client, user, times: int) -> list[int]:
    return [sign_in(client, user, WRONG).status_code for _ in range(times)]


def test_five_failures_lock_that_username_from_that_address_only(world):
    attacker = client_at(IP1)
    assert fail(attacker, world.physician, 5) == [200, 200, 200, 200, 429]
    # The right password from the locked address is refused too, with a page that says why.
    locked = sign_in(attacker, world.physician)
    assert locked.status_code == 429
    assert b"Sign-in paused for 15 minutes" in locked.content
    assert "_auth_user_id" not in attacker.session
    # The same user at their own desk signs in; another user at the attacker's address too.
    assert sign_in(client_at(IP2), world.physician).status_code == 302
    assert sign_in(client_at(IP1), world.naturopath).status_code == 302
    # Every failure is in the audit trail, with the name tried.
    failed = AuditEvent.objects.filter(action="login_failed", username="drphys")
    assert failed.count() == 6 and {e.source_ip for e in failed} == {IP1}


def test_the_lock_lifts_after_15_minutes(world):
    attacker = client_at(IP1)
    fail(attacker, world.physician, 5)
    # The clock moved: the failures are 14 minutes old, then 15 and a bit.
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - dt.timedelta(minutes=14))
    assert sign_in(attacker, world.physician).status_code == 429
    AccessAttempt.objects.update(
        attempt_time=F("attempt_time") - dt.timedelta(minutes=1, seconds=5)
    )
    assert sign_in(attacker, world.physician).status_code == 302


def test_a_success_clears_the_failures(world):
    client = client_at(IP1)
    assert fail(client, world.physician, 4) == [200] * 4
    assert sign_in(client, world.physician).status_code == 302
    assert not AccessAttempt.objects.exists()
    assert fail(client_at(IP1), world.physician, 4) == [200] * 4


def test_the_21st_attempt_in_a_minute_from_one_address_answers_429(world):
    client = client_at(IP1)
    # Many usernames, none locked: only the address's rate limit can stop this.
    codes = [
        client.post(reverse("login"), {"username": f"guess{i}", "password": WRONG}).status_code
        for i in range(21)
    ]
    assert codes == [200] * 20 + [429]
    refused = client.post(reverse("login"), {"username": "drphys", "password": "x"})
    assert refused.status_code == 429 and refused["Retry-After"] == "60"
    assert b"Too many sign-in attempts" in refused.content
    # Another address is not slowed down; a page view is not an attempt.
    assert sign_in(client_at(IP2), world.physician).status_code == 302
    assert client.get(reverse("login")).status_code == 200
    # A minute later the address may try again.
    SignInRequest.objects.update(at=F("at") - dt.timedelta(seconds=61))
    assert sign_in(client, world.physician).status_code == 302


def test_the_addresses_of_a_proxy_are_believed_only_from_a_trusted_proxy(world, settings):
    settings.AUDIT_TRUSTED_PROXIES = ["10.0.0.1"]
    proxy = client_at("10.0.0.1")
    for _ in range(5):
        proxy.post(
            reverse("login"),
            {"username": "drphys", "password": WRONG},
            HTTP_X_FORWARDED_FOR=IP1,
        )
    # Locked for the client behind the proxy, not for everyone behind it.
    assert AccessAttempt.objects.get().ip_address == IP1
    response = proxy.post(
        reverse("login"),
        {"username": "drphys", "password": "correct-horse-battery-9"},
        HTTP_X_FORWARDED_FOR=IP2,
    )
    assert response.status_code == 302
