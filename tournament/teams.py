"""Teams: a participant's roster (set here, announced as `participant_updated`), the roster
rules, and who may act for a team when a move is made.

A team is a participant with a tag and a roster: exactly one captain, players and substitutes,
at most MAX_MEMBERS. A member's id is the user id of their own link; it is unique in its team,
in only one team of the tournament, and never a participant's id. Rosters change freely until
the tournament starts; afterwards only an organizer's override changes one, and the roster it
replaced is kept in the participant's `roster_history`.

Members act for their team with their own links (`Principal.acts_for`). Who may, the
tournament's `team_actors` (`captain`, or `any` rostered player or the captain; substitutes
never), is checked by `Rosters` when they act, from memory: a tournament's rosters are read
once per CHECK_CACHE_S and kept true by the events of the changes made here.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from tournament import fields
from tournament.errors import ForbiddenError, InvalidTransitionError, InvalidValueError
from tournament.events import (PARTICIPANT_ADDED, PARTICIPANT_REMOVED, PARTICIPANT_UPDATED, TOURNAMENT_UPDATED,
                               NullPublisher, Publisher)
from tournament.locks import KeyedLocks
from tournament.models import Event, Participant, Team, TeamMember, Tournament, TournamentState, tournament_stream
from tournament.roles import Principal
from tournament.store import NotFoundError, Store
from tournament.tournaments import require_organizer

CAPTAIN, PLAYER, SUBSTITUTE = "captain", "player", "substitute"
MEMBER_ROLES = (CAPTAIN, PLAYER, SUBSTITUTE)
MAX_MEMBERS = 16
MAX_TAG = 8
MAX_MEMBER_NAME = 100
CHECK_CACHE_S = 2.0  # how long a tournament's rosters are trusted from memory (changes here update it)
OPEN = (TournamentState.DRAFT, TournamentState.REGISTRATION)


def roster_from(body: dict[str, Any]) -> Team:
    """A roster as a request states it: `tag` and `members` ([{"id", "name", "role"}]).
    Raises SchemaError (a field absent or of the wrong type), InvalidValueError."""
    tag = fields.text(body, "tag", max_len=MAX_TAG)
    items = body.get("members")
    if not isinstance(items, list):
        raise fields.bad_request("members must be a list of {id, name, role}", "members")
    if not 1 <= len(items) <= MAX_MEMBERS:
        raise fields.invalid("members", f"a team has 1 to {MAX_MEMBERS} members, not {len(items)}")
    members = []
    for item in items:
        if not isinstance(item, dict):
            raise fields.bad_request("members must be a list of {id, name, role}", "members")
        role = fields.text(item, "role", default=PLAYER, max_len=20)
        if role not in MEMBER_ROLES:
            raise fields.invalid("members", f"role must be one of {', '.join(MEMBER_ROLES)}, not {role!r}")
        member_id = fields.identifier(item, "id") or ""
        members.append(TeamMember(id=member_id, name=fields.text(item, "name", default=member_id,
                                                                 max_len=MAX_MEMBER_NAME), role=role))
    return Team(tag=tag, members=tuple(members))


def check_roster(participant_id: str, team: Team, entries: Iterable[Participant]) -> None:
    """Refuse a roster for participant `participant_id` beside the tournament's `entries`
    (every participant, this one included). Raises InvalidValueError: roster_invalid (not
    one captain, an id twice, a participant's id), member_in_another_team (details
    `member_id`, `team_id`)."""
    captains = [m for m in team.members if m.role == CAPTAIN]
    if len(captains) != 1:
        raise InvalidValueError(f"members: a team has exactly one captain, not {len(captains)}",
                                code="roster_invalid", field="members")
    seen: set[str] = set()
    for member in team.members:
        if member.id in seen:
            raise InvalidValueError(f"members: {member.id} is on the roster twice", code="roster_invalid",
                                    field="members", member_id=member.id)
        seen.add(member.id)
    for other in entries:
        if other.id in seen:
            raise InvalidValueError(f"members: {other.id} is a participant's id ({other.name}), not a member's",
                                    code="roster_invalid", field="members", member_id=other.id)
        if other.id != participant_id and other.team is not None:
            taken = next((m for m in other.team.members if m.id in seen), None)
            if taken is not None:
                raise InvalidValueError(f"members: {taken.name} ({taken.id}) is already on the roster of "
                                        f"{other.name} ({other.id}): a player is in one team only",
                                        code="member_in_another_team", field="members",
                                        member_id=taken.id, team_id=other.id)


def refusal_to_act(team_actors: str, team_name: str, team: Team | None, member_id: str) -> str | None:
    """Why member `member_id` may not act for the team (None: they may). A substitute never
    acts; a player acts only when `team_actors` is `any`."""
    member = team.member(member_id) if team else None
    if member is None:
        return f"you are not on the roster of {team_name}"
    who = (f"the captain of {team_name}" if team_actors == "captain"
           else f"the captain or a rostered player of {team_name}")
    if member.role == SUBSTITUTE or (member.role == PLAYER and team_actors == "captain"):
        return f"only {who} may act for the team; a {member.role} may not"
    return None


@dataclasses.dataclass(frozen=True)
class _Known:
    """One tournament's rosters as read: when, its team_actors, and team id -> (name, team)."""

    at: float
    team_actors: str
    teams: dict[str, tuple[str, Team]]


