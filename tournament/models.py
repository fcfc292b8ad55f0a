"""The records livebracket keeps: tournaments, participants, matches, disputes and events."""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import enum
import uuid
from typing import Any


class MatchState(enum.StrEnum):
    SCHEDULED = "scheduled"
    CHECK_IN = "check_in"
    READY = "ready"
    LIVE = "live"
    PENDING_RESULT = "pending_result"
    COMPLETED = "completed"
    DISPUTED = "disputed"
    FORFEIT = "forfeit"
    CANCELLED = "cancelled"


FINAL_STATES = frozenset({MatchState.COMPLETED, MatchState.FORFEIT, MatchState.CANCELLED})
IN_PLAY = frozenset({MatchState.CHECK_IN, MatchState.READY, MatchState.LIVE, MatchState.PENDING_RESULT,
                     MatchState.DISPUTED})


class DisputeStatus(enum.StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"
    REJECTED = "rejected"


def new_id(prefix: str) -> str:
    """A short random id such as `m_3f9a2c1b7d0e`; 48 random bits are plenty for one event."""
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


def iso(ts: float | None) -> str | None:
    """Epoch seconds as an ISO 8601 UTC string with milliseconds, or None."""
    if ts is None:
        return None
    moment = datetime.datetime.fromtimestamp(ts, datetime.timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class TournamentState(enum.StrEnum):
    DRAFT = "draft"
    REGISTRATION = "registration"
    LIVE = "live"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


@dataclasses.dataclass(frozen=True)
class Draw:
    """A seeding drawn live: the whole order is fixed (and recorded) when the draw starts, and
    revealed one place at a time. Until the last is revealed, only the revealed places, how
    many there are and a commitment to the random seed (its SHA-256) are shown; then the seed."""

    rng_seed: int
    order: tuple[str, ...]  # participant ids, seed 1 first
    revealed: int = 0

    @property
    def complete(self) -> bool:
        return self.revealed == len(self.order)

    def to_json(self) -> dict[str, Any]:
        return {"revealed": list(self.order[:self.revealed]), "total": len(self.order), "complete": self.complete,
                "commitment": hashlib.sha256(str(self.rng_seed).encode()).hexdigest(),
                "rng_seed": self.rng_seed if self.complete else None}


@dataclasses.dataclass(frozen=True)
class Station:
    """A place a match is played: a setup, a PC, a console, a court. Whether it is busy is not
    kept here: it is busy while an open match is called to it (the match holds its call)."""

    id: str
    name: str
    stream: bool = False  # the stream's setup: the stream overlay follows what is called to it
    enabled: bool = True  # a disabled station keeps its match but is called to no other

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "stream": self.stream, "enabled": self.enabled}


@dataclasses.dataclass(frozen=True)
class CallPolicy:
    """How a tournament calls its matches to stations."""

    auto_assign: bool = False  # fill free stations from the queue by itself
    check_in_s: int | None = 300  # the players' seconds to check in at the station; None: no timer
    forfeit_no_show: bool = False  # at the timeout a one-sided no-show loses by itself
    stream_first: str = "none"  # none | top_seeds: a stream station takes the best-seeded match ready first

    def to_json(self) -> dict[str, Any]:
        return {"auto_assign": self.auto_assign, "check_in_s": self.check_in_s,
                "forfeit_no_show": self.forfeit_no_show, "stream_first": self.stream_first}


@dataclasses.dataclass(frozen=True)
class Links:
    """A tournament's event links: the generation every link carries (revoking all moves it on),
    each subject's own (revoking one player's or screen's links), and the short codes players
    type instead of scanning (code -> participant id)."""

    generation: int = 1
    subjects: dict[str, int] = dataclasses.field(default_factory=dict)
    codes: dict[str, str] = dataclasses.field(default_factory=dict)

    def current(self, subject: str) -> tuple[int, int]:
        return self.generation, self.subjects.get(subject, 0)

    def code_of(self, participant_id: str) -> str | None:
        return next((c for c, p in self.codes.items() if p == participant_id), None)


class EntryStatus(enum.StrEnum):
    """Where a participant stands (tournament/registration.py). Only the registered play and
    are seeded; the store's `list_participants` lists only them, `list_entries` everyone."""

    REGISTERED = "registered"
    PENDING = "pending"  # registered themselves, awaiting the organizer's approval
    WAITLISTED = "waitlisted"  # over the cap: promoted in registration order as places free up
    DROPPED = "dropped"  # did not check in before the start: kept for the record, not seeded


@dataclasses.dataclass(frozen=True)
class CheckIn:
    """A tournament's check-in window, opened and closed by the organizer."""

    state: str = "off"  # off (not used) | open (participants check in) | closed (no more check-ins)
    at_start: str = "drop"  # drop | bottom: what the start does with the registered who did not check in

    def to_json(self) -> dict[str, Any]:
        return {"state": self.state, "at_start": self.at_start}


@dataclasses.dataclass(frozen=True)
class Registration:
    """How players register themselves: whether they may, up to how many are registered, what
    happens past that (a waitlist, or a refusal), whether the organizer approves each one, and
    the code of the public registration link (a secret: shown to organizers only)."""

    open: bool = False
    cap: int | None = None  # registered participants at most; None: no cap
    waitlist: bool = False
    approval: bool = False
    code: str | None = None
    check_in: CheckIn = CheckIn()

    def to_json(self) -> dict[str, Any]:
        return {"open": self.open, "cap": self.cap, "waitlist": self.waitlist, "approval": self.approval,
                "check_in": self.check_in.to_json()}


@dataclasses.dataclass(frozen=True)
class Tournament:
    id: str
    name: str
    game: str
    format: str
    state: str
    created_by: str
    created_at: float
    version: int = 1
    settings: dict[str, Any] = dataclasses.field(default_factory=dict)  # how the bracket was made
    seed_order: tuple[str, ...] = ()  # participant ids, seed 1 first, once started
    placements: tuple[dict[str, Any], ...] = ()  # once completed: {"place", "participant_id"}
    started_at: float | None = None
    ended_at: float | None = None
    spectator_chat: bool = False  # spectators may write in its matches' chats, not only read
    draw: Draw | None = None  # a seeding being drawn live, or drawn
    stations: tuple[Station, ...] = ()
    calling: CallPolicy = CallPolicy()
    links: Links = Links()  # not in to_json: codes are secrets
    # Participants disqualified once it started, in order: {"participant_id", "reason", "by", "at"}.
    # Each forfeits every match left to them (tournament/bracket_service.py settles it).
    disqualified: tuple[dict[str, Any], ...] = ()
    archived: bool = False  # kept, but off the tournament list unless asked for
    team_actors: str = "captain"  # who acts for a team: captain | any (a rostered player or the captain)
    deleting: bool = False  # being deleted: reads answer 404; a start-up finishes what a crash cut off
    registration: Registration = Registration()  # not in to_json (its code is a secret): GET .../registration

    def is_disqualified(self, participant_id: str | None) -> bool:
        return any(d["participant_id"] == participant_id for d in self.disqualified)

    def station(self, station_id: str) -> Station | None:
        return next((s for s in self.stations if s.id == station_id), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "name": self.name, "game": self.game, "format": self.format,
            "state": self.state, "created_by": self.created_by,
            "created_at": iso(self.created_at), "version": self.version,
            "settings": dict(self.settings), "seed_order": list(self.seed_order),
            "placements": [dict(p) for p in self.placements],
            "started_at": iso(self.started_at), "ended_at": iso(self.ended_at),
            "spectator_chat": self.spectator_chat,
            "draw": self.draw.to_json() if self.draw else None,
            "stations": [s.to_json() for s in self.stations], "calling": self.calling.to_json(),
            "disqualified": [{**d, "at": iso(d["at"])} for d in self.disqualified],
            "archived": self.archived, "team_actors": self.team_actors,
        }


@dataclasses.dataclass(frozen=True)
class TeamMember:
    """One player on a team's roster (tournament/teams.py holds the roster rules)."""

    id: str  # the user id the member's own link carries; never a participant's id
    name: str
    role: str  # captain | player | substitute

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "role": self.role}


