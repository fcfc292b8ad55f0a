"""The WebhookQueue port: a tournament's committed events shared by the nodes until its webhook
lease holder numbers them (tournament/sharedoutbox.py), and `plan`, the order it numbers them in.

realtime/webhookqueue.py implements the port on Redis; nothing here knows Redis. The nodes append
in their own publish orders, which interleave in any way, but a match's events carry its log's
seqs: `plan` puts each match's back in seq order, and a seq nobody appended (its node died
between the commit and the append) is read from the match's log (a `Fill`).
"""

from __future__ import annotations

import collections
import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from tournament.models import Delivery, DeliveryStatus


def webhook_lease(tournament_id: str) -> str:
    """The name of a tournament's webhook lease."""
    return f"webhooks:{tournament_id}"


@dataclasses.dataclass(frozen=True)
class QueuedEvent:
    """A committed event in its tournament's webhook queue, as the node `origin` published it."""

    origin: str
    tournament_id: str
    stream: str
    seq: int  # its seq in its match's log; 0 for a tournament's own event
    type: str
    data: dict[str, Any]
    ts: float
    number: int = 0  # its number at `origin` (its appends in order): a retried append is queued once
    id: str = ""  # its place in the queue, once read

    @property
    def match_id(self) -> str | None:
        return self.stream.partition(":")[2] if self.stream.startswith("match:") and self.seq > 0 else None

    def to_json(self) -> dict[str, Any]:
        return {"o": self.origin, "t": self.tournament_id, "st": self.stream, "s": self.seq, "k": self.type,
                "d": self.data, "ts": self.ts, "n": self.number}

    @classmethod
    def from_json(cls, data: Mapping[str, Any], entry_id: str = "") -> QueuedEvent:
        return cls(str(data["o"]), str(data["t"]), str(data["st"]), int(data["s"]), str(data["k"]), dict(data["d"]),
                   float(data["ts"]), int(data.get("n", 0)), entry_id)


def row_to_json(row: Delivery) -> dict[str, Any]:
    """A numbered row as the queue keeps it until it is in the store (always pending, untried)."""
    return {"w": row.webhook_id, "s": row.seq, "st": row.stream, "ss": row.stream_seq, "k": row.type,
            "t": row.tournament_id, "d": row.data, "ts": row.ts}


def row_from_json(data: Mapping[str, Any]) -> Delivery:
    return Delivery(webhook_id=str(data["w"]), seq=int(data["s"]), stream=str(data["st"]),
                    stream_seq=None if data["ss"] is None else int(data["ss"]), type=str(data["k"]),
                    tournament_id=str(data["t"]), data=dict(data["d"]), ts=float(data["ts"]),
                    status=DeliveryStatus.PENDING)


@dataclasses.dataclass(frozen=True)
class Placed:
    """Where a tournament's lease stands after an append: `holder` (this node's name when it holds
    it), whether the holder heard, and the lease's time left."""

    holder: str
    heard: bool
    expires_s: float


@dataclasses.dataclass(frozen=True)
class Answer:
    """A holder's answer: `done` (with its result), `refused` (it holds the lease no more),
    `gone` (nobody listened), `failed` (with the error's text)."""

    status: str
    result: Any = None
    error: str | None = None


class HolderListener(Protocol):
    """What the queue tells the outbox of its node (messages from the other nodes)."""

    def events_waiting(self, tournament_id: str) -> None:
        """Another node appended to a tournament whose lease this node held."""

    async def asked(self, tournament_id: str, op: str, args: dict[str, Any]) -> Answer:
        """Another node asks the holder to do `op` for one of the tournament's webhooks."""

    def reconnected(self) -> None:
        """Messages may have been lost meanwhile (and Redis may have restarted)."""


