"""Event links: one token per player (or screen) for a whole tournament, scoped to it,
expiring with it, revocable one at a time or all at once; and the short codes players type.

A link's token carries its tournament (`tid`) and link generation (`lg`: the tournament's,
and its subject's). Revoking moves a generation on, so every token minted before is refused
by `check`, on REST and at a socket's admission; the caller closes the sockets already open.
"""

from __future__ import annotations

import dataclasses
import secrets
import time
from collections.abc import Callable, Collection
from typing import Any

from tournament.errors import InvalidValueError
from tournament.locks import KeyedLocks
from tournament.models import Links, Participant, Tournament, TournamentState, new_id
from tournament.roles import Principal, Role
from tournament.store import NotFoundError, Store
from tournament.teams import Rosters, members_of
from tournament.tokens import AuthError, TokenCodec
from tournament.tournaments import require_organizer

LINK_TTL_S = 3 * 24 * 3600  # a LAN weekend; a screen renews its link before it runs out
AFTER_END_S = 12 * 3600  # links keep working this long after their tournament ends (the results)
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read off a sheet, typed on a phone
CODE_LENGTH = 8  # 32^8 = 2^40 codes: guessing one is hopeless at any rate a server answers
CHECK_CACHE_S = 2.0  # how long a tournament's links are trusted from memory (revokes here clear it)
MAX_SUBJECTS = 10_000  # players and screens a tournament keeps link generations for


class UnknownCodeError(NotFoundError):
    """A code typed is not the tournament's (a player's, or its registration's): the same
    answer for an unknown tournament, so a code cannot be told apart from a tournament id."""

    def __init__(self, whose: str = "no player of this tournament has that code") -> None:
        Exception.__init__(self, f"{whose}: check it, or ask the organizer")
        self.kind, self.record_id = "code", ""


@dataclasses.dataclass(frozen=True)
class Link:
    """A minted link: who it is for, its token, its code (players only), when it expires, and
    for a team member the team it acts for."""

    subject: str
    name: str
    role: Role
    token: str
    expires_at: int
    code: str | None = None
    acts_for: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"subject": self.subject, "name": self.name, "role": self.role.label, "token": self.token,
                "expires_at": self.expires_at, "code": self.code, "acts_for": self.acts_for}


