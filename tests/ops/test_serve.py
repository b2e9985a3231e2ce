"""`prolotrack serve`: the site and its static files under waitress, as a deployment runs it."""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

STARTUP_SECONDS = 90


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def environment(data_dir: Path) -> dict[str, str]:
    # Production mode behind a TLS-terminating proxy: the test speaks plain HTTP to the server,
    # as the proxy would.
    # Nothing of the test run's own configuration: the browser tests, for one, allow Django's
    # async-unsafe calls through the environment, which the deployment check rightly refuses.
    inherited = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("DJANGO_", "PROLOTRACK_"))
    }
    return {
        **inherited,
        "PROLOTRACK_DATA_DIR": str(data_dir),
        "DATABASE_URL": "",
        "PROLOTRACK_PRODUCTION": "True",
        "PROLOTRACK_SECRET_KEY": secrets.token_urlsafe(48),
        "PROLOTRACK_SSL_REDIRECT": "False",
    }


def cli(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "prolotrack", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
    )


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 (our own server)
    try:
        with _opener.open(request, timeout=5) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.fixture
def migrated(tmp_path: Path) -> dict[str, str]:
    env = environment(tmp_path / "data")
    result = cli("migrate", "--no-input", env=env)
    assert result.returncode == 0, result.stderr
    return env


@contextlib.contextmanager
def serving(env: dict[str, str], *args: str) -> Iterator[tuple[str, list[str]]]:
    """A running `prolotrack serve`, its base URL, and (after it stops) its output."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "prolotrack", "serve", "--port", str(port), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    output: list[str] = []
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            assert server.poll() is None, server.communicate()
            try:
                get(f"{base}/health/")
                break  # it answers (with a redirect, when it insists on HTTPS)
            except OSError:
                pass
            assert time.monotonic() < deadline, "the server did not answer within 90 s"
            time.sleep(0.2)
        yield base, output
    finally:
        server.terminate()
        out, _ = server.communicate(timeout=10)
        output.append(out)


def test_it_serves_pages_and_long_cached_static_files(migrated):
    with serving(migrated, "--threads", "4") as (base, output):
        status, _, body = get(f"{base}/health/")
        assert (status, body) == (200, b'{"status": "ok"}')

        status, headers, page = get(f"{base}/login/")
        assert status == 200
        assert b"<form" in page
        # No Server header naming the software and its version (RELIABILITY.md T2).
        assert "Server" not in headers
        assert headers["Cache-Control"] == "no-store"

        stylesheet = re.search(rb'href="(/static/[^"]+\.css)"', page)
        assert stylesheet, page
        # Production mode names static files by a hash of their content...
        assert re.fullmatch(rb"/static/prolotrack/app\.[0-9a-f]{12}\.css", stylesheet[1])
        status, headers, css = get(base + stylesheet[1].decode())
        assert status == 200
        assert headers["Content-Type"].startswith("text/css")
        assert css.strip()
        # ...so browsers may keep them for a long time (at least a year).
        max_age = int(re.search(r"max-age=(\d+)", headers["Cache-Control"])[1])
        assert max_age >= 365 * 24 * 60 * 60
        assert "immutable" in headers["Cache-Control"]
    assert "serving on http://127.0.0.1:" in output[0]
    assert "(4 threads, production mode)" in output[0]


def test_it_believes_the_https_header_only_from_the_trusted_proxy(migrated):
    env = {**migrated, "PROLOTRACK_SSL_REDIRECT": "True", "PROLOTRACK_TRUST_PROXY_HEADER": "True"}
    with serving(env, "--trusted-proxy", "127.0.0.1") as (base, _):
        forwarded = get(f"{base}/login/", headers={"X-Forwarded-Proto": "https"})
        assert forwarded[0] == 200
        assert forwarded[1]["Strict-Transport-Security"].startswith("max-age=31536000")
        plain = get(f"{base}/login/")
        assert plain[0] == 301
        assert plain[1]["Location"].startswith("https://")
    with serving(env, "--trusted-proxy", "192.0.2.1") as (base, _):
        # From any other address the header is dropped, so the request is plain HTTP.
        assert get(f"{base}/login/", headers={"X-Forwarded-Proto": "https"})[0] == 301


def test_it_refuses_to_start_with_unapplied_migrations(tmp_path):
    env = environment(tmp_path / "data")
    result = cli("serve", "--port", str(free_port()), env=env, timeout=60)
    assert result.returncode != 0
    assert "unapplied migrations" in result.stderr
    assert "Run `prolotrack migrate` first." in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--port", "70000"), "--port must be 1 to 65535"),
        (("--threads", "0"), "--threads must be 1 to 256"),
    ],
)
def test_it_refuses_impossible_options(migrated, args, message):
    result = cli("serve", *args, env=migrated, timeout=60)
    assert result.returncode != 0
    assert message in result.stderr