class Rosters:
    """Who may act for each team, as the acting checks read it (no store read per move): a
    tournament's setting and rosters, read at most once per `cache_s`, and kept true in
    between by the events of this process (a Publisher beside the hub: roster changes,
    removals, `team_actors` changes)."""

    def __init__(self, store: Store, clock: Callable[[], float] = time.time, cache_s: float = CHECK_CACHE_S,
                 max_tournaments: int = 10_000) -> None:
        self._store = store
        self._clock = clock
        self._cache_s = cache_s
        self._max = max_tournaments
        self._known: dict[str, _Known] = {}

    async def check_acting(self, user: Principal) -> None:
        """Refuse a team member's move for their team unless the roster and `team_actors`
        allow it now; anyone else passes. Raises ForbiddenError (insufficient_permissions),
        NotFoundError (the tournament is gone)."""
        if user.acts_for is None:
            return
        known = await self._read(user.tournament_id or "")
        name, team = known.teams.get(user.acts_for, (user.acts_for, None))
        why = refusal_to_act(known.team_actors, name, team, user.user_id)
        if why is not None:
            raise ForbiddenError(why, code="insufficient_permissions", team_id=user.acts_for,
                                 team_actors=known.team_actors)

    async def on_roster(self, user: Principal) -> bool:
        """Whether a team member's link still names a roster they are on (anyone else: True).
        Raises NotFoundError (the tournament is gone)."""
        if user.acts_for is None:
            return True
        _, team = (await self._read(user.tournament_id or "")).teams.get(user.acts_for, ("", None))
        return team is not None and team.member(user.user_id) is not None

    def on_roster_now(self, user: Principal) -> bool:
        """From memory only, like `on_roster` (a tournament not in memory: True)."""
        known = self._known.get(user.tournament_id or "")
        if user.acts_for is None or known is None:
            return True
        _, team = known.teams.get(user.acts_for, ("", None))
        return team is not None and team.member(user.user_id) is not None

    async def _read(self, tournament_id: str) -> _Known:
        known = self._known.get(tournament_id)
        if known is not None and self._clock() - known.at < self._cache_s:
            return known
        tournament = await self._store.get_tournament(tournament_id)
        entries = await self._store.list_entries(tournament_id)
        known = _Known(self._clock(), tournament.team_actors,
                       {p.id: (p.name, p.team) for p in entries if p.team is not None})
        self._known.pop(tournament_id, None)
        self._known[tournament_id] = known
        if len(self._known) > self._max:
            self._known.pop(next(iter(self._known)))
        return known

    def publish(self, event: Event) -> None:
        """Keep a tournament in memory true to the changes this process announces."""
        tournament_id = event.data.get("tournament_id")
        known = self._known.get(tournament_id) if isinstance(tournament_id, str) else None
        if known is None or not isinstance(tournament_id, str):
            return
        teams = dict(known.teams)
        team_actors = known.team_actors
        if event.type in (PARTICIPANT_ADDED, PARTICIPANT_UPDATED):
            p = event.data.get("participant") or {}
            teams.pop(str(p.get("id")), None)
            if p.get("team"):
                teams[p["id"]] = (p["name"], Team(p["team"]["tag"],
                                                  tuple(TeamMember(**m) for m in p["team"]["members"])))
        elif event.type == PARTICIPANT_REMOVED:
            teams.pop(str(event.data.get("participant_id")), None)
        elif event.type == TOURNAMENT_UPDATED:
            team_actors = (event.data.get("tournament") or {}).get("team_actors", team_actors)
        else:
            return
        self._known[tournament_id] = dataclasses.replace(known, teams=teams, team_actors=team_actors)