@dataclasses.dataclass(frozen=True)
class Team:
    """A participant that is a team: its short tag and its roster (one captain)."""

    tag: str
    members: tuple[TeamMember, ...]

    def member(self, member_id: str) -> TeamMember | None:
        return next((m for m in self.members if m.id == member_id), None)

    def to_json(self) -> dict[str, Any]:
        return {"tag": self.tag, "members": [m.to_json() for m in self.members]}


@dataclasses.dataclass(frozen=True)
class Participant:
    """A player (or team) in a tournament. Its id is the user id its token carries (a team's
    members act for it with their own links, which name it: `acts_for`)."""

    id: str
    tournament_id: str
    name: str
    seed: int | None
    created_at: float
    status: str = EntryStatus.REGISTERED
    checked_in_at: float | None = None
    team: Team | None = None  # None: a solo player
    # Rosters replaced after the start (an organizer's override), oldest first:
    # {"tag", "members", "by", "at"}: the roster as it was, who replaced it and when.
    roster_history: tuple[dict[str, Any], ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "tournament_id": self.tournament_id, "name": self.name,
                "seed": self.seed, "created_at": iso(self.created_at), "status": str(self.status),
                "checked_in_at": iso(self.checked_in_at),
                "team": self.team.to_json() if self.team else None,
                "roster_history": [{**h, "at": iso(h["at"])} for h in self.roster_history]}


