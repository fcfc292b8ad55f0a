"""Where a room's numbering stands: `since`/`epoch` to resume, and each event's fate; no I/O."""

from __future__ import annotations

import enum

from livebracket_client.events import Event, Snapshot, Welcome


class Verdict(enum.Enum):
    """What to do with a numbered event."""

    DELIVER = "deliver"  # the next one: hand it to the reader
    SKIP = "skip"  # already delivered (a replay overlapping what was held), or before any snapshot
    GAP = "gap"  # events are missing before it: resume from the last one delivered


class Sequencer:
    """The seq of the last event delivered (or of the last snapshot) and the epoch it belongs
    to, so that every event is delivered once, in order, across reconnects."""

    def __init__(self) -> None:
        self.last_seq: int | None = None
        self.epoch: str | None = None

    def resume_query(self) -> dict[str, str]:
        """The query that asks the server for what was missed: empty before the first welcome."""
        if self.last_seq is None:
            return {}
        query = {"since": str(self.last_seq)}
        if self.epoch:
            query["epoch"] = self.epoch
        return query

    def welcome(self, welcome: Welcome) -> Snapshot | None:
        """Take a welcome: a Snapshot when it is the room's whole state to start from (the first
        one, or `recovered: false`); None when it resumes (the missed events follow in order)."""
        initial = self.last_seq is None
        self.epoch = welcome.epoch
        if welcome.recovered and not initial:
            return None
        self.last_seq = welcome.seq
        return Snapshot(welcome=welcome, initial=initial)

    def event(self, event: Event) -> Verdict:
        """Judge an event; a delivered one moves `last_seq` on."""
        if self.last_seq is None or event.seq <= self.last_seq:
            return Verdict.SKIP
        if event.seq > self.last_seq + 1:
            return Verdict.GAP
        self.last_seq = event.seq
        return Verdict.DELIVER
