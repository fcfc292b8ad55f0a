"""ParticipantService: who is registered in a tournament. Participants are added (one, or many
at once), renamed, re-seeded and removed here, and each change is announced to the tournament
room (`participant_added`, `participant_updated`, `participant_removed`, `participants_reseeded`).
Organizer adds are `registered` and bounded by the cap (tournament/waitlist.py); removing a
registered participant gives their place to the waitlist.

The rules: names are unique ignoring case, seeds (1 to 4096) unique, ids unique. The list may
change only before the start and while no draw is under way; a name may be fixed at any time.
Every change holds the tournament's lock (shared with the bracket, the draw and the links), so
what was checked is still true when it is written.
"""

from __future__ import annotations

import collections
import dataclasses
import enum
import time
from collections.abc import Callable, Iterable, Sequence

from tournament import waitlist
from tournament.errors import (AlreadyExistsError, InvalidRowsError, InvalidTransitionError, InvalidValueError,
                               RowProblem)
from tournament.events import (PARTICIPANT_ADDED, PARTICIPANT_REMOVED, PARTICIPANT_UPDATED, PARTICIPANTS_RESEEDED,
                               NullPublisher, Publisher)
from tournament.locks import KeyedLocks
from tournament.models import FINAL_STATES, EntryStatus, Event, Participant, Tournament, TournamentState, new_id, tournament_stream
from tournament.participant_rows import MAX_SEED, Row
from tournament.roles import Principal
from tournament.store import ConflictError, NotFoundError, Store
from tournament.tournaments import require_organizer

OPEN = (TournamentState.DRAFT, TournamentState.REGISTRATION)
RESERVED_IDS = frozenset({"bulk"})  # /participants/bulk is a route, so no participant may be called that
STAMP_STEP_S = 1e-6  # participants added at once are registered this far apart, in row order
LISTED = 10  # ids a message names before "and N more"


class Unchanged(enum.Enum):
    UNCHANGED = "unchanged"


UNCHANGED = Unchanged.UNCHANGED  # a field an update leaves as it is (None would mean "no seed")