@dataclasses.dataclass(frozen=True)
class Report:
    """A result as one side (or an organizer) stated it: scores by participant id.

    In a series, a report is of one game (`game`, its scores) or of the whole series (`games`,
    every game's scores in order; `scores` is then the series score, games won)."""

    scores: dict[str, int]
    winner_id: str | None  # None: a series played in full that ended level (a draw)
    game: int | None = None
    games: tuple[dict[str, int], ...] = ()

    def to_json(self) -> dict[str, Any]:
        extra: dict[str, Any] = {}
        if self.game is not None:
            extra["game"] = self.game
        if self.games:
            extra["games"] = [dict(g) for g in self.games]
        return {"scores": dict(self.scores), "winner_id": self.winner_id, **extra}


@dataclasses.dataclass(frozen=True)
class SeriesFormat:
    """How many games a match is: best of `best_of` (the first to win more than half wins),
    or, with `play_all`, all `best_of` games played and the games won counted."""

    best_of: int = 1
    play_all: bool = False

    @property
    def is_series(self) -> bool:
        return self.best_of > 1

    @property
    def to_win(self) -> int:
        """Games that win the series before it is played out (play_all: none do)."""
        return self.best_of + 1 if self.play_all else self.best_of // 2 + 1

    @property
    def can_draw(self) -> bool:
        return self.play_all and self.best_of % 2 == 0

    @property
    def name(self) -> str:
        return f"all {self.best_of}" if self.play_all else f"BO{self.best_of}"

    def to_json(self) -> dict[str, Any]:
        return {"best_of": self.best_of, "play_all": self.play_all}


BEST_OF_1 = SeriesFormat()


class GameState(enum.StrEnum):
    LIVE = "live"  # being played; its report, if any, is the match's pending report
    COMPLETED = "completed"


@dataclasses.dataclass(frozen=True)
class Game:
    """One game (map, set, round of a fighting game) of a series."""

    number: int  # from 1
    state: GameState
    scores: dict[str, int]  # its own score: rounds, goals, stocks
    map: str | None = None
    sides: dict[str, str] = dataclasses.field(default_factory=dict)  # participant id -> side
    winner_id: str | None = None
    reported_by: str | None = None  # who stated the result first (a player, or the deciding organizer)
    confirmed_by: str | None = None  # the opponent who confirmed it
    decided_by: str | None = None  # the organizer who decided it
    started_at: float | None = None
    ended_at: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {"number": self.number, "state": self.state.value, "scores": dict(self.scores),
                "map": self.map, "sides": dict(self.sides), "winner_id": self.winner_id,
                "reported_by": self.reported_by, "confirmed_by": self.confirmed_by,
                "decided_by": self.decided_by, "started_at": iso(self.started_at),
                "ended_at": iso(self.ended_at)}


@dataclasses.dataclass(frozen=True)
class ChatMessage:
    id: str
    user_id: str
    name: str
    role: str
    text: str
    at: float

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "user_id": self.user_id, "name": self.name, "role": self.role,
                "text": self.text, "at": iso(self.at)}


@dataclasses.dataclass(frozen=True)
class Chat:
    """A match's chat as a welcome shows it: its latest messages not deleted, and who is muted.
    Every message and moderation is also an event of the match's log."""

    messages: tuple[ChatMessage, ...] = ()
    muted: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"messages": [m.to_json() for m in self.messages], "muted": list(self.muted)}


