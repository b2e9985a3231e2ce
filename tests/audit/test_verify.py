"""The four ways to tamper with the log (RELIABILITY.md T17), each done as an attacker with
database access would, around the triggers; the verifier must catch every one."""

from __future__ import annotations

import hashlib

from prolotrack.audit.models import AuditEvent
from prolotrack.audit.verify import verify_chain, verify_database


def problem_ids(result):
    return [event_id for event_id, _text in result.problems]


def test_it_finds_nothing_wrong_with_an_untouched_log(audit_log):
    audit_log.append(10)
    result = verify_database()
    assert result.ok and result.checked == 10 and result.problems == []


def test_an_empty_log_is_intact(db):
    result = verify_database()
    assert result.ok and result.checked == 0 and result.head is None


def test_it_detects_a_changed_record(audit_log, tamper):
    audit_log.append(10)
    tamper("UPDATE audit_auditevent SET username = %s WHERE id = 4", ["someone-else"])
    result = verify_database()
    assert not result.ok
    assert result.problems == [
        (4, "changed after it was written: its contents do not match its hash")
    ]


def test_it_detects_a_changed_record_whose_hash_was_recomputed(audit_log, tamper):
    """Rewriting the hash too only moves the break to the next event's link."""
    audit_log.append(10)
    event = AuditEvent.objects.get(pk=4)
    event.outcome = "refused"
    forged = hashlib.sha256(event.canonical()).hexdigest()
    tamper(
        "UPDATE audit_auditevent SET outcome = 'refused', hash = %s WHERE id = 4",
        [forged],
    )
    result = verify_database()
    assert not result.ok
    assert result.problems == [
        (5, "does not chain to event 4: events were deleted, added or moved")
    ]


def test_it_detects_a_deleted_record(audit_log, tamper):
    audit_log.append(10)
    tamper("DELETE FROM audit_auditevent WHERE id = 5")
    result = verify_database()
    assert not result.ok
    assert result.problems == [(6, "event 5 missing: deleted")]


def test_it_detects_deleted_records_renumbered_to_hide_the_gap(audit_log, tamper):
    audit_log.append(10)
    tamper("DELETE FROM audit_auditevent WHERE id = 5")
    for event_id in range(6, 11):
        tamper("UPDATE audit_auditevent SET id = %s WHERE id = %s", [event_id - 1, event_id])
    result = verify_database()
    assert not result.ok
    assert 5 in problem_ids(result)  # renumbered: its hash covers its old id
    assert 10 in problem_ids(result)  # and the end no longer reaches the checkpoint


def test_it_detects_reordered_records(audit_log, tamper):
    audit_log.append(10)
    tamper("UPDATE audit_auditevent SET id = -1 WHERE id = 3")
    tamper("UPDATE audit_auditevent SET id = 3 WHERE id = 4")
    tamper("UPDATE audit_auditevent SET id = 4 WHERE id = -1")
    result = verify_database()
    assert not result.ok
    assert {3, 4} <= set(problem_ids(result))
    assert any("does not chain" in text for _id, text in result.problems)


def test_it_detects_a_truncated_tail(audit_log, tamper):
    audit_log.append(10)
    tamper("DELETE FROM audit_auditevent WHERE id > 7")
    result = verify_database()
    assert not result.ok
    assert result.problems == [
        (
            10,
            "events 8-10 missing from the end of the log: the checkpoint says event 10 was "
            "written (truncated)",
        )
    ]


def test_a_truncated_tail_stays_visible_after_more_events(audit_log, tamper):
    """The next append chains to the checkpoint, not to the last row left."""
    audit_log.append(10)
    tamper("DELETE FROM audit_auditevent WHERE id > 7")
    audit_log.append(3)
    result = verify_database()
    assert not result.ok
    assert result.problems == [(11, "events 8-10 missing: deleted")]


def test_it_detects_a_truncated_tail_with_a_forged_checkpoint_hash(audit_log, tamper):
    audit_log.append(10)
    tamper("UPDATE audit_auditcheckpoint SET hash = %s", ["f" * 64])
    result = verify_database()
    assert result.problems == [(10, "differs from the checkpoint's record of it")]


def test_it_detects_a_wiped_log_or_a_deleted_checkpoint(audit_log, tamper):
    audit_log.append(3)
    tamper("DELETE FROM audit_auditevent")
    result = verify_database()
    assert result.checked == 0
    assert problem_ids(result) == [3]


def test_it_detects_a_missing_checkpoint(audit_log, tamper):
    audit_log.append(3)
    tamper("DELETE FROM audit_auditcheckpoint")
    result = verify_database()
    assert result.problems == [
        (None, "the checkpoint is missing: the end of the log cannot be checked")
    ]


def test_it_detects_a_log_that_does_not_start_at_the_beginning(audit_log, tamper):
    audit_log.append(5)
    tamper("DELETE FROM audit_auditevent WHERE id <= 2")
    assert verify_database().problems == [(3, "events 1-2 missing: deleted")]


def test_it_lists_a_bounded_number_of_problems(audit_log):
    events = audit_log.append(6)
    for event in events:
        event.hash = "0" * 64
    result = verify_chain(events, (6, "0" * 64), max_problems=2)
    assert not result.ok
    assert len(result.problems) == 3
    assert result.problems[-1][0] is None and "more problems not listed" in result.problems[-1][1]


def test_it_accepts_events_appended_after_the_checkpoint_was_read(audit_log):
    """A verification running while the clinic works must not cry wolf."""
    events = audit_log.append(5)
    checkpoint_read_earlier = (3, events[2].hash)
    assert verify_chain(events, checkpoint_read_earlier).ok
