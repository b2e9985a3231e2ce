"""Benchmark: bulk FHIR export of a generated clinic, against fhir.resources as the floor.

    uv run python bench/fhir_export.py                      # 1k and 10k patients
    uv run python bench/fhir_export.py --patients 1000

For each size, a synthetic clinic (``core.synth.generate_clinic``) is loaded into a fresh SQLite
database in a temporary data folder; loading is not timed. Then a fresh process (so its peak
memory is the export's, after start-up) runs ``bulk_export``, the function behind
``prolotrack export-fhir``, and reports resources per second and its peak resident memory: flat
memory means the 10k-patient peak is about the 1k-patient one.

The floor: fhir.resources' own speed on the same resources. A third process reads up to
``--floor-resources`` lines of the export and, for each, constructs the R4B model from the
dictionary (validation included) and serializes it to JSON: the least a FHIR export built on
fhir.resources models would spend per resource, before any database work.

One JSON line per run: bench, patients, resources, seconds, resources_per_s, peak_rss_mib,
start_rss_mib (after Django's start-up, before the export) and the floor's resources_per_s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SIZES = (1_000, 10_000)
SEED = 2026
TODAY = dt.date(2026, 11, 20)
CLINIC = "FHIR benchmark"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--patients", type=int, help="One size (default: 1k and 10k).")
    parser.add_argument("--floor-resources", type=int, default=50_000)
    parser.add_argument("--child", choices=("load", "export", "floor"), help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args)
        return
    for patients in (args.patients,) if args.patients else SIZES:
        with tempfile.TemporaryDirectory(prefix="pt-bench-fhir-") as data_dir:
            env = {**os.environ, "PROLOTRACK_DATA_DIR": data_dir}
            env.pop("DATABASE_URL", None)  # SQLite in the temporary folder
            base = [sys.executable, __file__, "--patients", str(patients), "--data-dir", data_dir]
            base += ["--floor-resources", str(args.floor_resources)]
            print(f"loading {patients} patients...", file=sys.stderr)
            subprocess.run([*base, "--child", "load"], env=env, check=True)
            export = _run([*base, "--child", "export"], env)
            floor = _run([*base, "--child", "floor"], env)
            line = {
                "bench": "fhir_export",
                "patients": patients,
                **export,
                "floor_resources": floor["resources"],
                "floor_resources_per_s": floor["resources_per_s"],
                "ratio_to_floor": round(export["resources_per_s"] / floor["resources_per_s"], 2),
                "database": "sqlite",
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "date": dt.date.today().isoformat(),
            }
            print(json.dumps(line), flush=True)


def _run(command: list[str], env: dict[str, str]) -> dict[str, object]:
    out = subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def _rss_mib() -> float:
    """The current resident memory, from /proc (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def _peak_rss_mib() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # KiB on Linux


def _child(args: argparse.Namespace) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prolotrack.settings")
    import django

    django.setup()
    from prolotrack.ops.scoping import scopes_disabled_here

    scopes_disabled_here()  # the operator's script: across clinics (ops.scoping)
    from django.core.management import call_command

    out = Path(args.data_dir) / "export"
    if args.child == "load":
        from prolotrack.core.synth import generate_clinic
        from prolotrack.demo.loader import clinic_load

        call_command("migrate", verbosity=0)
        clinic_load(generate_clinic(seed=SEED, patients=args.patients, today=TODAY, name=CLINIC))
    elif args.child == "export":
        from prolotrack.accounts.models import Clinic
        from prolotrack.interop.fhir.export import bulk_export

        clinic = Clinic.objects.get(name=CLINIC)
        start_rss = _rss_mib()
        started = time.perf_counter()
        manifest = bulk_export(clinic, out)
        seconds = time.perf_counter() - started
        total = sum(item["count"] for item in manifest["output"])
        result = {
            "resources": total,
            "seconds": round(seconds, 2),
            "resources_per_s": round(total / seconds),
            "peak_rss_mib": _peak_rss_mib(),
            "start_rss_mib": start_rss,
        }
        print(json.dumps(result))
    else:
        from fhir.resources.R4B import get_fhir_model_class

        from prolotrack.interop.fhir.export import RESOURCE_TYPES

        # An even share of every type, so the floor sees the export's mix, not just Patients.
        lines: list[str] = []
        share = max(1, args.floor_resources // len(RESOURCE_TYPES))
        for kind in RESOURCE_TYPES:
            with (out / f"{kind}.ndjson").open(encoding="utf-8") as handle:
                for count, line in enumerate(handle):
                    if count >= share:
                        break
                    lines.append(line)
        dicts = [json.loads(line) for line in lines]
        started = time.perf_counter()
        for data in dicts:
            model = get_fhir_model_class(data["resourceType"]).model_validate(data)
            model.model_dump_json()
        seconds = time.perf_counter() - started
        print(json.dumps({"resources": len(dicts), "resources_per_s": round(len(dicts) / seconds)}))


if __name__ == "__main__":
    main()
