"""RegistrationService: players registering themselves (a code the organizer hands out, a cap,
a waitlist, the organizer's approval) and checking in before the start; and the check-in
cut-off the start applies (`cut_off_at_start`). The rules are in waitlist.py.

Every change holds the tournament's lock (shared with the participants, the bracket, the draw
and the links) and is announced to the tournament room: `registration_updated` for the
settings, `participant_added` / `participant_updated` / `participant_removed` for entries.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from typing import Any

from tournament import brackets, waitlist
from tournament.errors import AlreadyExistsError, ForbiddenError, InvalidTransitionError, InvalidValueError
from tournament.events import (PARTICIPANT_ADDED, PARTICIPANT_REMOVED, PARTICIPANT_UPDATED, REGISTRATION_UPDATED,
                               NullPublisher, Publisher)
from tournament.links import Link, LinkService, UnknownCodeError, new_code
from tournament.locks import KeyedLocks
from tournament.models import (CheckIn, EntryStatus, Event, Participant, Registration, Tournament, new_id,
                               tournament_stream)
from tournament.participants import OPEN, RESERVED_IDS, STAMP_STEP_S, UNCHANGED, Unchanged, check_open, name_taken
from tournament.roles import Principal, Role
from tournament.store import ConflictError, NotFoundError, Store
from tournament.tournaments import require_organizer

CHECK_IN_STATES = ("off", "open", "closed")
MAX_CAP = 4096  # the most seeds a bracket has


NOT_ITS_CODE = "no registration of this tournament has that code"


@dataclasses.dataclass(frozen=True)
class Registered:
    """A player who registered themselves: their record, their waitlist place, their link."""

    participant: Participant
    place: int | None
    link: Link


class RegistrationService:
    def __init__(self, store: Store, links: LinkService, clock: Callable[[], float] = time.time,
                 locks: KeyedLocks | None = None, publisher: Publisher | None = None) -> None:
        self._store = store
        self._links = links
        self._clock = clock
        self._locks = locks or KeyedLocks()  # per tournament, shared with the participants and the bracket
        self._publisher = publisher or NullPublisher()

    async def view(self, tournament_id: str, user: Principal) -> dict[str, Any]:
        """The settings, how many are registered, and the pending, waitlisted (with places) and
        dropped; the code for organizers only (null for anyone else). Raises NotFoundError."""
        tournament = await self._store.get_tournament(tournament_id)
        return _view(tournament, await self._store.list_entries(tournament_id), user.is_organizer)

    async def configure(self, tournament_id: str, user: Principal, *, open: bool | None = None,
                        cap: int | None | Unchanged = UNCHANGED, waitlist_on: bool | None = None,
                        approval: bool | None = None, check_in_state: str | None = None,
                        at_start: str | None = None) -> dict[str, Any]:
        """Change the settings (None, or UNCHANGED for the cap: unchanged; a cap of None: no cap).
        Opening registration the first time mints its code. Places a change frees (a cap raised
        or removed) go to the waitlist, in order. Raises ForbiddenError, NotFoundError,
        InvalidValueError (a state or at_start not known, a cap out of range)."""
        require_organizer(user, "change the registration")
        if check_in_state is not None and check_in_state not in CHECK_IN_STATES:
            raise InvalidValueError(f"check_in.state must be one of {', '.join(CHECK_IN_STATES)}",
                                    field="check_in.state")
        if at_start is not None and at_start not in waitlist.AT_START:
            raise InvalidValueError(f"check_in.at_start must be one of {', '.join(waitlist.AT_START)}",
                                    field="check_in.at_start")
        if isinstance(cap, int) and not 1 <= cap <= MAX_CAP:
            raise InvalidValueError(f"cap: must be between 1 and {MAX_CAP}, or null for no cap", field="cap")
        async with self._locks.hold(tournament_id):
            tournament = await self._store.get_tournament(tournament_id)
            before = tournament.registration
            check_in = CheckIn(state=before.check_in.state if check_in_state is None else check_in_state,
                               at_start=before.check_in.at_start if at_start is None else at_start)
            after = Registration(open=before.open if open is None else open,
                                 cap=before.cap if isinstance(cap, Unchanged) else cap,
                                 waitlist=before.waitlist if waitlist_on is None else waitlist_on,
                                 approval=before.approval if approval is None else approval,
                                 code=before.code or (new_code({}) if open else None), check_in=check_in)
            entries = await self._store.list_entries(tournament_id)
            if after != before:
                tournament = dataclasses.replace(tournament, registration=after, version=tournament.version + 1)
                await self._store.save_tournament(tournament)
            promoted = waitlist.promotions(after, entries) if after != before else []
            for p in promoted:
                await self._store.save_participant(p)
            entries = [next((q for q in promoted if q.id == p.id), p) for p in entries]
        if after != before:
            self._announce(tournament_id, REGISTRATION_UPDATED, {"registration": after.to_json()})
        self._updated(promoted)
        return _view(tournament, entries, True)

    async def new_code(self, tournament_id: str, user: Principal) -> dict[str, Any]:
        """A new registration code; the old one is refused from now on. Raises ForbiddenError,
        NotFoundError."""
        require_organizer(user, "change the registration code")
        async with self._locks.hold(tournament_id):
            tournament = await self._store.get_tournament(tournament_id)
            code = new_code({tournament.registration.code: ""} if tournament.registration.code else {})
            tournament = dataclasses.replace(tournament, version=tournament.version + 1,
                                             registration=dataclasses.replace(tournament.registration, code=code))
            await self._store.save_tournament(tournament)
            entries = await self._store.list_entries(tournament_id)
        return _view(tournament, entries, True)

    async def register(self, tournament_id: str, code: str, name: str, participant_id: str | None = None) -> Registered:
        """A player registers themselves with the tournament's registration code: registered,
        pending (approval) or waitlisted (over the cap), and answered their own event link.

        Raises UnknownCodeError (404: the code, or the tournament), InvalidTransitionError
        (registration_closed; the tournament started; a draw under way), AlreadyExistsError (name
        or id taken, whatever its status), InvalidValueError (a reserved id), RegistrationFullError
        (full, no waitlist)."""
        async with self._locks.hold(tournament_id):
            try:
                tournament = await self._store.get_tournament(tournament_id)
            except NotFoundError:
                raise UnknownCodeError(NOT_ITS_CODE) from None
            settings = tournament.registration
            if settings.code is None or _normal(code) != settings.code:
                raise UnknownCodeError(NOT_ITS_CODE)
            if not settings.open:
                raise InvalidTransitionError("registration is closed: ask the organizer", code="registration_closed")
            check_open(tournament, "registration is closed")
            entries = await self._store.list_entries(tournament_id)
            if participant_id in RESERVED_IDS:
                raise InvalidValueError(f"id: {participant_id!r} is reserved", field="id")
            if why := name_taken(name, entries):
                raise AlreadyExistsError(why)
            if participant_id is not None and any(p.id == participant_id for p in entries):
                raise AlreadyExistsError(f"participant {participant_id} is already registered")
            status = waitlist.status_for(settings, entries)
            at = max(self._clock(), max((p.created_at for p in entries), default=0.0) + STAMP_STEP_S)
            participant = Participant(id=participant_id or new_id("p"), tournament_id=tournament_id, name=name,
                                      seed=None, created_at=at, status=status)
            try:
                await self._store.insert_participant(participant)
            except ConflictError as e:
                raise AlreadyExistsError(f"participant {participant.id} is already registered") from e
            place = waitlist.place_of([*entries, participant], participant.id)
        self._announce(tournament_id, PARTICIPANT_ADDED, {"participant": participant.to_json(), "place": place})
        link = await self._links.mint_registered(tournament_id, participant.id)
        return Registered(participant, place, link)

    async def approve(self, tournament_id: str, participant_id: str, user: Principal) -> Participant:
        """A pending participant is registered, or waitlisted when the cap is reached. Raises
        ForbiddenError, NotFoundError, InvalidTransitionError (not pending; the tournament
        started), RegistrationFullError (full, no waitlist)."""
        require_organizer(user, "approve registrations")
        async with self._locks.hold(tournament_id):
            tournament = await self._store.get_tournament(tournament_id)
            check_open(tournament, "registration is closed")
            entries = await self._store.list_entries(tournament_id)
            participant = _pending(entries, participant_id)
            approved = dataclasses.replace(participant, status=waitlist.admitted(tournament.registration, entries))
            await self._store.save_participant(approved)
        self._updated([approved], entries=[approved if p.id == participant_id else p for p in entries])
        return approved

    async def reject(self, tournament_id: str, participant_id: str, user: Principal) -> Participant:
        """A pending participant is removed (`participant_removed`). Raises ForbiddenError,
        NotFoundError, InvalidTransitionError (not pending)."""
        require_organizer(user, "reject registrations")
        async with self._locks.hold(tournament_id):
            await self._store.get_tournament(tournament_id)
            participant = _pending(await self._store.list_entries(tournament_id), participant_id)
            await self._store.delete_participant(tournament_id, participant_id)
        self._announce(tournament_id, PARTICIPANT_REMOVED, {"participant_id": participant_id})
        return participant

    async def check_in(self, tournament_id: str, user: Principal, participant_id: str | None = None) -> Participant:
        """Check a participant in: a player themselves (their token) while check-in is open, or
        an organizer anyone (`participant_id`) while it is open or closed. Checking in twice
        changes nothing. Registered and waitlisted participants check in.

        Raises ForbiddenError (a spectator; a player for someone else or of another tournament),
        NotFoundError, InvalidValueError (an organizer without participant_id), InvalidTransitionError
        (check_in_closed; pending or dropped; the tournament started)."""
        if user.is_organizer:
            if participant_id is None:
                raise InvalidValueError("participant_id: an organizer says whom to check in", field="participant_id")
        elif user.role < Role.PLAYER or not user.acts_in(tournament_id) or \
                participant_id not in (None, user.participant_id):
            raise ForbiddenError("only the participant, or an organizer, checks a participant in",
                                 code="insufficient_permissions")
        subject = participant_id or user.participant_id
        async with self._locks.hold(tournament_id):
            tournament = await self._store.get_tournament(tournament_id)
            check_open(tournament, "check-in is over")
            state = tournament.registration.check_in.state
            if state == "off" or (state == "closed" and not user.is_organizer):
                raise InvalidTransitionError(f"check-in is {'not used' if state == 'off' else 'closed'}",
                                             code="check_in_closed")
            entries = await self._store.list_entries(tournament_id)
            participant = next((p for p in entries if p.id == subject), None)
            if participant is None:
                raise NotFoundError("participant", subject)
            if participant.status not in (EntryStatus.REGISTERED, EntryStatus.WAITLISTED):
                raise InvalidTransitionError(f"{participant.name} is {participant.status}: only registered and "
                                             "waitlisted participants check in", status=str(participant.status))
            if participant.checked_in_at is not None:
                return participant
            checked = dataclasses.replace(participant, checked_in_at=self._clock())
            await self._store.save_participant(checked)
        self._updated([checked])
        return checked

    def _updated(self, participants: Sequence[Participant], entries: Sequence[Participant] = ()) -> None:
        announce_updated(self._publisher, self._clock, participants, entries)

    def _announce(self, tournament_id: str, kind: str, data: dict[str, object]) -> None:
        announce(self._publisher, self._clock, tournament_id, kind, data)


async def cut_off_at_start(store: Store, locks: KeyedLocks, publisher: Publisher, clock: Callable[[], float],
                           tournament_id: str, seeding: str) -> None:
    """The check-in cut-off, applied by `BracketService.start` before it seeds anyone (the rule:
    `waitlist.cut_off`). Nothing when check-in is off or the tournament is not open (then the
    start refuses). A start refused afterwards keeps the cut; starting again changes nothing more.

    Raises InvalidValueError (field seeding: `bottom` with a seeding other than `given`, which
    would not keep the late at the bottom; too few would be left to play), before any write."""
    async with locks.hold(tournament_id):
        tournament = await store.get_tournament(tournament_id)
        if tournament.state not in OPEN:
            return
        entries = await store.list_entries(tournament_id)
        changes = waitlist.cut_off(tournament.registration, entries)
        if not changes:
            return
        if tournament.registration.check_in.at_start == waitlist.BOTTOM and seeding != "given":
            raise InvalidValueError(f"check-in puts the participants who did not check in at the bottom seeds, "
                                    f"which seeding {seeding!r} does not keep: start with seeding given, or set "
                                    "check_in.at_start to drop", field="seeding")
        changed = {p.id: p for p in changes}
        left = waitlist.registered([changed.get(p.id, p) for p in entries])
        if len(left) < brackets.MIN_PARTICIPANTS:
            raise InvalidValueError(f"only {len(left)} participant{'' if len(left) == 1 else 's'} checked in: "
                                    f"at least {brackets.MIN_PARTICIPANTS} are needed to start; nobody was dropped")
        # No transaction: seeds that move are cleared first, so every single write keeps seeds unique.
        before = {p.id: p for p in entries}
        for p in changes:
            if p.seed is not None and p.seed != before[p.id].seed and before[p.id].seed is not None:
                await store.save_participant(dataclasses.replace(p, seed=None))
        for p in changes:
            await store.save_participant(p)
    announce_updated(publisher, clock, changes, [changed.get(p.id, p) for p in entries])


def announce_updated(publisher: Publisher, clock: Callable[[], float], participants: Sequence[Participant],
                     entries: Sequence[Participant] = ()) -> None:
    """`participant_updated` for each, with its waitlist place when `entries` are given."""
    for p in participants:
        place = waitlist.place_of(entries, p.id) if entries else None
        announce(publisher, clock, p.tournament_id, PARTICIPANT_UPDATED, {"participant": p.to_json(), "place": place})


def announce(publisher: Publisher, clock: Callable[[], float], tournament_id: str, kind: str,
             data: dict[str, object]) -> None:
    publisher.publish(Event(stream=tournament_stream(tournament_id), seq=0, type=kind,
                            data={"tournament_id": tournament_id, **data}, ts=clock()))


def _pending(entries: Sequence[Participant], participant_id: str) -> Participant:
    participant = next((p for p in entries if p.id == participant_id), None)
    if participant is None:
        raise NotFoundError("participant", participant_id)
    if participant.status != EntryStatus.PENDING:
        raise InvalidTransitionError(f"{participant.name} is {participant.status}, not pending approval",
                                     status=str(participant.status))
    return participant


def _normal(code: str) -> str:
    return code.strip().upper().replace("-", "").replace(" ", "")


def _view(tournament: Tournament, entries: Sequence[Participant], organizer: bool) -> dict[str, Any]:
    listed = waitlist.waitlisted(entries)
    return {"tournament_id": tournament.id, **tournament.registration.to_json(),
            "code": tournament.registration.code if organizer else None,
            "registered": len(waitlist.registered(entries)),
            "pending": [p.to_json() for p in entries if p.status == EntryStatus.PENDING],
            "waitlisted": [{**p.to_json(), "place": i + 1} for i, p in enumerate(listed)],
            "dropped": [p.to_json() for p in entries if p.status == EntryStatus.DROPPED]}