@dataclasses.dataclass(frozen=True)
class VetoStep:
    """One turn of a map veto: who (a participant id) bans or picks a map, or picks a side
    on the map just picked. The last map left is the decider, with no turn of its own."""

    action: str  # ban | pick | side
    by: str


@dataclasses.dataclass(frozen=True)
class VetoTaken:
    """A turn taken: the map banned or picked, or the side picked (on `map`)."""

    action: str  # ban | pick | side | decider
    by: str | None  # None: the decider, left over
    map: str
    side: str | None = None
    auto: bool = False  # taken at random when the turn's time ran out
    at: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {"action": self.action, "by": self.by, "map": self.map, "side": self.side, "auto": self.auto,
                "at": iso(self.at)}


@dataclasses.dataclass(frozen=True)
class Veto:
    """A match's map veto: the pool, every turn in order, the turns taken so far, how the
    first player was chosen, and the per-turn timer."""

    pool: tuple[str, ...]
    steps: tuple[VetoStep, ...]
    first: str  # the participant id who took the first turn
    chosen_by: str  # higher_seed | coin_flip | organizer
    rng_seed: int  # the coin flip's and every random turn's seed (recorded, replayable)
    sides: tuple[str, ...] = ()  # side names ("CT", "T"); none: no side turns
    turn_s: float | None = None  # seconds per turn; None: no timer
    on_timeout: str = "random"  # random (the turn is taken at random) | wait
    taken: tuple[VetoTaken, ...] = ()
    deadline: float | None = None  # when the current turn's time runs out

    @property
    def complete(self) -> bool:
        return any(t.action == "decider" for t in self.taken)

    @property
    def turn(self) -> VetoStep | None:
        """The turn to take now (None once complete)."""
        return None if self.complete or len(self.taken) >= len(self.steps) else self.steps[len(self.taken)]

    @property
    def remaining(self) -> tuple[str, ...]:
        """Maps neither banned nor picked."""
        gone = {t.map for t in self.taken if t.action in ("ban", "pick", "decider")}
        return tuple(m for m in self.pool if m not in gone)

    @property
    def maps(self) -> tuple[str, ...]:
        """The games' maps, in order: the picks, then the decider."""
        return tuple(t.map for t in self.taken if t.action in ("pick", "decider"))

    def sides_on(self, map_name: str) -> dict[str, str]:
        """participant id -> side on a map, once its side was picked."""
        for t in self.taken:
            if t.action == "side" and t.map == map_name and t.by and t.side:
                other = next((s for s in self.sides if s != t.side), None)
                picker = next((x.by for x in self.taken if x.action == "pick" and x.map == map_name), None)
                return {t.by: t.side, **({picker: other} if picker and other else {})}
        return {}

    def to_json(self) -> dict[str, Any]:
        turn = self.turn
        return {"pool": list(self.pool), "steps": [{"action": s.action, "by": s.by} for s in self.steps],
                "first": self.first, "chosen_by": self.chosen_by, "rng_seed": self.rng_seed,
                "sides": list(self.sides), "turn_s": self.turn_s, "on_timeout": self.on_timeout,
                "taken": [t.to_json() for t in self.taken], "remaining": list(self.remaining),
                "maps": list(self.maps), "complete": self.complete,
                "turn": {"index": len(self.taken), "action": turn.action, "by": turn.by} if turn else None,
                "deadline": iso(self.deadline)}


@dataclasses.dataclass(frozen=True)
class Call:
    """A match called to a station: where, when, by whom (an organizer's id, or `auto`), until
    when its players have to check in, and who had not when that time ran out."""

    station_id: str
    station: str  # its name when called (what the players were told)
    called_at: float
    by: str
    deadline: float | None = None
    no_show: tuple[str, ...] = ()  # participant ids absent at the deadline
    expired: bool = False  # the deadline passed with a player missing

    def to_json(self) -> dict[str, Any]:
        return {"station_id": self.station_id, "station": self.station, "called_at": iso(self.called_at),
                "by": self.by, "deadline": iso(self.deadline), "no_show": list(self.no_show),
                "expired": self.expired}


