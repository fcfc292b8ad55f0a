"""MatchService: the moves players and organizers make on a match, and its reads.

Every move goes `rules.authorize` -> a pure move of `rules` -> MatchWriter (the commit
point). Live scores go through the ScoreBatcher this service owns: `update_score` is the
one place that decides between batching a score and writing it now, and every other move
flushes the match's batch first. When a bracket match ends, the bracket is told, by this
service, which was built with it in hand.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from tournament import calls, rules, stages, veto
from tournament.errors import (ForbiddenError, InvalidTransitionError, InvalidValueError, ShuttingDownError,
                               StaleVersionError)
from tournament.models import FINAL_STATES, Dispute, DisputeStatus, Event, Match, SeriesFormat, match_stream
from tournament.roles import Principal
from tournament.rules import Action, Outcome
from tournament.locks import InFlight
from tournament.scheduler import Scheduler, Timers
from tournament.scores import Batcher, ScoreBatcher, Write
from tournament.store import NotFoundError, Store
from tournament.tournaments import require_organizer
from tournament.writer import MatchWriter

log = logging.getLogger(__name__)

MoveDecide = Callable[[Match, Dispute | None], Outcome]


class Bracket(Protocol):
    """What happens when a bracket match ends (the BracketService advances its players)."""

    async def match_ended(self, match: Match) -> None:
        """Never raises."""


class Acting(Protocol):
    """Whether a team member may act for their team now (tournament/teams.py, `Rosters`)."""

    async def check_acting(self, user: Principal) -> None:
        """Raises ForbiddenError."""


class MatchService:
    def __init__(self, store: Store, writer: MatchWriter, bracket: Bracket, scheduler: Scheduler,
                 clock: Callable[[], float] = time.time, batch_window_s: float = 0.1,
                 acting: Acting | None = None, batcher: Callable[[Write], Batcher] | None = None,
                 scores_written: Callable[[], None] | None = None) -> None:
        self._store = store
        self._acting = acting  # None: nobody acts for a team
        self._writer = writer
        self._bracket = bracket
        self._clock = clock
        self._scheduler = scheduler
        # one process: its own batcher; several (`batcher`, --broker): the match's lease holder batches
        self.scores: Batcher = (batcher(self._write_score) if batcher is not None
                                else ScoreBatcher(self._write_score, scheduler, batch_window_s, written=scores_written))
        self._veto_timers = Timers(scheduler)  # match id -> its veto turn's timer
        self.closing = False
        self._moves = InFlight()  # moves past their closing check and not yet done (close() waits for them)

    # -- reads -------------------------------------------------------------------------------

    async def get(self, match_id: str) -> Match:
        return await self._store.get_match(match_id)

    async def events(self, match_id: str, since: int = 0, limit: int = 1000) -> list[Event]:
        """The match's event log after `since`, up to its committed seq (a write cut off by a
        crash may leave events above it: they never happened). Raises NotFoundError."""
        match = await self._store.get_match(match_id)
        return await self._store.list_events(match_stream(match_id), since, limit, until=match.seq)

    async def get_dispute(self, dispute_id: str) -> Dispute:
        """Raises NotFoundError."""
        copy = await self._store.get_dispute(dispute_id)
        committed = self._committed(await self._store.get_match(copy.match_id), [copy])
        if not committed:
            raise NotFoundError("dispute", dispute_id)
        return committed[0]

    async def disputes(self, match_id: str) -> list[Dispute]:
        """Every dispute of the match, oldest first. Raises NotFoundError."""
        match = await self._store.get_match(match_id)
        return self._committed(match, await self._store.list_disputes(match_id))

    @staticmethod
    def _committed(match: Match, copies: list[Dispute]) -> list[Dispute]:
        """The disputes as committed: the match's own is the truth about it; an open copy the
        match does not hold was written by a change that never committed."""
        current = match.dispute
        return [current if current and copy.id == current.id else copy for copy in copies
                if (current and copy.id == current.id) or copy.status is not DisputeStatus.OPEN]

    # -- moves -------------------------------------------------------------------------------

    async def open_check_in(self, match_id: str, user: Principal, version: int | None = None) -> Match:
        return await self._change(match_id, Action.OPEN_CHECK_IN, user, version,
                                  lambda m, _: rules.open_check_in(m, self._clock()))

    async def check_in(self, match_id: str, user: Principal, participant_id: str | None = None,
                       version: int | None = None) -> Match:
        """Check in `user`, or (organizers only) `participant_id` on their behalf."""
        who = participant_id if participant_id and user.is_organizer else user.participant_id
        return await self._change(match_id, Action.CHECK_IN, user, version,
                                  lambda m, _: rules.check_in(m, who, self._clock()))

    async def start(self, match_id: str, user: Principal, version: int | None = None) -> Match:
        """Raises as any move, and InvalidTransitionError (player_busy) in a tournament with
        stations when a player is playing, or called to a station, elsewhere."""
        await self._refuse_double_booking(match_id)
        return await self._change(match_id, Action.START, user, version,
                                  lambda m, _: rules.start(m, self._clock()))

    async def _refuse_double_booking(self, match_id: str) -> None:
        """With stations, a player is never in two matches at once (the call queue keeps it so;
        this keeps a match started by hand from breaking it)."""
        match = await self._store.get_match(match_id)
        if not (await self._store.get_tournament(match.tournament_id)).stations:
            return
        calls.refuse_double_booking(match, await self._store.list_matches(match.tournament_id))

    async def update_score(self, match_id: str, user: Principal, scores: Mapping[str, int],
                           version: int | None = None, game: int | None = None) -> asyncio.Future[Match]:
        """A live score (in a series, of the game being played: `game` if given must be it):
        refused now if it must be (403, 409, 422), else batched with the match's other
        updates, or, guarded by `version`, written now (after any batch waiting for the
        match, so an older batched score can never land after it). The future gives the match
        once written; waiting for it is the caller's choice.
        """
        self._refuse_when_closing()
        if version is None:
            match = await self._store.get_match(match_id)
            await self._check_acting(user)
            rules.authorize(match, Action.UPDATE_SCORE, user)
            rules.check_live_score(match, scores, game)
            current = match.current_game
            self._refuse_when_closing()  # again: close() may have flushed every batch meanwhile
            waiter = self.scores.submit(match_id, user, scores, current.number if current else None)
            await self.scores.queued()  # with several nodes: in the match's shared queue before the ack
            return waiter
        await self.scores.flush(match_id)
        written: asyncio.Future[Match] = asyncio.get_running_loop().create_future()
        written.set_result(await self._change(
            match_id, Action.UPDATE_SCORE, user, version,
            lambda m, _: rules.update_score(m, scores, self._clock(), game=game)))
        return written

    async def _write_score(self, match_id: str, user: Principal, scores: Mapping[str, int],
                           game: int | None) -> Match:
        """A batch's write (the batcher calls it)."""
        return await self._change(match_id, Action.UPDATE_SCORE, user, None,
                                  lambda m, _: rules.update_score(m, scores, self._clock(), game=game),
                                  flush=False)

    async def report_result(self, match_id: str, user: Principal, scores: Mapping[str, int] | None,
                            version: int | None = None, *, game: int | None = None,
                            games: Sequence[Mapping[str, int]] | None = None) -> Match:
        """A result; in a series of the game being played (`game`) or of the whole series (`games`)."""
        return await self._change(match_id, Action.REPORT_RESULT, user, version,
                                  lambda m, _: rules.report_result(m, user, scores, self._clock(),
                                                                   game=game, games=games))

    async def set_format(self, match_id: str, user: Principal, fmt: SeriesFormat,
                         version: int | None = None) -> Match:
        """How many games a match that has not started is (organizers)."""
        return await self._change(match_id, Action.SET_FORMAT, user, version,
                                  lambda m, _: rules.set_format(m, fmt, self._clock()))

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
                              scores: Mapping[str, int] | None, resolution: str,
                              games: Sequence[Mapping[str, int]] | None = None) -> tuple[Dispute, Match]:
        """Close an open dispute and complete its match. Raises NotFoundError,
        ForbiddenError, InvalidTransitionError (dispute not open), InvalidValueError."""
        require_organizer(user, "resolve a dispute")
        dispute = await self.get_dispute(dispute_id)

        def decide(match: Match, open_dispute: Dispute | None) -> Outcome:
            if open_dispute is None or open_dispute.id != dispute_id:
                raise InvalidTransitionError(f"dispute {dispute_id} is {dispute.status.value}",
                                             code="dispute_not_open", state=dispute.status.value)
            return rules.resolve(match, open_dispute, user, reject=reject, scores=scores, games=games,
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

    # -- map veto ----------------------------------------------------------------------------

    async def start_veto(self, match_id: str, user: Principal, config: veto.VetoConfig | None = None,
                         first_id: str | None = None, rng_seed: int | None = None,
                         version: int | None = None, *, overrides: Mapping[str, Any] | None = None) -> Match:
        """Start (or start again) a match's map veto with `config`, or its stage's default (a
        group match: the group stage's `settings.groups.veto` if it has one; else the
        tournament's `settings.veto`) changed by `overrides` (its fields but the pool). Who
        starts follows the config's `first`; `rng_seed` (recorded) makes the coin flip and every
        random turn replayable. Raises as any move, and InvalidValueError (no map pool
        anywhere, a bad pool or sequence, first_id missing)."""
        match = await self._store.get_match(match_id)
        tournament = await self._store.get_tournament(match.tournament_id)
        if config is None:
            default = stages.veto_settings(tournament.settings, match.slot.group if match.slot else None)
            if default is None:
                raise InvalidValueError("this tournament has no map pool: give this match one (a list of maps)",
                                        field="pool")
            config = veto.config_from({**default[1], **(overrides or {})})
        seeds = {pid: i for i, pid in enumerate(tournament.seed_order, start=1)} or {
            p.id: p.seed for p in await self._store.list_participants(match.tournament_id) if p.seed is not None}
        seed = random.SystemRandom().randrange(2**31) if rng_seed is None else rng_seed
        chosen = config

        def decide(m: Match, _: Dispute | None) -> Outcome:
            first = veto.first_of(m, chosen.first, seeds, seed, first_id)
            return veto.begin(m, chosen, first, chosen.first, seed, self._clock())

        after = await self._change(match_id, Action.START_VETO, user, version, decide)
        self._arm_veto(after)
        return after

    async def take_veto_turn(self, match_id: str, user: Principal, choice: str, action: str | None = None,
                             version: int | None = None, *, side: bool | None = None) -> Match:
        """The veto's current turn: a map banned or picked, or (`side`) a side (its player, or
        an organizer for them). Raises as any move, and as `veto.take`."""
        after = await self._change(match_id, Action.VETO, user, version,
                                   lambda m, _: veto.take(m, user, choice, action, self._clock(), side=side))
        self._arm_veto(after)
        return after

    def _arm_veto(self, match: Match) -> None:
        """One timer per match for its veto turn's deadline (the last one set replaces any other)."""
        self._veto_timers.disarm(match.id)
        current = match.veto
        if current is None or current.deadline is None or current.complete or self.closing:
            return
        index = len(current.taken)
        self._veto_timers.arm(match.id, current.deadline - self._clock(),
                              lambda: self._veto_timed_out(match.id, index))

    async def _veto_timed_out(self, match_id: str, index: int) -> None:
        """A veto turn's time ran out: the rule of its veto applies (a system move, through the
        writer). Never raises."""
        self._veto_timers.fired(match_id)
        if self.closing:
            return
        with self._moves.hold():
            try:
                outcome = await self._writer.write(match_id, lambda m: veto.timeout(m, index, self._clock()))
                self._arm_veto(outcome.match)
            except Exception:
                log.exception("the veto timeout of %s failed", match_id)

    async def resume_vetoes(self, tournament_id: str) -> None:
        """Arm the turn timers of the tournament's vetoes under way (after a restart); a
        deadline already past runs out at once."""
        for match in await self._store.list_matches(tournament_id):
            if match.veto is not None and match.veto.deadline is not None and not match.veto.complete:
                self._arm_veto(match)

    async def close(self) -> None:
        """Take no more moves (each is refused with shutting_down), write every batch, and wait
        for the moves already under way (a batch its timer is writing included): once this
        returns, no match write is under way and none can start."""
        self.closing = True
        self._veto_timers.clear()
        await self.scores.flush_all()
        await self._moves.idle()

    async def _check_acting(self, user: Principal) -> None:
        """A team member acts for their team only as its roster and `team_actors` allow, now.
        Raises ForbiddenError."""
        if user.acts_for is not None:
            if self._acting is None:
                raise ForbiddenError("this server does not let team members act", code="insufficient_permissions")
            await self._acting.check_acting(user)

    def _refuse_when_closing(self) -> None:
        if self.closing:
            raise ShuttingDownError("the server is shutting down; retry once it is back")

    async def _change(self, match_id: str, action: Action, user: Principal, version: int | None,
                      decide: MoveDecide, *, flush: bool = True) -> Match:
        return (await self._apply(match_id, action, user, version, decide, flush=flush)).match

    async def _apply(self, match_id: str, action: Action, user: Principal, version: int | None,
                     decide: MoveDecide, *, flush: bool = True) -> Outcome:
        """Flush the match's waiting scores (the final score lands before any other move),
        then authorize, decide and commit through the writer; tell the bracket when a bracket
        match ended.

        Raises ShuttingDownError, NotFoundError, ForbiddenError, InvalidTransitionError,
        InvalidValueError, StaleVersionError, ConflictError (lost every retry to another process).
        """
        if flush:
            self._refuse_when_closing()

        def checked(match: Match) -> Outcome:
            if version is not None and version != match.version:
                raise StaleVersionError(f"the match is at version {match.version}, not {version}",
                                        version=match.version, state=match.state.value)
            rules.authorize(match, action, user)
            return decide(match, match.open_dispute)

        with self._moves.hold():
            if flush:
                await self._check_acting(user)  # a batch's write was checked when submitted
                await self.scores.flush(match_id)
            outcome = await self._writer.write(match_id, checked)
            if outcome.match.state in FINAL_STATES and outcome.match.slot is not None:
                await self._bracket.match_ended(outcome.match)
            return outcome

