"""MatchWriter: the one commit point of every match change, a player's move or the bracket's.

`write(match_id, decide)`: under the match's lock, read the match, let `decide` (pure rules)
say what changes, number the events after the match's seq, save through the store (events
first, the version-guarded match write last: the commit, see `Store.save_match`), and only
then publish the events, in order. A write that lost a race to another process is decided
again on the winner's result. Nothing here calls back into the services above it, so the
bracket may write while it holds its tournament's lock.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

from tournament.events import Publisher
from tournament.locks import KeyedLocks
from tournament.models import Event, Match, match_stream
from tournament.rules import Outcome
from tournament.store import ConflictError, Store

Decide = Callable[[Match], Outcome]
WRITE_ATTEMPTS = 3


class MatchWriter:
    def __init__(self, store: Store, publisher: Publisher, clock: Callable[[], float] = time.time,
                 attempts: int = WRITE_ATTEMPTS) -> None:
        self._store = store
        self._publisher = publisher
        self._clock = clock
        self._attempts = attempts
        self._locks = KeyedLocks()

    async def write(self, match_id: str, decide: Decide, *, keep_version: bool = False) -> Outcome:
        """The outcome of `decide` on the current match, committed and published (the
        returned match is the stored one). An outcome that keeps the match as it is writes
        nothing. With `keep_version` (a chat message) the match keeps its version, so a
        client's `If-Match` stays good; its seq still moves on with the events.

        Raises NotFoundError, whatever `decide` raises (nothing is written then), and
        ConflictError when the match kept changing under other processes.
        """
        async with self._locks.hold(match_id):
            for _ in range(self._attempts):
                match = await self._store.get_match(match_id)
                outcome = decide(match)
                if outcome.match is match:
                    return outcome
                after = dataclasses.replace(outcome.match, version=match.version + (0 if keep_version else 1),
                                            seq=match.seq + len(outcome.events),
                                            dispute=outcome.dispute or outcome.match.dispute)
                events = self._numbered(match, after, outcome, snapshot=not keep_version)
                try:
                    await self._store.save_match(after, events, outcome.dispute, keep_version)
                except ConflictError:
                    continue  # another process wrote first: decide again on its result
                for event in events:
                    self._publisher.publish(event)
                return dataclasses.replace(outcome, match=after)
        raise ConflictError(f"match {match_id} kept changing; try again")

    def _numbered(self, before: Match, after: Match, outcome: Outcome, *, snapshot: bool) -> list[Event]:
        """The outcome's events after the match's seq; each carries the match after the move,
        unless the move leaves the match as it was (a chat message)."""
        match = {"match": after.to_json()} if snapshot else {}
        now = self._clock()
        return [Event(stream=match_stream(after.id), seq=before.seq + i, type=kind, ts=now,
                      data={"match_id": after.id, "tournament_id": after.tournament_id, **extra, **match})
                for i, (kind, extra) in enumerate(outcome.events, start=1)]
