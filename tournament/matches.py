"""MatchService: every change to a match and its disputes, persisted then announced.

A change reads the match, asks `rules` for the move, writes the result guarded by the
match's version together with its numbered events, and only then publishes them. Writes to
one match are serialized in this process, so events are published in sequence order; the
version guard still refuses a write that lost a race to another process.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping
from typing import Protocol

from storage.base import Store
from storage.errors import ConflictError
from tournament import rules
from tournament.errors import InvalidTransitionError, StaleVersionError
from tournament.events import Publisher
from tournament.locks import KeyedLocks
from tournament.models import FINAL_STATES, Dispute, DisputeStatus, Event, Match, match_stream
from tournament.roles import Principal
from tournament.rules import Action, Outcome
from tournament.tournaments import require_organizer

Decide = Callable[[Match, Dispute | None], Outcome]
WRITE_ATTEMPTS = 3


class PendingScores(Protocol):
    """Live scores accepted but not yet written (the realtime score batcher)."""

    async def flush(self, match_id: str) -> None:
        """Write the match's waiting scores now. Never raises."""


class NoPendingScores:
    async def flush(self, match_id: str) -> None:
        pass


class Bracket(Protocol):
    """What happens when a bracket match ends (the BracketService advances its players)."""

    async def match_ended(self, match: Match) -> None: ...


class NoBracket:
    async def match_ended(self, match: Match) -> None:
        pass


