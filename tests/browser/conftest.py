"""Real-browser tests: Playwright drives Debian's Chromium (never a downloaded browser).

Without Chromium these tests are skipped on a developer's machine, but CI sets
PROLOTRACK_REQUIRE_BROWSER=True so that a missing browser fails the run instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("PROLOTRACK_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def _browser_required() -> bool:
    return os.environ.get("PROLOTRACK_REQUIRE_BROWSER", "").lower() == "true"


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    # Playwright's sync API runs an event loop in this thread while it is open; the ORM calls
    # a test makes for set-up and assertions happen between browser steps, never concurrently
    # with them. The browser, its loop and this permission last one module only, so that later
    # tests (and their subprocesses) run in a plain synchronous context.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        yield from _launch()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def _launch() -> Iterator[object]:
    if not CHROMIUM.exists():
        message = f"Chromium not found at {CHROMIUM}: install Debian's chromium package"
        if _browser_required():
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def sign_in_through_form(page: object, live_server: object, user: object, password: str) -> None:
    """Sign in as a person does: the password, then (staff) the code of their authenticator
    app, read here from the device the test gives them."""
    from prolotrack.accounts.otp import current_code
    from tests.conftest import second_factor_device

    device = second_factor_device(user) if user.needs_second_factor else None  # type: ignore[attr-defined]
    page.goto(live_server.url + "/")  # type: ignore[attr-defined]
    page.fill("#id_username", user.username)  # type: ignore[attr-defined]
    page.fill("#id_password", password)  # type: ignore[attr-defined]
    page.click("button[type=submit]")  # type: ignore[attr-defined]
    if device is not None:
        page.wait_for_url("**/account/second-factor/?**")  # type: ignore[attr-defined]
        page.fill("#id_code", current_code(device))  # type: ignore[attr-defined]
        page.click("main button.primary")  # type: ignore[attr-defined]


def screenshot(page: object, name: str) -> Path:
    """Keep a picture of what the user saw, for reviewing a run."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
    return path
