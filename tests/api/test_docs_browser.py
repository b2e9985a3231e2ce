"""The interactive API docs work in a real browser under the strict Content-Security-Policy."""

from __future__ import annotations

import pytest

from tests.api.test_openapi import OPERATIONS
from tests.browser.conftest import browser, page  # noqa: F401 - the browser fixtures

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_docs_page_lists_every_operation_with_no_csp_violation(page, live_server):  # noqa: F811
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(f"{live_server.url}/api/v1/docs")
    page.wait_for_selector(".opblock", state="attached")
    assert page.locator(".opblock").count() >= len(OPERATIONS)
    assert page.get_by_text("/api/v1/patients/{patient_id}", exact=True).first.is_visible()
    assert not [p for p in problems if "Content Security Policy" in p or "Refused" in p], problems
    assert not problems, problems
