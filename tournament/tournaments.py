"""TournamentService: tournaments (create, rename, archive, delete), the reading of their
participants, their ad-hoc matches.

Participants are registered, changed and removed by the ParticipantService (participants.py).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

from tournament import stages
from tournament.errors import ForbiddenError, InvalidTransitionError, InvalidValueError
from tournament.events import (TOURNAMENT_CREATED, TOURNAMENT_DELETED, TOURNAMENT_STATE_CHANGED, TOURNAMENT_UPDATED,
                               NullPublisher, Publisher)
from tournament.locks import KeyedLocks
from tournament.models import (BEST_OF_1, Event, Match, MatchState, Participant, SeriesFormat, Tournament,
                               TournamentState, new_id, tournament_stream)
from tournament.roles import Principal
from tournament.store import NotFoundError, Store

FORMATS = ("single_elimination", "double_elimination", "round_robin", "swiss", stages.FORMAT)
TEAM_ACTORS = ("captain", "any")  # who acts for a team (tournament/teams.py)


def require_organizer(user: Principal, doing: str) -> None:
    """Raises ForbiddenError unless `user` is an organizer or admin."""
    if not user.is_organizer:
        raise ForbiddenError(f"only an organizer may {doing}", code="insufficient_permissions")


class TournamentService:
    def __init__(self, store: Store, clock: Callable[[], float] = time.time,
                 locks: KeyedLocks | None = None, publisher: Publisher | None = None) -> None:
        self._store = store
        self._clock = clock
        self._publisher = publisher or NullPublisher()
        self._registering = locks or KeyedLocks()  # per tournament, shared with the bracket

    async def create(self, user: Principal, name: str, game: str = "",
                     format: str = FORMATS[0], spectator_chat: bool = False) -> Tournament:
        """Raises ForbiddenError, InvalidValueError."""
        require_organizer(user, "create a tournament")
        if format not in FORMATS:
            raise InvalidValueError(f"format must be one of {', '.join(FORMATS)}", field="format")
        tournament = Tournament(id=new_id("t"), name=name, game=game, format=format, state=TournamentState.DRAFT,
                                created_by=user.user_id, created_at=self._clock(), spectator_chat=spectator_chat)
        await self._store.insert_tournament(tournament)
        self._announce(tournament, TOURNAMENT_CREATED, {})
        return tournament

    async def get(self, tournament_id: str) -> Tournament:
        """Raises NotFoundError (also for one being deleted)."""
        tournament = await self._store.get_tournament(tournament_id)
        if tournament.deleting:
            raise NotFoundError("tournament", tournament_id)
        return tournament

    async def list_tournaments(self, limit: int = 100, after: str | None = None,
                               archived: bool = False) -> list[Tournament]:
        """Newest first, at most `limit`, after the tournament `after` (a page's cursor): the
        archived ones, or the others. Raises NotFoundError for an unknown cursor."""
        before = None
        if after is not None:
            last = await self._store.get_tournament(after)
            before = (last.created_at, last.id)
        listed = await self._store.list_tournaments(limit, before, archived)
        return [t for t in listed if not t.deleting]

    async def update(self, tournament_id: str, user: Principal, *, name: str | None = None,
                     game: str | None = None, archived: bool | None = None,
                     team_actors: str | None = None) -> Tournament:
        """Rename, change the game, archive or bring back from the archive, set who acts for a
        team (`team_actors`: captain | any), in any state. A change that changes nothing
        writes nothing. Raises ForbiddenError, NotFoundError, InvalidValueError."""
        require_organizer(user, "change a tournament")
        if team_actors is not None and team_actors not in TEAM_ACTORS:
            raise InvalidValueError(f"team_actors must be one of {', '.join(TEAM_ACTORS)}", field="team_actors")
        async with self._registering.hold(tournament_id):
            tournament = await self.get(tournament_id)
            updated = dataclasses.replace(tournament, name=tournament.name if name is None else name,
                                          game=tournament.game if game is None else game,
                                          archived=tournament.archived if archived is None else archived,
                                          team_actors=tournament.team_actors if team_actors is None else team_actors)
            changes = [k for k in ("name", "game", "archived", "team_actors")
                       if getattr(updated, k) != getattr(tournament, k)]
            if not changes:
                return tournament
            updated = dataclasses.replace(updated, version=tournament.version + 1)
            await self._store.save_tournament(updated)
        self._announce(updated, TOURNAMENT_UPDATED, {"changed": sorted(changes)})
        return updated

    async def delete(self, tournament_id: str, user: Principal, confirm: str) -> None:
        """Delete a tournament that is not live, and everything of it: `confirm` must be its
        name, exactly. First marked as being deleted (the commit point: from then on it reads
        as gone), then its records go, the tournament's last (finish_deletion).

        Raises ForbiddenError, NotFoundError, InvalidValueError (confirm), InvalidTransitionError (live)."""
        require_organizer(user, "delete a tournament")
        async with self._registering.hold(tournament_id):
            tournament = await self.get(tournament_id)
            if confirm != tournament.name:
                raise InvalidValueError("confirm must be the tournament's name, exactly, to delete it", field="confirm")
            if tournament.state == TournamentState.LIVE:
                raise InvalidTransitionError("a live tournament cannot be deleted: cancel it first",
                                             state=tournament.state)
            marked = dataclasses.replace(tournament, deleting=True, version=tournament.version + 1)
            await self._store.save_tournament(marked)
        self._publisher.publish(Event(stream=tournament_stream(tournament_id), seq=0, type=TOURNAMENT_DELETED,
                                      data={"tournament_id": tournament_id, "name": tournament.name},
                                      ts=self._clock()))
        await self.finish_deletion(tournament_id)

    async def finish_deletion(self, tournament_id: str) -> None:
        """Delete the records of a tournament marked as being deleted (again after a crash: idempotent)."""
        await self._store.delete_tournament(tournament_id)

    def _announce(self, tournament: Tournament, kind: str, data: dict[str, object]) -> None:
        self._publisher.publish(Event(stream=tournament_stream(tournament.id), seq=0, type=kind,
                                      data={"tournament_id": tournament.id, "tournament": tournament.to_json(),
                                            **data}, ts=self._clock()))

    async def open_registration(self, tournament_id: str, user: Principal) -> Tournament:
        """draft -> registration. Raises ForbiddenError, NotFoundError, InvalidTransitionError."""
        return await self._move(tournament_id, user, "open registration", (TournamentState.DRAFT,),
                                TournamentState.REGISTRATION)

    async def _move(self, tournament_id: str, user: Principal, doing: str, sources: tuple[str, ...],
                    target: str) -> Tournament:
        require_organizer(user, doing)
        async with self._registering.hold(tournament_id):
            tournament = await self._store.get_tournament(tournament_id)
            if tournament.state not in sources:
                raise InvalidTransitionError(f"cannot {doing} while the tournament is {tournament.state}",
                                             state=tournament.state)
            moved = dataclasses.replace(tournament, state=target, version=tournament.version + 1)
            await self._store.save_tournament(moved)
        self._announce(moved, TOURNAMENT_STATE_CHANGED, {"from": tournament.state, "to": target})
        return moved

    async def list_participants(self, tournament_id: str) -> list[Participant]:
        await self._store.get_tournament(tournament_id)
        return await self._store.list_participants(tournament_id)

    async def create_match(self, tournament_id: str, user: Principal, participant_ids: list[str],
                           round: int | None = None, label: str = "", fmt: SeriesFormat = BEST_OF_1) -> Match:
        """An ad-hoc match between two registered participants, in state scheduled.

        Raises NotFoundError, ForbiddenError, InvalidValueError.
        """
        require_organizer(user, "create matches")
        await self._store.get_tournament(tournament_id)
        if len(participant_ids) != 2 or participant_ids[0] == participant_ids[1]:
            raise InvalidValueError("a match needs two different participants", field="participant_ids")
        registered = {p.id for p in await self._store.list_participants(tournament_id)}
        missing = [pid for pid in participant_ids if pid not in registered]
        if missing:
            raise InvalidValueError(f"not registered in this tournament: {', '.join(missing)}",
                                    field="participant_ids")
        now = self._clock()
        match = Match(id=new_id("m"), tournament_id=tournament_id,
                      participant_ids=(participant_ids[0], participant_ids[1]),
                      state=MatchState.SCHEDULED, created_at=now, updated_at=now, round=round,
                      label=label, format=fmt)
        await self._store.insert_match(match)
        return match

    async def list_matches(self, tournament_id: str, limit: int | None = None,
                           after: str | None = None) -> list[Match]:
        """In creation order: all, or at most `limit` after the match `after` (a page's
        cursor). Raises NotFoundError (the tournament, or a cursor that is not its match)."""
        await self._store.get_tournament(tournament_id)
        matches = await self._store.list_matches(tournament_id)
        if after is not None:
            index = next((i for i, m in enumerate(matches) if m.id == after), None)
            if index is None:
                raise NotFoundError("match", after)
            matches = matches[index + 1:]
        return matches if limit is None else matches[:limit]