class ParticipantService:
    def __init__(self, store: Store, clock: Callable[[], float] = time.time,
                 locks: KeyedLocks | None = None, publisher: Publisher | None = None) -> None:
        self._store = store
        self._clock = clock
        self._locks = locks or KeyedLocks()  # per tournament, shared with the bracket, the draw and the links
        self._publisher = publisher or NullPublisher()

    async def add(self, tournament_id: str, user: Principal, name: str, participant_id: str | None = None,
                  seed: int | None = None) -> Participant:
        """Register a participant; its id is the user id its player token will carry.

        Raises ForbiddenError, NotFoundError, InvalidTransitionError (registration closed, a draw
        under way), AlreadyExistsError (id, name or seed taken), InvalidValueError (a reserved id).
        """
        require_organizer(user, "add participants")
        async with self._locks.hold(tournament_id):
            tournament = await self._store.get_tournament(tournament_id)
            self._check_open(tournament, "registration is closed")
            registered = await self._store.list_entries(tournament_id)  # names and ids are unique whatever the status
            if participant_id in RESERVED_IDS:
                raise InvalidValueError(f"id: {participant_id!r} is reserved", field="id")
            if why := name_taken(name, registered) or seed_taken(seed, registered):
                raise AlreadyExistsError(why)
            waitlist.check_room(tournament.registration, registered, 1)
            participant = Participant(id=participant_id or new_id("p"), tournament_id=tournament_id, name=name,
                                      seed=seed, created_at=self._stamps(registered, 1)[0])
            try:
                await self._store.insert_participant(participant)
            except ConflictError as e:
                raise AlreadyExistsError(f"participant {participant.id} is already registered") from e
        self._added([participant])
        return participant

    async def add_many(self, tournament_id: str, user: Principal, rows: Sequence[Row]) -> list[Participant]:
        """Register every row, in order, or none: each row is checked first (its own problems,
        then names, seeds and ids against the registered and the rows before it).

        Raises ForbiddenError, NotFoundError, InvalidTransitionError (registration closed, a draw
        under way), InvalidRowsError (every row's problems; nothing added), AlreadyExistsError
        (an id registered meanwhile by another process; nothing added).
        """
        require_organizer(user, "add participants")
        async with self._locks.hold(tournament_id):
            tournament = await self._store.get_tournament(tournament_id)
            self._check_open(tournament, "registration is closed")
            registered = await self._store.list_entries(tournament_id)
            problems = rows_refused(rows, registered)
            if problems:
                raise InvalidRowsError(problems)
            waitlist.check_room(tournament.registration, registered, len(rows))
            added = [Participant(id=row.id or new_id("p"), tournament_id=tournament_id, name=row.name or "",
                                 seed=row.seed, created_at=at)
                     for row, at in zip(rows, self._stamps(registered, len(rows)))]
            try:
                await self._store.insert_participants(added)
            except ConflictError as e:
                raise AlreadyExistsError("a participant of these rows was registered meanwhile; "
                                         "nothing was added") from e
        self._added(added)
        return added

    async def update(self, tournament_id: str, participant_id: str, user: Principal, *, name: str | None = None,
                     seed: int | None | Unchanged = UNCHANGED) -> Participant:
        """Rename (in any state) or re-seed (`None`: no seed; only before the start and while no
        draw is under way; the same seed again is no change). A change that changes nothing
        writes nothing.

        Raises ForbiddenError, NotFoundError, InvalidValueError (nothing to change),
        InvalidTransitionError (a new seed after the start, or during a draw), AlreadyExistsError
        (name or seed taken).
        """
        require_organizer(user, "change participants")
        if name is None and seed is UNCHANGED:
            raise InvalidValueError("give the name or the seed to change (or both)")
        async with self._locks.hold(tournament_id):
            tournament = await self._store.get_tournament(tournament_id)
            registered = await self._store.list_entries(tournament_id)
            participant = _find(registered, participant_id)
            others = [p for p in registered if p.id != participant_id]
            changed = participant
            if not isinstance(seed, Unchanged) and seed != participant.seed:
                self._check_open(tournament, "the seeding is fixed once the tournament has started")
                if why := seed_taken(seed, others):
                    raise AlreadyExistsError(why)
                changed = dataclasses.replace(changed, seed=seed)
            if name is not None and name != participant.name:
                if why := name_taken(name, others):
                    raise AlreadyExistsError(why)
                changed = dataclasses.replace(changed, name=name)
            if changed == participant:
                return participant
            await self._store.save_participant(changed)
        self._announce(tournament_id, PARTICIPANT_UPDATED, {"participant": changed.to_json()})
        return changed

    async def remove(self, tournament_id: str, participant_id: str, user: Principal) -> Participant:
        """Unregister a participant before the start (afterwards they are disqualified instead),
        whatever their status; a registered one's place goes to the waitlist (waitlist.promotions).

        Raises ForbiddenError, NotFoundError, InvalidTransitionError (the tournament started, a
        draw under way, or participant_in_match: an open match of theirs; cancel or end it first).
        """
        require_organizer(user, "remove participants")
        async with self._locks.hold(tournament_id):
            tournament = await self._store.get_tournament(tournament_id)
            entries = await self._store.list_entries(tournament_id)
            participant = _find(entries, participant_id)
            self._check_open(tournament, "a participant cannot be removed",
                             instead="disqualify them, or forfeit their matches, instead")
            playing = next((m for m in await self._store.list_matches(tournament_id)
                            if participant_id in m.participant_ids and m.state not in FINAL_STATES), None)
            if playing is not None:
                raise InvalidTransitionError(f"{participant.name} plays in match {playing.id}: cancel it or let it "
                                             "end first", code="participant_in_match", state=tournament.state,
                                             match_id=playing.id)
            await self._store.delete_participant(tournament_id, participant_id)
            entries = [p for p in entries if p.id != participant_id]
            promoted = waitlist.promotions(tournament.registration, entries) \
                if participant.status == EntryStatus.REGISTERED else []
            for p in promoted:
                await self._store.save_participant(p)
        self._announce(tournament_id, PARTICIPANT_REMOVED, {"participant_id": participant_id})
        for p in promoted:
            self._announce(tournament_id, PARTICIPANT_UPDATED, {"participant": p.to_json(), "place": None})
        return participant

    async def reseed(self, tournament_id: str, user: Principal, order: Sequence[str]) -> list[Participant]:
        """Seed every registered participant, 1 to n in `order`; answer them in that order.

        Raises ForbiddenError, NotFoundError, InvalidTransitionError (the tournament started, a
        draw under way), InvalidValueError (field order: not every participant exactly once;
        the details list the `missing`, `unknown` and `repeated` ids).
        """
        require_organizer(user, "seed participants")
        async with self._locks.hold(tournament_id):
            self._check_open(await self._store.get_tournament(tournament_id),
                             "the seeding is fixed once the tournament has started")
            registered = {p.id: p for p in await self._store.list_participants(tournament_id)}
            _check_order(order, registered)
            seeded = [dataclasses.replace(registered[pid], seed=i + 1) for i, pid in enumerate(order)]
            moving = [p for p in seeded if p.seed != registered[p.id].seed]
            # No transaction: the seeds that move are cleared first, so every single write keeps
            # seeds unique, and a re-seed cut off midway leaves some unseeded, never two on one.
            for p in moving:
                if registered[p.id].seed is not None:
                    await self._store.save_participant(dataclasses.replace(p, seed=None))
            for p in moving:
                await self._store.save_participant(p)
        self._announce(tournament_id, PARTICIPANTS_RESEEDED, {"participants": [p.to_json() for p in seeded]})
        return seeded

    @staticmethod
    def _check_open(tournament: Tournament, closed: str, instead: str = "") -> None:
        """Refuse a change of who is registered, or of the seeding, once the tournament started
        (`closed` says what is refused, `instead` what to do) or while a draw is under way.
        Raises InvalidTransitionError."""
        if tournament.state not in OPEN:
            why = f"{closed}: the tournament is {tournament.state}" + (f"; {instead}" if instead else "")
            raise InvalidTransitionError(why, state=tournament.state)
        if tournament.draw is not None and not tournament.draw.complete:
            raise InvalidTransitionError("the seeding is being drawn: finish or abort the draw first",
                                         code="draw_in_progress", state=tournament.state)

    def _stamps(self, registered: Sequence[Participant], count: int) -> list[float]:
        """Registration times for `count` new participants: now, each after the one before and
        after everyone registered (the store lists in this order, whatever the clock did)."""
        first = max(self._clock(), max((p.created_at for p in registered), default=0.0) + STAMP_STEP_S)
        return [first + i * STAMP_STEP_S for i in range(count)]

    def _added(self, participants: Iterable[Participant]) -> None:
        for participant in participants:
            self._announce(participant.tournament_id, PARTICIPANT_ADDED, {"participant": participant.to_json()})

    def _announce(self, tournament_id: str, kind: str, data: dict[str, object]) -> None:
        self._publisher.publish(Event(stream=tournament_stream(tournament_id), seq=0, type=kind,
                                      data={"tournament_id": tournament_id, **data}, ts=self._clock()))


