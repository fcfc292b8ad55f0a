"""Who gets a place, as pure rules: room under the cap, waitlist promotion, and the check-in
cut-off at the start. The RegistrationService and the ParticipantService write what these
decide (tournament/registration.py, tournament/participants.py)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from tournament import brackets
from tournament.errors import InvalidTransitionError
from tournament.models import EntryStatus, Participant, Registration

DROP, BOTTOM = "drop", "bottom"  # what the start does with the registered who did not check in
AT_START = (DROP, BOTTOM)


class RegistrationFullError(InvalidTransitionError):
    """The cap is reached and nobody more can be registered (HTTP 409)."""

    code = "registration_full"


def registered(entries: Sequence[Participant]) -> list[Participant]:
    return [p for p in entries if p.status == EntryStatus.REGISTERED]


def waitlisted(entries: Sequence[Participant]) -> list[Participant]:
    """The waitlist in its order (registration order): place 1 first."""
    return [p for p in entries if p.status == EntryStatus.WAITLISTED]


def place_of(entries: Sequence[Participant], participant_id: str) -> int | None:
    """A waitlisted participant's place (from 1), or None."""
    return next((i + 1 for i, p in enumerate(waitlisted(entries)) if p.id == participant_id), None)


def room(settings: Registration, entries: Sequence[Participant]) -> int | None:
    """Places free under the cap (None: no cap)."""
    return None if settings.cap is None else max(settings.cap - len(registered(entries)), 0)


def check_room(settings: Registration, entries: Sequence[Participant], adding: int) -> None:
    """Raises RegistrationFullError unless `adding` more fit under the cap."""
    free = room(settings, entries)
    if free is not None and adding > free:
        raise RegistrationFullError(f"the tournament is full: {settings.cap} registered at most, {free} place"
                                    f"{'' if free == 1 else 's'} left; raise the cap to add more", cap=settings.cap)


def status_for(settings: Registration, entries: Sequence[Participant]) -> EntryStatus:
    """The status a participant who registers themselves gets now: pending with approval,
    else registered while there is room, else waitlisted. Raises RegistrationFullError (full,
    no waitlist)."""
    if settings.approval:
        return EntryStatus.PENDING
    return admitted(settings, entries)


def admitted(settings: Registration, entries: Sequence[Participant]) -> EntryStatus:
    """Registered if there is room, else waitlisted (an approval, a self-registration).
    Raises RegistrationFullError (full, no waitlist)."""
    free = room(settings, entries)
    if free is None or free > 0:
        return EntryStatus.REGISTERED
    if settings.waitlist:
        return EntryStatus.WAITLISTED
    raise RegistrationFullError(f"the tournament is full ({settings.cap} registered) and has no waitlist",
                                cap=settings.cap)


def promotions(settings: Registration, entries: Sequence[Participant],
               only_checked_in: bool = False) -> list[Participant]:
    """The waitlisted who move up into the free places, in waitlist order, as registered (all
    of them with no cap). A promoted participant's seed is kept unless a registered one has
    it. `only_checked_in` (the start's cut-off) passes over those who did not check in."""
    free = room(settings, entries)
    seeds = {p.seed for p in registered(entries) if p.seed is not None}
    promoted: list[Participant] = []
    for p in waitlisted(entries):
        if free is not None and len(promoted) >= free:
            break
        if only_checked_in and p.checked_in_at is None:
            continue
        seed = None if p.seed in seeds else p.seed
        if seed is not None:
            seeds.add(seed)
        promoted.append(dataclasses.replace(p, status=EntryStatus.REGISTERED, seed=seed))
    return promoted


def cut_off(settings: Registration, entries: Sequence[Participant]) -> list[Participant]:
    """What the start changes when check-in was used (its state is not `off`), in order: with
    `drop`, every registered participant who did not check in becomes dropped, then the
    waitlisted who checked in are promoted into the freed places (in waitlist order; those who
    did not check in stay waitlisted); with `bottom`, the registered who did not check in take
    the last seeds, the checked in the first, each group in its seed order (seeding `given`),
    and nobody is promoted (no place is freed). Nothing when check-in is off."""
    if settings.check_in.state == "off":
        return []
    playing = registered(entries)
    absent = [p for p in playing if p.checked_in_at is None]
    if settings.check_in.at_start == DROP:
        dropped = [dataclasses.replace(p, status=EntryStatus.DROPPED) for p in absent]
        gone = {p.id for p in absent}
        after = [p for p in entries if p.id not in gone]
        return [*dropped, *promotions(settings, after, only_checked_in=True)]
    order = brackets.seed_order([p.id for p in playing], {p.id: p.seed for p in playing}, "given", None)
    late = {p.id for p in absent}
    by_id = {p.id: p for p in playing}
    new_order = [pid for pid in order if pid not in late] + [pid for pid in order if pid in late]
    return [dataclasses.replace(by_id[pid], seed=i + 1) for i, pid in enumerate(new_order)
            if by_id[pid].seed != i + 1]
