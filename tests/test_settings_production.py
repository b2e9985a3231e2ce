"""Production mode (PROLOTRACK_PRODUCTION=True): the deployment checks pass (RELIABILITY.md T1)
and the cookies carry every flag (T3).

The settings module reads the environment once, at import, so each mode is loaded in a fresh
interpreter; the cookie tests then run the real middleware with the values it produced.
"""

from __future__ import annotations

import json
import os
import secrets
import string
import subprocess
import sys

import pytest
from django.test import Client
from django.urls import reverse

from prolotrack.accounts.otp import current_code
from tests.conftest import PASSWORD, second_factor_device

SECURITY_SETTINGS = [
    "DEBUG",
    "PRODUCTION",
    "SESSION_COOKIE_SECURE",
    "SESSION_COOKIE_HTTPONLY",
    "SESSION_COOKIE_SAMESITE",
    "SESSION_COOKIE_NAME",
    "SESSION_COOKIE_PATH",
    "SESSION_COOKIE_DOMAIN",
    "SESSION_COOKIE_AGE",
    "CSRF_COOKIE_SECURE",
    "CSRF_COOKIE_SAMESITE",
    "CSRF_COOKIE_NAME",
    "CSRF_COOKIE_PATH",
    "CSRF_COOKIE_DOMAIN",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_SSL_REDIRECT",
    "SECURE_PROXY_SSL_HEADER",
    "SILENCED_SYSTEM_CHECKS",
    "WHITENOISE_USE_FINDERS",
]

DUMP = f"""
import json
from django.conf import settings
print(json.dumps({{name: getattr(settings, name) for name in {SECURITY_SETTINGS!r}}}))
"""


def secret_key() -> str:
    alphabet = string.ascii_letters + string.digits + string.punctuation
    return "".join(secrets.choice(alphabet) for _ in range(60))


def production_env(tmp_path, **extra: str) -> dict[str, str]:
    # Nothing of the test run's own configuration: the browser tests, for one, allow Django's
    # async-unsafe calls through the environment, which the deployment check rightly refuses.
    inherited = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("DJANGO_", "PROLOTRACK_"))
    }
    return {
        **inherited,
        "PROLOTRACK_DATA_DIR": str(tmp_path),
        "DATABASE_URL": "",
        "PROLOTRACK_PRODUCTION": "True",
        "PROLOTRACK_SECRET_KEY": secret_key(),
        "PROLOTRACK_ALLOWED_HOSTS": "clinic.example",
        **extra,
    }


