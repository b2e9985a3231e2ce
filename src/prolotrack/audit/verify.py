"""Checking the audit trail: every hash, every link, no gaps, and nothing cut off the end.

`verify_chain()` is a pure function over events in id order; `verify_database()` streams the
stored log through it with flat memory, however long the log is.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from prolotrack.audit.models import CHECKPOINT_ID, GENESIS_HASH, AuditCheckpoint, AuditEvent

# Beyond this many, problems are counted but not listed: one bad edit of a whole table must not
# fill the memory with messages.
MAX_PROBLEMS = 1000


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    # (event id, what is wrong); the id is None for a problem of the log as a whole.
    problems: list[tuple[int | None, str]] = field(default_factory=list)
    # The last event checked, (id, hash): worth writing down outside the database, to compare
    # with a later run.
    head: tuple[int, str] | None = None


def _span(first: int, last: int) -> str:
    return f"event {first}" if first == last else f"events {first}-{last}"


def verify_chain(
    events: Iterable[AuditEvent],
    checkpoint: tuple[int, str] | None = None,
    *,
    max_problems: int = MAX_PROBLEMS,
) -> VerifyResult:
    """Check `events`, given in id order, against each other and against `checkpoint`.

    Finds an event changed after it was written (its hash no longer matches its contents),
    events deleted or moved (a gap in the ids, or an event that does not chain to the one
    before it), and events cut off the end (`checkpoint`, the (id, hash) of the last event
    written, names an event that is missing or different). Read the checkpoint before the
    events: events appended meanwhile then only extend the chain past it.
    """
    problems: list[tuple[int | None, str]] = []
    omitted = 0

    def problem(event_id: int | None, text: str) -> None:
        nonlocal omitted
        if len(problems) < max_problems:
            problems.append((event_id, text))
        else:
            omitted += 1

    checked = 0
    prev_id, prev_hash = 0, GENESIS_HASH
    hash_at_checkpoint: str | None = None
    for event in events:
        checked += 1
        if event.compute_hash() != event.hash:
            problem(event.id, "changed after it was written: its contents do not match its hash")
        if event.id <= prev_id:
            problem(event.id, f"out of order: it comes after event {prev_id}")
        elif event.id != prev_id + 1:
            problem(event.id, f"{_span(prev_id + 1, event.id - 1)} missing: deleted")
        elif event.prev_hash != prev_hash:
            what = f"event {prev_id}" if prev_id else "the start of the log"
            problem(event.id, f"does not chain to {what}: events were deleted, added or moved")
        if checkpoint is not None and event.id == checkpoint[0]:
            hash_at_checkpoint = event.hash
        prev_id, prev_hash = event.id, event.hash

    if checkpoint is None:
        if checked:
            problem(None, "the checkpoint is missing: the end of the log cannot be checked")
    else:
        checkpoint_id, checkpoint_hash = checkpoint
        if prev_id < checkpoint_id:
            problem(
                checkpoint_id,
                f"{_span(prev_id + 1, checkpoint_id)} missing from the end of the log: the "
                f"checkpoint says event {checkpoint_id} was written (truncated)",
            )
        elif hash_at_checkpoint != checkpoint_hash:
            problem(checkpoint_id, "differs from the checkpoint's record of it")
    if omitted:
        problems.append((None, f"{omitted} more problems not listed"))
    head = (prev_id, prev_hash) if checked else None
    return VerifyResult(ok=not problems, checked=checked, problems=problems, head=head)


def verify_database(*, chunk_size: int = 2000) -> VerifyResult:
    """Verify the stored log, streaming it in id order."""
    # The checkpoint first: an append that commits while the events stream in adds events
    # after it, never before.
    checkpoint = (
        AuditCheckpoint.objects.filter(pk=CHECKPOINT_ID).values_list("event_id", "hash").first()
    )
    events = AuditEvent.objects.order_by("id").iterator(chunk_size=chunk_size)
    return verify_chain(events, checkpoint)
