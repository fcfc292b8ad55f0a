"""DrawService: a bracket's seeding drawn live, one place at a time, for everyone watching.

`start` fixes the whole order at once from a random seed (given, or drawn from the system's
randomness) and records it; what the tournament shows is only what was revealed, and a
commitment to the seed (its SHA-256), so the draw is reproducible and nobody, the organizer
included, can change it once started: `next`, `all` and `undo` only move how much is shown.
When every place is revealed the seed itself is shown, and starting the tournament with
`seeding: "draw"` uses the drawn order. `abort` throws the draw away. Every step is an event
of the tournament room (`draw_started`, `draw_revealed`, `draw_undone`, `draw_aborted`).
"""

from __future__ import annotations

import dataclasses
import random
import time
from collections.abc import Callable
from typing import Any

from tournament import brackets
from tournament.errors import InvalidTransitionError, InvalidValueError
from tournament.events import DRAW_ABORTED, DRAW_REVEALED, DRAW_STARTED, DRAW_UNDONE, Publisher
from tournament.locks import KeyedLocks
from tournament.models import Draw, Event, Tournament, TournamentState, tournament_stream
from tournament.roles import Principal
from tournament.store import Store
from tournament.tournaments import require_organizer

OPEN = (TournamentState.DRAFT, TournamentState.REGISTRATION)


class DrawService:
    def __init__(self, store: Store, publisher: Publisher, clock: Callable[[], float] = time.time,
                 locks: KeyedLocks | None = None) -> None:
        self._store = store
        self._publisher = publisher
        self._clock = clock
        self._locks = locks or KeyedLocks()  # per tournament, shared with registration and the bracket

    async def start(self, tournament_id: str, user: Principal, rng_seed: int | None = None) -> Tournament:
        """Fix the order of every registered participant. Raises ForbiddenError, NotFoundError,
        InvalidTransitionError (the tournament started, or a draw is on), InvalidValueError
        (fewer than 2 participants)."""
        require_organizer(user, "draw the seeding")
        async with self._locks.hold(tournament_id):
            tournament = await self._open(tournament_id)
            if tournament.draw is not None and not tournament.draw.complete:
                raise InvalidTransitionError("a draw is on: finish it or abort it first", code="draw_in_progress",
                                             state=tournament.state)
            participants = await self._store.list_participants(tournament_id)
            if len(participants) < brackets.MIN_PARTICIPANTS:
                raise InvalidValueError(f"a draw needs at least {brackets.MIN_PARTICIPANTS} participants")
            seed = rng_seed if rng_seed is not None else random.SystemRandom().randrange(2**31)
            order = brackets.seed_order([p.id for p in participants], {}, "random", seed)
            drawn = await self._save(tournament, Draw(seed, tuple(order)))
        self._announce(drawn, DRAW_STARTED, {})
        return drawn

    async def reveal(self, tournament_id: str, user: Principal, *, all_: bool = False) -> Tournament:
        """Show the next place (or every place left). Raises ForbiddenError, NotFoundError,
        InvalidTransitionError (no draw on, or nothing left to show)."""
        require_organizer(user, "draw the seeding")
        async with self._locks.hold(tournament_id):
            tournament = await self._open(tournament_id)
            draw = self._current(tournament)
            if draw.complete:
                raise InvalidTransitionError("every place is drawn", code="draw_complete", state=tournament.state)
            upto = len(draw.order) if all_ else draw.revealed + 1
            drawn = await self._save(tournament, dataclasses.replace(draw, revealed=upto))
        shown = [{"seed": i + 1, "participant_id": draw.order[i]} for i in range(draw.revealed, upto)]
        self._announce(drawn, DRAW_REVEALED, {"places": shown})
        return drawn

    async def undo(self, tournament_id: str, user: Principal) -> Tournament:
        """Hide the last place shown (the order stays as drawn). Raises ForbiddenError,
        NotFoundError, InvalidTransitionError (no draw on, or nothing shown)."""
        require_organizer(user, "draw the seeding")
        async with self._locks.hold(tournament_id):
            tournament = await self._open(tournament_id)
            draw = self._current(tournament)
            if draw.revealed == 0:
                raise InvalidTransitionError("nothing is shown yet", code="draw_not_started", state=tournament.state)
            drawn = await self._save(tournament, dataclasses.replace(draw, revealed=draw.revealed - 1))
        self._announce(drawn, DRAW_UNDONE, {"seed": draw.revealed})
        return drawn

    async def abort(self, tournament_id: str, user: Principal) -> Tournament:
        """Throw the draw away. Raises ForbiddenError, NotFoundError, InvalidTransitionError."""
        require_organizer(user, "draw the seeding")
        async with self._locks.hold(tournament_id):
            tournament = await self._open(tournament_id)
            self._current(tournament)
            aborted = await self._save(tournament, None)
        self._announce(aborted, DRAW_ABORTED, {})
        return aborted

    async def _open(self, tournament_id: str) -> Tournament:
        tournament = await self._store.get_tournament(tournament_id)
        if tournament.state not in OPEN:
            raise InvalidTransitionError(f"the tournament is {tournament.state}: its seeding is settled",
                                         state=tournament.state)
        return tournament

    @staticmethod
    def _current(tournament: Tournament) -> Draw:
        if tournament.draw is None:
            raise InvalidTransitionError("no draw is on: start one", code="no_draw", state=tournament.state)
        return tournament.draw

    async def _save(self, tournament: Tournament, draw: Draw | None) -> Tournament:
        saved = dataclasses.replace(tournament, draw=draw, version=tournament.version + 1)
        await self._store.save_tournament(saved)
        return saved

    def _announce(self, tournament: Tournament, kind: str, data: dict[str, Any]) -> None:
        self._publisher.publish(Event(stream=tournament_stream(tournament.id), seq=0, type=kind, ts=self._clock(),
                                      data={"tournament_id": tournament.id, "tournament": tournament.to_json(),
                                            "draw": tournament.draw.to_json() if tournament.draw else None,
                                            **data}))
