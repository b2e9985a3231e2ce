"""Concurrent edits of one session (RELIABILITY.md T23): no lost update, ever.

Each trial records a fresh session (version 1), then two editors, each on its own thread and
database connection, open it and save different content (notes, pain, injections) from that
same version at the same moment, through ``treatment.services.session_record`` (the function
the session form calls). Exactly one save must succeed and the other be refused as a stale edit
naming the current version (the page answers it with 409); the stored session must be the
winner's, whole: its notes, its pain and exactly its injections, at version 2.

    uv run python bench/concurrent_edit.py --trials 100
    DATABASE_URL=postgres://.../scratch uv run python bench/concurrent_edit.py --trials 100

Without DATABASE_URL it makes a SQLite database in a new temporary folder (WAL, as the app
runs it; ``--data-dir`` picks the folder); with DATABASE_URL it migrates that database and adds
a clinic of its own to it: use a scratch database. Prints one JSON object; exit status 0 when
every trial passed.
"""

from __future__ import annotations

import argparse
import atexit
import datetime as dt
import json
import os
import shutil
import sys
import tempfile
import threading
import time
import uuid
from decimal import Decimal
from typing import Any

SITE = "n_saphenous_medial_knee"
WHEN = dt.datetime(2026, 11, 2, 17, 30, tzinfo=dt.UTC)


def setup_django(data_dir: str | None) -> None:
    """Django on DATABASE_URL, or on a SQLite file in ``data_dir`` (default: a new temporary
    folder, removed at the end), never on the data folder of an installation."""
    # A data folder of its own even on PostgreSQL (secret key, static files), never the one of
    # an installation.
    if data_dir is None:
        data_dir = tempfile.mkdtemp(prefix="prolotrack-bench-")
        atexit.register(shutil.rmtree, data_dir, ignore_errors=True)
    os.environ["PROLOTRACK_DATA_DIR"] = data_dir
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prolotrack.settings")
    import django

    django.setup()
    from prolotrack.ops.scoping import scopes_disabled_here

    scopes_disabled_here()  # the operator's script: across clinics (ops.scoping)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def world() -> dict[str, Any]:
    from prolotrack.accounts.models import Clinic, Role, User
    from prolotrack.patients.models import Patient
    from prolotrack.treatment.models import TreatmentSeries

    tag = uuid.uuid4().hex[:8]
    clinic = Clinic.objects.create(name=f"Concurrent edit bench {tag}")
    physician = User.objects.create_user(
        username=f"bench-edit-{tag}", clinic=clinic, role=Role.PHYSICIAN
    )
    patient = Patient.objects.create(
        clinic=clinic,
        chart_number=f"CE-{tag}",
        given_name="Bench",
        family_name="Editor",
        birth_date=dt.date(1970, 1, 1),
        sex="female",
        weight_kg=Decimal("70"),
    )
    series = TreatmentSeries.objects.create(
        clinic=clinic,
        patient=patient,
        modality="neural",
        region="knee",
        planned_sessions=6,
        planned_interval_days=7,
        started_on=WHEN.date(),
    )
    return {"physician": physician, "series": series}


def injections(editor: int) -> list[Any]:
    """Editor 0 charts one injection, editor 1 two: a mixture would show in the count."""
    from prolotrack.core.charting import InjectionInput

    volume = Decimal("0.5") if editor == 0 else Decimal("1.0")
    sides = ["left"] if editor == 0 else ["left", "right"]
    return [InjectionInput(SITE, side, "subcutaneous", volume, 27) for side in sides]


def trial(w: dict[str, Any]) -> dict[str, Any]:
    from django.db import connections

    from prolotrack.ops.scoping import scope
    from prolotrack.treatment.models import Session
    from prolotrack.treatment.services import StaleEdit, session_record

    session = session_record(
        series=w["series"],
        practitioner=w["physician"],
        performed_at=WHEN,
        pain_before=5,
        notes="opened",
        injections=[],
    )
    start = threading.Barrier(2)
    outcome: list[Any] = [None, None]
    span = [[0.0, 0.0], [0.0, 0.0]]  # when each editor's save began and returned

    def editor(number: int) -> None:
        # A thread of its own starts outside any scope: each editor works in the clinic's, as
        # a request does (ops.scoping).
        try:
            with scope(clinic=session.clinic_id):
                edit(number)
        except StaleEdit as exc:
            outcome[number] = f"conflict:{exc.current_version}"
        except Exception as exc:  # reported in the result, never hidden
            outcome[number] = f"error:{exc!r}"
        finally:
            span[number][1] = time.perf_counter()
            connections.close_all()

    def edit(number: int) -> None:
        opened = Session.objects.get(pk=session.pk)  # each editor's own copy, version 1
        start.wait()
        span[number][0] = time.perf_counter()
        session_record(
            series=w["series"],
            practitioner=w["physician"],
            performed_at=WHEN,
            pain_before=number,
            notes=f"editor {number}",
            injections=injections(number),
            session=opened,
            expected_version=opened.version,
        )
        outcome[number] = "saved"

    threads = [threading.Thread(target=editor, args=(n,)) for n in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stored = Session.objects.get(pk=session.pk)
    rows = sorted((i.side, i.volume_ml) for i in stored.injections.all())
    # The two saves overlapped in time: the race was real, not two saves one after the other.
    overlapped = span[0][0] < span[1][1] and span[1][0] < span[0][1]
    result = {"outcome": outcome, "version": stored.version, "overlapped": overlapped}
    if sorted(outcome) == ["conflict:2", "saved"]:
        winner = outcome.index("saved")
        expected = sorted((i.side, i.volume_ml) for i in injections(winner))
        result["lost_update"] = not (
            stored.version == 2
            and stored.notes == f"editor {winner}"
            and stored.pain_before == winner
            and rows == expected
        )
    else:
        result["lost_update"] = outcome.count("saved") > 1
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--data-dir", help="SQLite: the folder for the database file.")
    args = parser.parse_args()
    setup_django(args.data_dir)
    from django.db import connection

    w = world()
    began = time.perf_counter()
    results = [trial(w) for _ in range(args.trials)]
    seconds = time.perf_counter() - began
    one_each = sum(sorted(r["outcome"]) == ["conflict:2", "saved"] for r in results)
    summary = {
        "test": "T23 concurrent edit",
        "database": connection.vendor,
        "trials": args.trials,
        "one_saved_one_conflict": one_each,
        "both_saved": sum(r["outcome"].count("saved") == 2 for r in results),
        "errors": sum(any(str(o).startswith("error") for o in r["outcome"]) for r in results),
        "lost_updates": sum(r["lost_update"] for r in results),
        "saves_overlapping_in_time": sum(r["overlapped"] for r in results),
        "seconds": round(seconds, 2),
        "cpus": os.cpu_count(),
    }
    odd = [r for r in results if sorted(r["outcome"]) != ["conflict:2", "saved"]]
    if odd:
        summary["examples_of_failures"] = odd[:3]
    print(json.dumps(summary, indent=2, default=str))
    ok = one_each == args.trials and summary["lost_updates"] == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