def prolotrack(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "prolotrack", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def settings_under(env: dict[str, str]) -> dict[str, object]:
    result = prolotrack("shell", "--no-imports", "-c", DUMP, env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def production(tmp_path_factory) -> dict[str, object]:
    return settings_under(production_env(tmp_path_factory.mktemp("production")))


def test_the_deployment_check_passes_with_no_warnings(tmp_path):
    env = production_env(tmp_path)
    result = prolotrack("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout
    assert "WARNING" not in result.stderr


def test_the_deployment_check_fails_outside_production_mode(tmp_path):
    env = production_env(tmp_path, PROLOTRACK_PRODUCTION="False")
    result = prolotrack("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode != 0
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in result.stderr


def test_production_mode_switches_on_every_protection(production):
    assert production["DEBUG"] is False
    assert production["SESSION_COOKIE_SECURE"] is True
    assert production["CSRF_COOKIE_SECURE"] is True
    assert production["SESSION_COOKIE_NAME"] == "__Host-sessionid"
    assert production["CSRF_COOKIE_NAME"] == "__Host-csrftoken"
    assert production["SECURE_HSTS_SECONDS"] == 31_536_000
    assert production["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert production["SECURE_HSTS_PRELOAD"] is True
    assert production["SECURE_SSL_REDIRECT"] is True
    assert production["SECURE_PROXY_SSL_HEADER"] is None
    assert production["SESSION_COOKIE_AGE"] == 12 * 60 * 60
    assert production["WHITENOISE_USE_FINDERS"] is False


def test_it_is_off_by_default(tmp_path):
    env = {**production_env(tmp_path), "PROLOTRACK_PRODUCTION": ""}
    values = settings_under(env)
    assert values["PRODUCTION"] is False
    assert values["SESSION_COOKIE_NAME"] == "sessionid"
    assert values["SESSION_COOKIE_SECURE"] is False
    assert values["SECURE_SSL_REDIRECT"] is False
    assert values["SECURE_HSTS_SECONDS"] == 0
    assert values["WHITENOISE_USE_FINDERS"] is True


def test_a_tls_proxy_may_redirect_and_vouch_for_https_itself(tmp_path):
    env = production_env(
        tmp_path, PROLOTRACK_SSL_REDIRECT="False", PROLOTRACK_TRUST_PROXY_HEADER="True"
    )
    values = settings_under(env)
    assert values["SECURE_SSL_REDIRECT"] is False
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert values["SESSION_COOKIE_SECURE"] is True
    result = prolotrack("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"PROLOTRACK_DEBUG": "True"}, "PROLOTRACK_DEBUG must be False when PROLOTRACK_PRODUCTION"),
        ({"PROLOTRACK_SECRET_KEY": ""}, "PROLOTRACK_SECRET_KEY must be set when PROLOTRACK_PROD"),
        ({"PROLOTRACK_PRODUCTION": "yes"}, "PROLOTRACK_PRODUCTION must be True or False"),
        ({"PROLOTRACK_SSL_REDIRECT": "off"}, "PROLOTRACK_SSL_REDIRECT must be True or False"),
    ],
)
def test_it_refuses_to_start_on_a_contradiction(tmp_path, extra, message):
    result = prolotrack("check", env=production_env(tmp_path, **extra))
    assert result.returncode != 0
    assert message in result.stderr


@pytest.fixture
def production_settings(settings, production):
    for name, value in production.items():
        if name == "SECURE_PROXY_SSL_HEADER":
            value = tuple(value) if value else None
        setattr(settings, name, value)
    return settings


def cookie_flags(response, name: str) -> dict[str, object]:
    morsel = response.cookies[name]
    return {
        "secure": morsel["secure"],
        "httponly": morsel["httponly"],
        "samesite": morsel["samesite"],
        "path": morsel["path"],
        "domain": morsel["domain"],
    }


def test_production_cookies_are_host_only_secure_and_same_site(production_settings, world):
    client = Client(enforce_csrf_checks=True)
    login = reverse("login")
    page = client.get(login, secure=True)
    assert page.status_code == 200
    assert cookie_flags(page, "__Host-csrftoken") == {
        "secure": True,
        "httponly": "",
        "samesite": "Lax",
        "path": "/",
        "domain": "",
    }
    assert "Domain=" not in page.cookies["__Host-csrftoken"].output()
    token = page.context["csrf_token"]

    signed_in = client.post(
        login,
        {"username": world.physician.username, "password": PASSWORD, "csrfmiddlewaretoken": token},
        secure=True,
        headers={"Origin": "https://testserver", "Referer": "https://testserver/login/"},
    )

    assert signed_in.status_code == 302
    assert cookie_flags(signed_in, "__Host-sessionid") == {
        "secure": True,
        "httponly": True,
        "samesite": "Lax",
        "path": "/",
        "domain": "",
    }
    assert signed_in.cookies["__Host-sessionid"]["max-age"] == 12 * 60 * 60
    assert "sessionid" not in signed_in.cookies and "csrftoken" not in signed_in.cookies
    # The second step renews the session id: its cookie carries the same flags.
    device = second_factor_device(world.physician)
    step = client.get(signed_in["Location"], secure=True)
    verified = client.post(
        signed_in["Location"],
        {
            "code": current_code(device),
            "csrfmiddlewaretoken": step.context["csrf_token"],
        },
        secure=True,
        headers={"Origin": "https://testserver", "Referer": "https://testserver/login/"},
    )
    assert verified.status_code == 302
    assert cookie_flags(verified, "__Host-sessionid")["secure"] is True
    assert cookie_flags(verified, "__Host-sessionid")["httponly"] is True
    assert client.get(reverse("patients:list"), secure=True).status_code == 200


def test_production_sends_hsts_and_redirects_plain_http(production_settings, db):
    client = Client()
    secure = client.get(reverse("login"), secure=True)
    assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    plain = client.get(reverse("login"))
    assert plain.status_code == 301
    assert plain["Location"] == "https://testserver/login/"
