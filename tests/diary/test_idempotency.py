"""A submission replayed by a flaky phone connection stores one entry (RELIABILITY.md T24)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from prolotrack.diary.forms import entry_input_parse
from prolotrack.diary.models import Alert, DiaryEntry
from prolotrack.diary.services.entries import diary_entry_add, treated_areas
from prolotrack.ops.scoping import scope
from tests.diary.conftest import entry_post, today_in_clinic

REPLAYS = 10


def _values(world):
    data = entry_post(world, side_effects=["fever"], **{f"area-{world.series.pk}": "8"})
    return entry_input_parse(data, areas=treated_areas(world.patient), today=today_in_clinic())


def test_ten_sequential_replays_store_one_entry_and_return_it(world):
    values = _values(world)
    results = [
        diary_entry_add(patient=world.patient, user=world.patient_user, values=values)
        for _ in range(REPLAYS)
    ]
    assert [r.created for r in results] == [True] + [False] * (REPLAYS - 1)
    assert {r.entry.pk for r in results} == {DiaryEntry.objects.get().pk}
    assert Alert.objects.count() == 1


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="concurrent writers need a server database; SQLite's one writer lock serialises them",
)
def test_ten_concurrent_replays_store_one_entry_on_postgresql(transactional_db, world):
    values = _values(world)
    barrier = threading.Barrier(REPLAYS)
    results: list[object] = []
    errors: list[BaseException] = []

    def submit() -> None:
        try:
            barrier.wait(timeout=10)
            # Each thread stands for one request of the patient's, in their clinic's scope.
            with scope(clinic=world.patient.clinic_id):
                results.append(
                    diary_entry_add(patient=world.patient, user=world.patient_user, values=values)
                )
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit) for _ in range(REPLAYS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    assert len(results) == REPLAYS
    assert sum(r.created for r in results) == 1
    assert {r.entry.pk for r in results} == set(DiaryEntry.objects.values_list("pk", flat=True))
    assert DiaryEntry.objects.count() == 1
    assert Alert.objects.count() == 1