def check_open(tournament: Tournament, closed: str, instead: str = "") -> None:
    """Refuse a change of who is registered once the tournament started, or while a draw is
    under way (ParticipantService._check_open). Raises InvalidTransitionError."""
    ParticipantService._check_open(tournament, closed, instead)


def name_taken(name: str, others: Iterable[Participant]) -> str | None:
    """Why `name` cannot be registered beside `others` (names are unique ignoring case), or None."""
    folded = name.casefold()
    if any(p.name.casefold() == folded for p in others):
        return f"a participant named {name!r} is already registered"
    return None


def seed_taken(seed: int | None, others: Iterable[Participant]) -> str | None:
    """Why `seed` cannot be given beside `others` (seeds are unique), or None."""
    if seed is not None and any(p.seed == seed for p in others):
        return f"seed {seed} is already taken"
    return None


def rows_refused(rows: Sequence[Row], registered: Sequence[Participant]) -> list[RowProblem]:
    """Every problem of `rows`, in row order: their own (fields that could not be read), then
    a name, seed or id taken by a registered participant or by an earlier row."""
    # taken -> "" (by a registered participant) or the number of the earlier row that took it
    names: dict[object, str] = {p.name.casefold(): "" for p in registered}
    seeds: dict[object, str] = {p.seed: "" for p in registered if p.seed is not None}
    ids: dict[object, str] = {p.id: "" for p in registered}
    problems: list[RowProblem] = []

    def take(taken: dict[object, str], key: object, row: Row, field: str, what: str) -> None:
        if key in taken:
            by = f"row {taken[key]}" if taken[key] else "a registered participant"
            problems.append(RowProblem(row.number, field, f"{what} is taken by {by}"))
        else:
            taken[key] = str(row.number)

    for row in rows:
        problems.extend(row.problems)
        if row.name is not None:
            take(names, row.name.casefold(), row, "name", f"the name {row.name!r}")
        if row.seed is not None:
            take(seeds, row.seed, row, "seed", f"seed {row.seed}")
        if row.id in RESERVED_IDS:
            problems.append(RowProblem(row.number, "id", f"{row.id!r} is reserved"))
        elif row.id is not None:
            take(ids, row.id, row, "id", f"id {row.id}")
    order = {"name": 0, "seed": 1, "id": 2}
    return sorted(problems, key=lambda p: (p.row, order.get(p.field, 3)))


def _find(registered: Iterable[Participant], participant_id: str) -> Participant:
    """Raises NotFoundError (a participant of another tournament is unknown too)."""
    found = next((p for p in registered if p.id == participant_id), None)
    if found is None:
        raise NotFoundError("participant", participant_id)
    return found


def _check_order(order: Sequence[str], registered: dict[str, Participant]) -> None:
    """Raises InvalidValueError unless `order` names every registered participant exactly once."""
    counts = collections.Counter(order)
    repeated = [pid for pid, n in counts.items() if n > 1]
    unknown = [pid for pid in counts if pid not in registered]
    missing = [pid for pid in registered if pid not in counts]
    if missing or unknown or repeated:
        said = "; ".join(f"{what} {_listed(ids)}" for what, ids in
                         (("missing", missing), ("unknown", unknown), ("repeated", repeated)) if ids)
        raise InvalidValueError(f"order must name every registered participant exactly once: {said}",
                                field="order", missing=missing, unknown=unknown, repeated=repeated)
    if len(order) > MAX_SEED:
        raise InvalidValueError(f"order: at most {MAX_SEED} participants can be seeded", field="order")


def _listed(ids: Sequence[str]) -> str:
    shown = ", ".join(ids[:LISTED])
    return shown if len(ids) <= LISTED else f"{shown} and {len(ids) - LISTED} more"