class WebhookQueue(Protocol):
    """The tournaments' shared webhook queues (realtime/webhookqueue.py). Every call raises
    StorageUnavailableError when the shared store cannot be reached."""

    @property
    def node(self) -> str: ...

    def listen(self, listener: HolderListener) -> None: ...

    async def known(self, tournament_ids: Sequence[str], complete: bool = False) -> None:
        """These tournaments have webhooks: their events are appended from now on; `complete`:
        they are all (before a complete announcement every tournament's events are appended)."""

    async def mark_busy(self, tournament_ids: Sequence[str]) -> None:
        """These tournaments have rows to send: the sweep finds them when nobody holds them."""

    async def append(self, entries: Sequence[QueuedEvent], force: bool = False) -> list[Placed | None]:
        """Append each, in order (None: its tournament has no webhooks, or it was appended
        before: nothing done), taking the lease when nobody holds it or telling its holder."""

    async def take(self, tournament_id: str) -> Placed:
        """Take the lease when nobody holds it (marked busy); who holds it now."""

    async def orphans(self) -> list[str]:
        """The busy tournaments whose lease nobody holds."""

    async def read(self, tournament_id: str) -> list[QueuedEvent]:
        """The queue, oldest first (each with its `id`)."""

    async def commit(self, tournament_id: str, taken: Sequence[str], rows: Sequence[Delivery],
                     cursors: dict[str, int]) -> bool:
        """When this node holds the lease (else False, nothing changed): the entries `taken` out,
        the numbered `rows` in, the matches' cursors set, in one step."""

    async def numbered(self, tournament_id: str) -> list[tuple[str, Delivery]]:
        """The rows numbered and not yet in the store, in order, with their ids."""

    async def stored(self, tournament_id: str, ids: Sequence[str]) -> None: ...

    async def cursors(self, tournament_id: str) -> dict[str, int]:
        """Match id -> the last seq of its log numbered."""

    async def release_if_idle(self, tournament_id: str) -> bool:
        """Release the lease when this node holds it and nothing waits; True when released."""

    async def ask(self, holder: str, tournament_id: str, op: str, args: dict[str, Any],
                  timeout_s: float) -> Answer:
        """Ask `holder` to do `op` and wait for its answer (StorageUnavailableError past `timeout_s`)."""


@dataclasses.dataclass(frozen=True)
class Fill:
    """Events of a match nobody appended, to be read from its log: seqs after `after`, to `until`.
    `fresh`: the match had no cursor (new to the queue, or Redis lost it), so the log is read
    from its start and a webhook takes only what came after the last event numbered for it when
    its holder loaded it (or after it was made)."""

    stream: str
    after: int
    until: int
    fresh: bool = False


def plan(entries: Sequence[QueuedEvent], cursors: Mapping[str, int]) -> tuple[list[QueuedEvent | Fill],
                                                                             dict[str, int]]:
    """The queue's entries in the order to number them, and the matches' cursors after them.

    Entries keep the queue's order, but a match's: one whose seq is not its cursor's next waits
    while the missing seqs come later in `entries`, else they are read from the log first (a
    `Fill`); a seq at or below the cursor is a duplicate (the log had it already) and dropped.
    A match without a cursor starts at 0 (its first fill is `fresh`)."""
    remaining: dict[str, collections.Counter[int]] = {}
    for entry in entries:
        if (match_id := entry.match_id) is not None:
            remaining.setdefault(match_id, collections.Counter())[entry.seq] += 1
    last = {match_id: cursors.get(match_id, 0) for match_id in remaining}
    waiting: dict[str, dict[int, QueuedEvent]] = {match_id: {} for match_id in remaining}
    steps: list[QueuedEvent | Fill] = []

    def release(match_id: str) -> None:
        held = waiting[match_id]
        while held:
            after = last[match_id]
            if (entry := held.pop(after + 1, None)) is not None:
                steps.append(entry)
                last[match_id] = entry.seq
                continue
            if remaining[match_id][after + 1] > 0:
                return  # the next one comes later in `entries`
            low, until = min(held), after + 1  # the log has the run of seqs that do not come
            while until + 1 < low and remaining[match_id][until + 1] == 0:
                until += 1
            steps.append(Fill(held[low].stream, after, until, fresh=after == 0 and match_id not in cursors))
            last[match_id] = until

    for entry in entries:
        match_id = entry.match_id
        if match_id is None:
            steps.append(entry)
            continue
        remaining[match_id][entry.seq] -= 1
        if entry.seq > last[match_id] and entry.seq not in waiting[match_id]:
            waiting[match_id][entry.seq] = entry
        release(match_id)
    for match_id in waiting:  # every entry is read: what is still missing comes from the log
        release(match_id)
    moved = {match_id: seq for match_id, seq in last.items() if cursors.get(match_id) != seq}
    return steps, moved