class LinkService:
    def __init__(self, store: Store, tokens: TokenCodec, clock: Callable[[], float] = time.time,
                 locks: KeyedLocks | None = None, rosters: Rosters | None = None) -> None:
        self._store = store
        self._rosters = rosters or Rosters(store, clock)  # a member's link needs them on the roster
        self._tokens = tokens
        self._clock = clock
        self._locks = locks or KeyedLocks()  # per tournament, shared with registration and the bracket
        self._cache: dict[str, tuple[float, Tournament]] = {}

    async def mint_players(self, tournament_id: str, user: Principal, ttl_s: int = LINK_TTL_S, *,
                           members: bool = False, subjects: Collection[str] | None = None) -> list[Link]:
        """A link for every participant, with its short code (a participant keeps its code);
        with `members`, then one for every team member (no code), acting for their team. With
        `subjects` (participant or team member ids), only theirs (a match's two players on the
        desk, one player's token), in the same order as without. Raises ForbiddenError,
        NotFoundError (a subject neither a participant nor a team member of this tournament)."""
        require_organizer(user, "mint player links")
        async with self._locks.hold(tournament_id):
            tournament = await self._store.get_tournament(tournament_id)
            participants = await self._store.list_participants(tournament_id)
            team = members_of(participants) if members or subjects is not None else []
            if subjects is not None:
                known = {p.id for p in participants} | {m.id for _, m in team}
                unknown = next((s for s in subjects if s not in known), None)
                if unknown is not None:
                    raise NotFoundError("participant or team member", unknown)
                wanted = set(subjects)
                participants = [p for p in participants if p.id in wanted]
                team = [(t, m) for t, m in team if m.id in wanted]
            codes = dict(tournament.links.codes)
            for p in participants:
                if tournament.links.code_of(p.id) is None:
                    codes[new_code(codes)] = p.id
            if codes != tournament.links.codes:
                tournament = await self._save(tournament, dataclasses.replace(tournament.links, codes=codes))
        links = [self._player_link(tournament, p, ttl_s) for p in participants]
        return links + [self._member_link(tournament, t.id, m.id, m.name, ttl_s) for t, m in team]

    async def mint_registered(self, tournament_id: str, participant_id: str, ttl_s: int = LINK_TTL_S) -> Link:
        """The link of one participant, whatever their status, with a code of their own (kept if
        they have one): what a player who registered themselves is answered. No authorization
        here: the caller checked the registration code. Raises NotFoundError."""
        async with self._locks.hold(tournament_id):
            tournament = await self._store.get_tournament(tournament_id)
            participant = next((p for p in await self._store.list_entries(tournament_id) if p.id == participant_id),
                               None)
            if participant is None:
                raise NotFoundError("participant", participant_id)
            if tournament.links.code_of(participant_id) is None:
                codes = dict(tournament.links.codes)
                codes[new_code(codes)] = participant_id
                tournament = await self._save(tournament, dataclasses.replace(tournament.links, codes=codes))
        return self._player_link(tournament, participant, ttl_s)

    async def join(self, tournament_id: str, code: str) -> Link:
        """The link of the player whose code this is (a player typing it). Raises NotFoundError
        (an unknown tournament, or an unknown code: the same answer, so codes cannot be probed
        across tournaments)."""
        tournament = await self._store.get_tournament(tournament_id)
        participant_id = tournament.links.codes.get(code.strip().upper().replace("-", "").replace(" ", ""))
        participant = next((p for p in await self._store.list_entries(tournament_id) if p.id == participant_id),
                           None)
        if participant is None:
            raise UnknownCodeError()
        return self._player_link(tournament, participant, LINK_TTL_S)

    async def mint_screen(self, tournament_id: str, user: Principal, name: str, ttl_s: int = LINK_TTL_S) -> Link:
        """A screen's link (a projector, a queue board, an overlay): a spectator of this
        tournament. Raises ForbiddenError, NotFoundError."""
        require_organizer(user, "mint screen links")
        subject = new_id("screen")
        async with self._locks.hold(tournament_id):  # kept, so that it can be revoked by its id
            tournament = await self._store.get_tournament(tournament_id)
            if len(tournament.links.subjects) >= MAX_SUBJECTS:
                raise InvalidValueError(f"a tournament keeps at most {MAX_SUBJECTS} links: revoke every link "
                                        "to start afresh", field="name")
            tournament = await self._save(tournament, dataclasses.replace(
                tournament.links, subjects={**tournament.links.subjects, subject: 0}))
        token, exp = self._tokens.issue(subject, name, Role.SPECTATOR, ttl_s, tournament_id=tournament_id,
                                        link=tournament.links.current(subject))
        return Link(subject, name, Role.SPECTATOR, token, exp)

    async def renew(self, user: Principal, ttl_s: int = LINK_TTL_S) -> Link:
        """A fresh token for a link still good (a screen renews before it runs out). Raises
        AuthError (token_revoked, token_expired), InvalidValueError (not an event link)."""
        if user.tournament_id is None:
            raise InvalidValueError("only event links (tokens of one tournament) are renewed here", field="token")
        await self.check(user)
        token, exp = self._tokens.renew(user, min(ttl_s, user.link_ttl_s or ttl_s))  # never longer than minted
        tournament = await self._tournament(user.tournament_id)
        code = (tournament.links.code_of(user.user_id) if tournament and user.role is Role.PLAYER
                and user.acts_for is None else None)
        return Link(user.user_id, user.name, user.role, token, exp, code, user.acts_for)

    async def revoke(self, tournament_id: str, user: Principal, subject: str | None = None) -> Links:
        """Revoke one subject's links (a player's, a screen's) and a player's code, or with no
        subject every link and code of the tournament (a leaked sheet is then worth nothing).
        Links minted afterwards work, with new codes. Raises ForbiddenError, NotFoundError (a
        subject that is neither a participant nor a screen of this tournament)."""
        require_organizer(user, "revoke links")
        async with self._locks.hold(tournament_id):
            tournament = await self._store.get_tournament(tournament_id)
            links = tournament.links
            if subject is None:
                links = Links(generation=links.generation + 1)
            else:
                entries = await self._store.list_entries(tournament_id)
                participants = {p.id for p in entries} | {m.id for _, m in members_of(entries)}
                if subject not in participants and subject not in links.subjects:
                    raise NotFoundError("participant, team member or screen", subject)
                links = dataclasses.replace(links, subjects={**links.subjects, subject: links.subjects.get(subject, 0) + 1},
                                            codes={c: p for c, p in links.codes.items() if p != subject})
            await self._save(tournament, links)
        return links

    async def check(self, user: Principal) -> None:
        """Refuse a scoped token that was revoked, or whose tournament ended a while ago (or is
        gone). Raises AuthError (token_revoked, token_expired); unscoped tokens pass."""
        if user.tournament_id is None:
            return
        tournament = await self._tournament(user.tournament_id)
        if tournament is None:
            raise AuthError("token_revoked", "the tournament of this link is gone")
        if user.link != tournament.links.current(user.user_id):
            raise AuthError("token_revoked", "this link was revoked: ask the organizer for a new one")
        if not await self._rosters.on_roster(user):
            raise AuthError("token_revoked", "you are no longer on this team's roster: ask the organizer")
        if (tournament.state in (TournamentState.COMPLETED, TournamentState.CANCELLED) and tournament.ended_at
                and self._clock() > tournament.ended_at + AFTER_END_S):
            raise AuthError("token_expired", "this link ended with its tournament")

    def valid_now(self, user: Principal) -> bool:
        """From memory only: whether a scoped token is still current (sockets open when a
        revoke happens are closed by this)."""
        if user.tournament_id is None:
            return True
        cached = self._cache.get(user.tournament_id)
        current = cached is None or user.link == cached[1].links.current(user.user_id)
        return current and self._rosters.on_roster_now(user)

    async def _tournament(self, tournament_id: str) -> Tournament | None:
        cached = self._cache.get(tournament_id)
        if cached and self._clock() - cached[0] < CHECK_CACHE_S:
            return cached[1]
        try:
            tournament = await self._store.get_tournament(tournament_id)
        except NotFoundError:
            return None
        self._cache[tournament_id] = (self._clock(), tournament)
        if len(self._cache) > 10_000:
            self._cache.pop(next(iter(self._cache)))
        return tournament

    async def _save(self, tournament: Tournament, links: Links) -> Tournament:
        saved = dataclasses.replace(tournament, links=links, version=tournament.version + 1)
        await self._store.save_tournament(saved)
        self._cache[saved.id] = (self._clock(), saved)
        return saved

    def _player_link(self, tournament: Tournament, participant: Participant, ttl_s: int) -> Link:
        token, exp = self._tokens.issue(participant.id, participant.name, Role.PLAYER, ttl_s,
                                        tournament_id=tournament.id, link=tournament.links.current(participant.id))
        return Link(participant.id, participant.name, Role.PLAYER, token, exp, tournament.links.code_of(participant.id))


    def _member_link(self, tournament: Tournament, team_id: str, member_id: str, name: str, ttl_s: int) -> Link:
        token, exp = self._tokens.issue(member_id, name, Role.PLAYER, ttl_s, tournament_id=tournament.id,
                                        link=tournament.links.current(member_id), acts_for=team_id)
        return Link(member_id, name, Role.PLAYER, token, exp, acts_for=team_id)


def new_code(taken: dict[str, str]) -> str:
    """A random code that is not a key of `taken` (player codes, the registration code)."""
    while (code := "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))) in taken:
        pass
    return code