class TeamService:
    def __init__(self, store: Store, clock: Callable[[], float] = time.time, locks: KeyedLocks | None = None,
                 publisher: Publisher | None = None) -> None:
        self._store = store
        self._clock = clock
        self._locks = locks or KeyedLocks()  # per tournament, shared with registration and the bracket
        self._publisher = publisher or NullPublisher()

    async def set_roster(self, tournament_id: str, participant_id: str, user: Principal, team: Team, *,
                         override: bool = False) -> Participant:
        """Set a participant's team (a solo participant becomes a team, before the start).
        After the start only with `override`, and the roster replaced goes to its
        `roster_history`. The same roster again changes nothing.

        Raises ForbiddenError, NotFoundError, InvalidValueError (roster_invalid,
        member_in_another_team), InvalidTransitionError (roster_locked).
        """
        require_organizer(user, "change rosters")
        async with self._locks.hold(tournament_id):
            tournament = await self._store.get_tournament(tournament_id)
            entries = await self._store.list_entries(tournament_id)
            participant = next((p for p in entries if p.id == participant_id), None)
            if participant is None:
                raise NotFoundError("participant", participant_id)
            check_roster(participant_id, team, entries)
            if participant.team == team:
                return participant
            changed = dataclasses.replace(participant, team=team)
            if tournament.state not in OPEN:
                changed = self._overridden(tournament, participant, changed, user, override)
            await self._store.save_participant(changed)
        self._publisher.publish(Event(stream=tournament_stream(tournament_id), seq=0, type=PARTICIPANT_UPDATED,
                                      data={"tournament_id": tournament_id, "participant": changed.to_json()},
                                      ts=self._clock()))
        return changed

    def _overridden(self, tournament: Tournament, before: Participant, changed: Participant, user: Principal,
                    override: bool) -> Participant:
        """A roster changed after the start: `changed` with the replaced roster in its history.
        Raises InvalidTransitionError (roster_locked)."""
        if before.team is None:
            raise InvalidTransitionError(f"{before.name} plays solo: a participant becomes a team only before "
                                         "the start", code="roster_locked", state=tournament.state)
        if not override:
            raise InvalidTransitionError(f"rosters are locked once the tournament has started (it is "
                                         f"{tournament.state}): send override: true to change {before.name}'s",
                                         code="roster_locked", state=tournament.state)
        replaced = {**before.team.to_json(), "by": user.user_id, "at": self._clock()}
        return dataclasses.replace(changed, roster_history=(*before.roster_history, replaced))


def members_of(participants: Sequence[Participant]) -> list[tuple[Participant, TeamMember]]:
    """Every team member of `participants`, with their team, in roster order."""
    return [(p, m) for p in participants if p.team is not None for m in p.team.members]
