"""`plan`: the order a tournament's webhook queue is numbered in, pure: the nodes' appends
interleaved in any order, each match's events put back in its seq order, a seq nobody appended
read from the log, a duplicate dropped, a tournament's own events where they came."""

from __future__ import annotations

from tournament.webhookqueue import Fill, QueuedEvent, plan


def m(seq: int, match_id: str = "m1", origin: str = "a") -> QueuedEvent:
    return QueuedEvent(origin, "t1", f"match:{match_id}", seq, "score_updated", {}, 0.0, id=f"{match_id}-{seq}")


def t(n: int) -> QueuedEvent:
    return QueuedEvent("a", "t1", "tournament:t1", 0, "participant_added", {"n": n}, 0.0, id=f"t-{n}")


def names(steps: list[QueuedEvent | Fill]) -> list[str]:
    return [s.id if isinstance(s, QueuedEvent) else f"fill {s.stream} {s.after}..{s.until}{' fresh' * s.fresh}"
            for s in steps]


def test_in_order_entries_keep_the_queues_order() -> None:
    """Nothing out of order: the queue's order, cursors moved to each match's last."""
    steps, moved = plan([m(4), t(1), m(1, "m2"), m(5)], {"m1": 3})
    assert names(steps) == ["m1-4", "t-1", "m2-1", "m1-5"]
    assert moved == {"m1": 5, "m2": 1}


def test_a_later_seq_waits_for_the_earlier_one_further_on() -> None:
    """b's 5 was appended before a's 4: 5 goes right after 4, the tournament event stays put."""
    steps, moved = plan([m(5, origin="b"), t(1), m(4)], {"m1": 3})
    assert names(steps) == ["t-1", "m1-4", "m1-5"]
    assert moved == {"m1": 5}


def test_a_seq_nobody_appended_is_read_from_the_log() -> None:
    """4 is in no entry (its node died before appending it): the log fills it before 5."""
    steps, moved = plan([m(5), m(6)], {"m1": 3})
    assert names(steps) == ["fill match:m1 3..4", "m1-5", "m1-6"]
    assert moved == {"m1": 6}


def test_duplicates_and_seqs_the_log_filled_are_dropped() -> None:
    """A seq at or below the cursor (filled from the log earlier, or appended twice) is dropped."""
    steps, moved = plan([m(3), m(5), m(5), m(4)], {"m1": 3})
    assert names(steps) == ["m1-4", "m1-5"]
    assert moved == {"m1": 5}


def test_a_match_without_a_cursor_is_read_from_its_start() -> None:
    """No cursor (new to the queue, or Redis lost it): its log before the first seq read is a
    fresh fill (the holder keeps what is newer than each webhook's last row); a new match's
    first event needs none."""
    steps, moved = plan([m(8), m(7), m(1, "m2")], {})
    assert names(steps) == ["fill match:m1 0..6 fresh", "m1-7", "m1-8", "m2-1"]
    assert moved == {"m1": 8, "m2": 1}


def test_a_gap_behind_a_waiting_seq_is_filled_at_the_end() -> None:
    """6 waits for 5, which comes; 4 never does: the log fills it, then 5 and 6 go."""
    steps, _ = plan([m(6), m(5)], {"m1": 3})
    assert names(steps) == ["fill match:m1 3..4", "m1-5", "m1-6"]
