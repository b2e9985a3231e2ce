"""``prolotrack.core`` knows medicine and mathematics and never imports Django (STYLE habit 1)."""

from __future__ import annotations

import os
import subprocess
import sys

# Runs in a fresh interpreter: this test process has Django loaded by pytest-django already.
PROBE = """
import importlib, pkgutil, sys
import prolotrack.core
names = [m.name for m in pkgutil.walk_packages(prolotrack.core.__path__, "prolotrack.core.")]
for name in names:
    importlib.import_module(name)
from prolotrack.core.catalog import load_catalog
load_catalog()
django = sorted(m for m in sys.modules if m == "django" or m.startswith("django."))
assert not django, f"prolotrack.core imported {django[:5]}"
print("\\n".join(names))
"""


def test_it_imports_every_core_module_and_loads_the_catalog_without_django() -> None:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, check=False
    )
    assert result.returncode == 0, result.stderr
    imported = set(result.stdout.split())
    # Guard against a probe that silently imports nothing.
    assert {"prolotrack.core.catalog", "prolotrack.core.catalog_loader"} <= imported
    assert "prolotrack.core.data" in imported