@dataclasses.dataclass(frozen=True)
class Match:
    id: str
    tournament_id: str
    participant_ids: tuple[str | None, str | None]
    state: MatchState
    created_at: float
    updated_at: float
    round: int | None = None
    label: str = ""
    scores: dict[str, int] = dataclasses.field(default_factory=dict)
    checked_in: tuple[str, ...] = ()
    reports: dict[str, Report] = dataclasses.field(default_factory=dict)
    result: Report | None = None
    winner_id: str | None = None
    started_at: float | None = None
    ended_at: float | None = None
    version: int = 1
    seq: int = 0  # sequence number of the match's latest event
    slot: BracketSlot | None = None  # its place in the tournament's bracket, if any
    history: tuple[dict[str, Any], ...] = ()  # earlier results, replaced by corrections or resets
    # Its latest dispute, kept in the match so that one write commits both (the disputes
    # collection holds lookup copies).
    dispute: Dispute | None = None
    chat: Chat = Chat()  # not in to_json: a match's snapshot does not carry its chat
    format: SeriesFormat = BEST_OF_1
    # A series' games so far, in order: the decided ones, then the one being played. In a
    # series, `scores` is the series score (games won) and `reports` the pending reports of
    # the game being played (or of the whole series).
    games: tuple[Game, ...] = ()
    veto: Veto | None = None  # its map veto, once started
    call: Call | None = None  # the station it is called to (kept once it ends: where it was played)
    held: bool = False  # taken off its station by an organizer: auto-assign passes it over until called by hand

    @property
    def open_dispute(self) -> Dispute | None:
        return self.dispute if self.dispute and self.dispute.status is DisputeStatus.OPEN else None

    @property
    def players(self) -> tuple[str, ...]:
        """The participant ids that are filled in."""
        return tuple(p for p in self.participant_ids if p is not None)

    def opponent_of(self, participant_id: str) -> str | None:
        a, b = self.participant_ids
        return b if participant_id == a else a if participant_id == b else None

    @property
    def current_game(self) -> Game | None:
        """The game being played in a series, if any."""
        return self.games[-1] if self.games and self.games[-1].state is GameState.LIVE else None

    def series_json(self) -> dict[str, Any] | None:
        """The series at a glance (None for a single game): what an overlay shows."""
        if not self.format.is_series:
            return None
        current = self.current_game
        return {"best_of": self.format.best_of, "play_all": self.format.play_all,
                "to_win": None if self.format.play_all else self.format.to_win,
                "score": dict(self.scores), "current_game": current.number if current else None,
                "games_played": sum(1 for g in self.games if g.state is GameState.COMPLETED)}

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "tournament_id": self.tournament_id, "round": self.round,
            "label": self.label, "participant_ids": list(self.participant_ids),
            "state": self.state.value, "scores": dict(self.scores),
            "checked_in": list(self.checked_in),
            "reports": {k: r.to_json() for k, r in self.reports.items()},
            "result": self.result.to_json() if self.result else None,
            "winner_id": self.winner_id,
            "created_at": iso(self.created_at), "updated_at": iso(self.updated_at),
            "started_at": iso(self.started_at), "ended_at": iso(self.ended_at),
            "version": self.version, "seq": self.seq,
            "bracket": self.slot.to_json() if self.slot else None,
            "history": [dict(h) for h in self.history],
            "dispute": self.dispute.to_json() if self.dispute else None,
            "format": self.format.to_json(), "series": self.series_json(),
            "games": [g.to_json() for g in self.games],
            "veto": self.veto.to_json() if self.veto else None,
            "call": self.call.to_json() if self.call else None, "held": self.held,
        }


@dataclasses.dataclass(frozen=True)
class BracketSlot:
    """Where a match sits in its bracket and where its players go next."""

    key: str  # "W2-3", "L1-1", "GF1", "GF2", "3P", "R3-2" (round robin), "S2-1" (Swiss)
    bracket: str  # winners | losers | grand_final | third_place | round_robin | swiss
    position: int
    feeds: tuple[str, str]  # readable sources: "seed 3", "winner of W1-2", "loser of W2-1", "bye"
    winner_to: tuple[str, int] | None = None  # (match key, slot 0/1)
    loser_to: tuple[str, int] | None = None
    optional: bool = False  # GF2: played only if the losers-bracket champion wins GF1
    byes: tuple[bool, bool] = (False, False)  # a slot known to stay empty
    walkover: bool = False  # decided without being played (a bye, or not needed)
    group: str | None = None  # groups, then playoffs: the group of a group-stage match ("A"); None in the playoff

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "bracket": self.bracket, "position": self.position,
                "feeds": list(self.feeds), "winner_to": list(self.winner_to) if self.winner_to else None,
                "loser_to": list(self.loser_to) if self.loser_to else None, "optional": self.optional,
                "byes": list(self.byes), "walkover": self.walkover, "group": self.group}


