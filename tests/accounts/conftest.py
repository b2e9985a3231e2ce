"""Tools for the sign-in tests: a movable clock, clients at given addresses, signing in."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from prolotrack.accounts.models import User
from tests.conftest import PASSWORD


class Clock:
    """`django.utils.timezone.now()` as the test sets it; moved forward by `advance()`."""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    """Django's time and the TOTP codes' time, moved together."""
    moved = Clock(timezone.now())
    monkeypatch.setattr(timezone, "now", moved)

    def unix_time() -> float:
        return moved.now.timestamp()

    monkeypatch.setattr("django_otp.oath.time", unix_time)
    monkeypatch.setattr("django_otp.plugins.otp_totp.models.time", SimpleNamespace(time=unix_time))
    yield moved


def client_at(address: str) -> Client:
    return Client(REMOTE_ADDR=address)


def sign_in(client: Client, user: User, password: str = PASSWORD, next_url: str = ""):
    data = {"username": user.username, "password": password}
    if next_url:
        data["next"] = next_url
    return client.post(reverse("login"), data)
