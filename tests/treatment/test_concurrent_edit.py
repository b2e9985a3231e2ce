"""Two editors, one session (RELIABILITY.md T23, issue 3 item 7): exactly one save wins, the
other is refused with the current version, and nothing of the winner is lost or mixed.

Injections carry no version of their own: they are only ever replaced as a whole with their
session, under the session's version (see ``services.session_record``), so these tests edit
injections and check that the session's version guards them.
"""

from __future__ import annotations

import contextvars
import json
import os
import subprocess
import sys
import threading
from decimal import Decimal
from pathlib import Path

import pytest
from charting_helpers import (
    INFRAPATELLAR,
    SAPHENOUS,
    WHEN,
    acknowledging,
    post_acknowledged,
    record_session,
    session_post,
)
from django.db import connection, connections
from django.urls import reverse

from prolotrack.core.charting import InjectionInput
from prolotrack.treatment import services
from prolotrack.treatment.models import Injection, Session

TRIALS = 10
REPO = Path(__file__).resolve().parents[2]

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the SQLite test database is shared in-memory, whose table locks do not wait; "
    "the SQLite file of a real installation is raced by the bench script below",
)


def edit_url(session: Session) -> str:
    return reverse("treatment:session_edit", args=[session.pk])


def stored_injections(session: Session) -> list[tuple[str, str, Decimal, str]]:
    return sorted(
        Injection.objects.filter(session=session).values_list("site", "side", "volume_ml", "lot")
    )


# A stale edit of the injections, through the page (both databases) -------------------------------


def test_a_stale_edit_of_the_injections_answers_409_and_keeps_the_newer_ones(world):
    session = record_session(world)
    opened = str(session.version)
    # A colleague changes the injections first: one more millilitre, another lot.
    colleague = world.client_for(world.nurse)
    theirs = session_post(
        version=opened, **{"injections-0-volume_ml": "1.5", "injections-0-lot": "THEIRS-1"}
    )
    assert post_acknowledged(colleague, edit_url(session), theirs).status_code == 302
    expected = stored_injections(session)
    assert ("n_saphenous_medial_knee", "left", Decimal("1.50"), "THEIRS-1") in expected
    # Our edit of the injections, from the form opened at the old version: one row removed,
    # the other changed.
    ours = session_post(version=opened, **{"injections-1-volume_ml": "0.3"})
    for key in [k for k in ours if k.startswith("injections-0-")]:
        del ours[key]
    response = post_acknowledged(world.client_for(world.physician), edit_url(session), ours)
    body = response.content.decode()
    assert response.status_code == 409
    assert "now at version 2" in body and "Nothing was overwritten" in body
    session.refresh_from_db()
    assert session.version == 2
    assert stored_injections(session) == expected


def test_a_stale_service_call_with_other_injections_writes_nothing(world):
    session = record_session(world)
    record_session(world, session=session, expected_version=1, injections=[])
    with pytest.raises(services.StaleEdit) as info:
        record_session(
            world,
            session=session,
            expected_version=1,
            injections=[InjectionInput(INFRAPATELLAR, "left", "subcutaneous", Decimal("1"), 27)],
        )
    assert info.value.current_version == 2
    assert Injection.objects.filter(session=session).count() == 0


# Real races: threads with their own connections (PostgreSQL) ------------------------------------


def race(targets: list) -> list[object]:
    """Run the targets at the same moment, each on its own thread and connection."""
    start = threading.Barrier(len(targets))
    outcome: list[object] = [None] * len(targets)

    # A thread starts outside any scope (ops.scoping): each runs in a copy of the test's.
    contexts = [contextvars.copy_context() for _ in targets]

    def run(number: int) -> None:
        try:
            start.wait()
            outcome[number] = contexts[number].run(targets[number])
        except Exception as exc:  # collected for the assertions on the test's thread
            outcome[number] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(targets))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcome


def editor_injections(number: int) -> list[InjectionInput]:
    """Editor 0 charts one injection, editor 1 two: a mixture of both would show."""
    sides = ["left"] if number == 0 else ["left", "right"]
    volume = Decimal("0.5") if number == 0 else Decimal("1.0")
    return [InjectionInput(SAPHENOUS, side, "subcutaneous", volume, 27) for side in sides]


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_two_saves_of_the_same_version_one_wins_one_conflicts_none_lost(world):
    for _ in range(TRIALS):
        session = record_session(world, injections=[], readings=[])

        def save(number: int, session_id: int = session.pk):
            opened = Session.objects.get(pk=session_id)
            return services.session_record(
                series=world.series,
                practitioner=world.physician,
                performed_at=WHEN,
                pain_before=number,
                notes=f"editor {number}",
                injections=editor_injections(number),
                session=opened,
                expected_version=1,
            )

        outcome = race([lambda: save(0), lambda: save(1)])
        saved = [n for n, o in enumerate(outcome) if isinstance(o, Session)]
        refused = [o for o in outcome if isinstance(o, services.StaleEdit)]
        assert len(saved) == 1 and len(refused) == 1, outcome
        assert refused[0].current_version == 2
        winner = saved[0]
        session.refresh_from_db()
        assert (session.version, session.notes, session.pain_before) == (
            2,
            f"editor {winner}",
            winner,
        )
        rows = sorted(Injection.objects.filter(session=session).values_list("side", "volume_ml"))
        assert rows == sorted((i.side, i.volume_ml) for i in editor_injections(winner))


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_two_page_saves_of_the_same_version_give_one_redirect_and_one_409(world):
    for _ in range(3):
        session = record_session(world)
        opened = str(session.version)
        posts = {
            "physician": session_post(version=opened, notes="Physician's note."),
            "nurse": session_post(version=opened, notes="Nurse's note.", pain_before="2"),
        }
        clients = {role: world.client_for(getattr(world, role)) for role in posts}
        # The cautions are read first; the saves themselves race.
        ready = {r: acknowledging(clients[r], edit_url(session), p) for r, p in posts.items()}
        roles = list(posts)
        url = edit_url(session)

        def save(role: str, url: str = url, ready: dict = ready, clients: dict = clients) -> int:
            return clients[role].post(url, ready[role]).status_code

        outcome = race([lambda r=r: save(r) for r in roles])
        assert sorted(outcome) == [302, 409], outcome
        winner = roles[outcome.index(302)]
        session.refresh_from_db()
        assert session.version == 2 and session.notes == posts[winner]["notes"]
        assert Injection.objects.filter(session=session).count() == 2


# The bench script at a small size, on a SQLite file (both databases run it) ----------------------


def test_the_concurrent_edit_script_on_a_sqlite_file_loses_nothing(tmp_path):
    script = REPO / "bench" / "concurrent_edit.py"
    run = subprocess.run(
        [sys.executable, str(script), "--trials", str(TRIALS), "--data-dir", str(tmp_path)],
        env={**os.environ, "DATABASE_URL": ""},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    result = json.loads(run.stdout)
    assert result["database"] == "sqlite" and result["trials"] == TRIALS
    assert result["one_saved_one_conflict"] == TRIALS
    assert (result["both_saved"], result["errors"], result["lost_updates"]) == (0, 0, 0)