@dataclasses.dataclass(frozen=True)
class Dispute:
    id: str
    match_id: str
    tournament_id: str
    raised_by: str
    reason: str
    status: DisputeStatus
    created_at: float
    resolution: str = ""
    resolved_by: str | None = None
    resolved_at: float | None = None
    version: int = 1

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "match_id": self.match_id, "tournament_id": self.tournament_id,
            "raised_by": self.raised_by, "reason": self.reason, "status": self.status.value,
            "resolution": self.resolution, "resolved_by": self.resolved_by,
            "created_at": iso(self.created_at), "resolved_at": iso(self.resolved_at),
            "version": self.version,
        }


@dataclasses.dataclass(frozen=True)
class Event:
    """One entry of a stream's log (`match:<id>`), numbered by `seq` from 1 with no gap."""

    stream: str
    seq: int
    type: str
    data: dict[str, Any]
    ts: float

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, "seq": self.seq, "ts": int(self.ts * 1000), "data": self.data}


def match_stream(match_id: str) -> str:
    return f"match:{match_id}"


def tournament_stream(tournament_id: str) -> str:
    return f"tournament:{tournament_id}"


@dataclasses.dataclass(frozen=True)
class Webhook:
    """An organizer's URL that gets the tournament's events, signed with `secret`, one POST
    each, in order. `paused` says why deliveries wait (a delivery failed every retry); None
    while they flow. `enabled` is the organizer's switch: a disabled webhook queues nothing."""

    id: str
    tournament_id: str
    url: str
    secret: str
    created_by: str
    created_at: float
    events: tuple[str, ...] = ()  # the event types it gets; empty: every type
    enabled: bool = True
    paused: str | None = None
    paused_seq: int | None = None  # the failed delivery it waits at (a replay from it resumes)

    def to_json(self) -> dict[str, Any]:
        """Without the secret, which is answered once, when the webhook is made."""
        return {"id": self.id, "tournament_id": self.tournament_id, "url": self.url,
                "events": list(self.events), "enabled": self.enabled, "paused": self.paused,
                "paused_seq": self.paused_seq,
                "created_by": self.created_by, "created_at": iso(self.created_at)}


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"  # not yet answered 2xx: waiting for its turn or retried
    DELIVERED = "delivered"
    FAILED = "failed"  # every retry failed: the webhook is paused at it until a replay


@dataclasses.dataclass(frozen=True)
class Delivery:
    """One event in a webhook's outbox, numbered by `seq` from 1 with no gap (the webhook's own
    sequence: its events in the order they happened, across every stream of the tournament)."""

    webhook_id: str
    seq: int
    stream: str
    stream_seq: int | None  # the event's seq in its match's log; None for a tournament's own event
    type: str
    tournament_id: str
    data: dict[str, Any]
    ts: float
    status: DeliveryStatus = DeliveryStatus.PENDING
    attempts: int = 0
    last_attempt_at: float | None = None
    last_status: int | None = None  # the HTTP status of the last answer; None: no answer
    last_error: str | None = None
    delivered_at: float | None = None

    def body(self) -> dict[str, Any]:
        """What is POSTed."""
        return {"webhook_id": self.webhook_id, "seq": self.seq, "stream": self.stream,
                "stream_seq": self.stream_seq, "type": self.type, "tournament_id": self.tournament_id,
                "data": self.data, "ts": int(self.ts * 1000)}

    def to_json(self) -> dict[str, Any]:
        """As the delivery log shows it."""
        return {"seq": self.seq, "stream": self.stream, "stream_seq": self.stream_seq, "type": self.type,
                "ts": int(self.ts * 1000), "status": self.status.value, "attempts": self.attempts,
                "last_attempt_at": iso(self.last_attempt_at), "last_status": self.last_status,
                "last_error": self.last_error, "delivered_at": iso(self.delivered_at)}