class MatchService:
    def __init__(self, store: Store, publisher: Publisher, clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self.publisher = publisher
        self._clock = clock
        self._locks = KeyedLocks()
        self.pending: PendingScores = NoPendingScores()  # the batcher, once one is attached
        self.bracket: Bracket = NoBracket()  # the bracket service, once one is attached

    async def get(self, match_id: str) -> Match:
        return await self._store.get_match(match_id)

    async def events(self, match_id: str, since: int = 0, limit: int = 1000) -> list[Event]:
        """The match's event log after `since`. Raises NotFoundError."""
        await self._store.get_match(match_id)
        return await self._store.list_events(match_stream(match_id), since, limit)

    async def get_dispute(self, dispute_id: str) -> Dispute:
        return await self._store.get_dispute(dispute_id)

    async def disputes(self, match_id: str) -> list[Dispute]:
        """Every dispute of the match, oldest first. Raises NotFoundError."""
        await self._store.get_match(match_id)
        return await self._store.list_disputes(match_id)

    async def open_check_in(self, match_id: str, user: Principal, version: int | None = None) -> Match:
        return await self._change(match_id, Action.OPEN_CHECK_IN, user, version,
                                  lambda m, _: rules.open_check_in(m, self._clock()))

    async def check_in(self, match_id: str, user: Principal, participant_id: str | None = None,
                       version: int | None = None) -> Match:
        """Check in `user`, or (organizers only) `participant_id` on their behalf."""
        who = participant_id if participant_id and user.is_organizer else user.user_id
        return await self._change(match_id, Action.CHECK_IN, user, version,
                                  lambda m, _: rules.check_in(m, who, self._clock()))

    async def start(self, match_id: str, user: Principal, version: int | None = None) -> Match:
        return await self._change(match_id, Action.START, user, version,
                                  lambda m, _: rules.start(m, self._clock()))

    async def check_score_update(self, match_id: str, user: Principal, scores: Mapping[str, int]) -> None:
        """Raise now what update_score would raise for this update, writing nothing."""
        match = await self._store.get_match(match_id)
        rules.authorize(match, Action.UPDATE_SCORE, user)
        rules.check_scores(match, scores, complete=False)

    async def update_score(self, match_id: str, user: Principal, scores: Mapping[str, int],
                           version: int | None = None) -> Match:
        """Write live scores now. A guarded update (`version`) first writes any batch waiting
        for the match, so an older batched score can never land after it."""
        if version is not None:
            await self.pending.flush(match_id)
        return await self._change(match_id, Action.UPDATE_SCORE, user, version,
                                  lambda m, _: rules.update_score(m, scores, self._clock()))

    async def report_result(self, match_id: str, user: Principal, scores: Mapping[str, int],
                            version: int | None = None) -> Match:
        return await self._change(match_id, Action.REPORT_RESULT, user, version,
                                  lambda m, _: rules.report_result(m, user, scores, self._clock()))

    async def confirm(self, match_id: str, user: Principal, version: int | None = None) -> Match:
        return await self._change(match_id, Action.CONFIRM, user, version,
                                  lambda m, _: rules.confirm(m, user, self._clock()))

    async def raise_dispute(self, match_id: str, user: Principal, reason: str,
                            version: int | None = None) -> tuple[Dispute, Match]:
        outcome = await self._apply(match_id, Action.DISPUTE, user, version,
                                    lambda m, _: rules.raise_dispute(m, user, reason, self._clock()))
        assert outcome.dispute is not None
        return outcome.dispute, outcome.match

    async def resolve_dispute(self, dispute_id: str, user: Principal, *, reject: bool,
                              scores: Mapping[str, int] | None, resolution: str) -> tuple[Dispute, Match]:
        """Close an open dispute and complete its match. Raises NotFoundError,
        ForbiddenError, InvalidTransitionError (dispute not open), InvalidValueError."""
        require_organizer(user, "resolve a dispute")
        dispute = await self._store.get_dispute(dispute_id)

        def decide(match: Match, open_dispute: Dispute | None) -> Outcome:
            if open_dispute is None or open_dispute.id != dispute_id:
                raise InvalidTransitionError(f"dispute {dispute_id} is {dispute.status.value}",
                                             code="dispute_not_open", state=dispute.status.value)
            return rules.resolve(match, open_dispute, user, reject=reject, scores=scores,
                                 resolution=resolution, now=self._clock())

        if dispute.status is not DisputeStatus.OPEN:
            decide(await self._store.get_match(dispute.match_id), None)
        outcome = await self._apply(dispute.match_id, Action.RESOLVE, user, None, decide)
        assert outcome.dispute is not None
        return outcome.dispute, outcome.match

    async def forfeit(self, match_id: str, user: Principal, participant_id: str,
                      version: int | None = None) -> Match:
        return await self._change(match_id, Action.FORFEIT, user, version,
                                  lambda m, d: rules.forfeit(m, participant_id, user, d, self._clock()))

    async def cancel(self, match_id: str, user: Principal, reason: str = "",
                     version: int | None = None) -> Match:
        """Raises as any move, and InvalidTransitionError (bracket_match) for a bracket match,
        which must end with a winner (forfeit) so the bracket can go on."""
        def decide(match: Match, dispute: Dispute | None) -> Outcome:
            if match.slot is not None:
                raise InvalidTransitionError("a bracket match cannot be cancelled: forfeit it instead",
                                             code="bracket_match", state=match.state.value)
            return rules.cancel(match, user, reason, dispute, self._clock())

        return await self._change(match_id, Action.CANCEL, user, version, decide)

    async def _change(self, match_id: str, action: Action, user: Principal, version: int | None,
                      decide: Decide) -> Match:
        return (await self._apply(match_id, action, user, version, decide)).match

    async def _apply(self, match_id: str, action: Action, user: Principal, version: int | None,
                     decide: Decide) -> Outcome:
        """Authorize, decide, persist with the version guard, publish; then tell the bracket
        when the match ended.

        Raises NotFoundError, ForbiddenError, InvalidTransitionError, InvalidValueError,
        StaleVersionError, ConflictError (lost every retry to another process).
        """
        if action is not Action.UPDATE_SCORE:
            await self.pending.flush(match_id)  # the final score lands before any other move

        def checked(match: Match, dispute: Dispute | None) -> Outcome:
            if version is not None and version != match.version:
                raise StaleVersionError(f"the match is at version {match.version}, not {version}",
                                        version=match.version, state=match.state.value)
            rules.authorize(match, action, user)
            return decide(match, dispute)

        needs_dispute = action in (Action.RESOLVE, Action.FORFEIT, Action.CANCEL)
        outcome = await self._write(match_id, checked, needs_dispute)
        if outcome.match.state in FINAL_STATES and outcome.match.slot is not None:
            await self.bracket.match_ended(outcome.match)
        return outcome

    async def seat(self, match_id: str, slot: int, participant_id: str | None) -> Match:
        """Put a participant (None: a bye) in a bracket match's slot, unless it is there already.

        A system move (no user): the bracket's advancement. Raises NotFoundError.
        """
        def decide(match: Match, _: Dispute | None) -> Outcome:
            return rules.seat(match, slot, participant_id, self._clock())

        return (await self._write(match_id, decide, False)).match

    async def walkover(self, match_id: str, reason: str) -> Match:
        """End a bracket match that will not be played: its one player (if any) wins it.

        A system move (no user). Raises NotFoundError, InvalidTransitionError.
        """
        def decide(match: Match, _: Dispute | None) -> Outcome:
            return rules.walkover(match, reason, self._clock())

        return (await self._write(match_id, decide, False)).match

    async def abandon(self, match_id: str, user: Principal, reason: str) -> Match:
        """Cancel a match that has not ended, bracket match or not (its tournament was
        cancelled); an ended match stays as it is. Raises NotFoundError."""
        def decide(match: Match, dispute: Dispute | None) -> Outcome:
            if match.state in FINAL_STATES:
                return Outcome(match, [])
            return rules.cancel(match, user, reason, dispute, self._clock())

        return (await self._write(match_id, decide, True)).match

    async def correct(self, match_id: str, user: Principal, scores: Mapping[str, int]) -> Match:
        """Replace a decided result (the bracket decides whether it may). Raises NotFoundError,
        InvalidTransitionError, InvalidValueError."""
        return (await self._write(match_id, lambda m, _: rules.correct(m, scores, user, self._clock()),
                                  False)).match

    async def reopen(self, match_id: str, clear: list[int], user: Principal) -> Match:
        """Send a later bracket match back to scheduled, emptying the slots in `clear`."""
        return (await self._write(match_id, lambda m, _: rules.reopen(m, clear, user, self._clock()),
                                  False)).match

    async def _write(self, match_id: str, decide: Decide, needs_dispute: bool) -> Outcome:
        """Read, decide, write guarded by version with the numbered events, then publish."""
        async with self._locks.hold(match_id):
            for _ in range(WRITE_ATTEMPTS):
                match = await self._store.get_match(match_id)
                dispute = await self._store.open_dispute(match_id) if needs_dispute else None
                outcome = decide(match, dispute)
                if outcome.match is match:
                    return outcome  # nothing to change
                after = dataclasses.replace(outcome.match, version=match.version + 1,
                                            seq=match.seq + len(outcome.events))
                snapshot = after.to_json()
                now = self._clock()
                events = [
                    Event(stream=match_stream(match_id), seq=match.seq + i, type=kind, ts=now,
                          data={"match_id": match_id, "tournament_id": match.tournament_id,
                                **extra, "match": snapshot})
                    for i, (kind, extra) in enumerate(outcome.events, start=1)
                ]
                try:
                    await self._store.save_match(after, events, outcome.dispute)
                except ConflictError:
                    continue  # another process wrote first: decide again on its result
                for event in events:
                    self.publisher.publish(event)
                return dataclasses.replace(outcome, match=after)
        raise ConflictError(f"match {match_id} kept changing; try again")
