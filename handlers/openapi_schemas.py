"""JSON Schemas for the OpenAPI document: what `to_json` returns, request bodies, errors."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from config import STORES
from handlers.base import ID, IDEMPOTENCY_KEY
from handlers.brackets import SEEDINGS
from handlers.links import MAX_LINK_TTL_S, MIN_LINK_TTL_S, MIN_SCREEN_TTL_S
from handlers.tokens import MAX_TTL_S
from tournament import events, tiebreaks
from tournament.callqueue import QUEUE_ROWS_MAX, STREAM_FIRST
from tournament.links import CODE_ALPHABET, CODE_LENGTH, LINK_TTL_S
from tournament.models import DeliveryStatus, DisputeStatus, EntryStatus, MatchState, TournamentState
from tournament.participant_rows import MAX_NAME_LEN, MAX_ROWS, MAX_SEED
from tournament.registration import CHECK_IN_STATES, MAX_CAP
from tournament.waitlist import AT_START
from tournament.roles import ROLE_NAMES
from tournament.rules import MAX_SCORE
from tournament.stations import MAX_CHECK_IN_S, MAX_STATIONS
from tournament.webhooks import EVENT_TYPES as WEBHOOK_EVENT_TYPES
from tournament.webhooks import MAX_URL_CHARS
from tournament.teams import MAX_MEMBER_NAME, MAX_MEMBERS, MAX_TAG, MEMBER_ROLES
from tournament.tournaments import FORMATS, TEAM_ACTORS

Schema = dict[str, Any]

ID_PATTERN = f"^{ID}$"
IDEMPOTENCY_KEY_PATTERN = f"^{IDEMPOTENCY_KEY.pattern}$"
IF_MATCH_PATTERN = r'^[ \t]*(W/)?"*[0-9]+"*[ \t]*$'  # what BaseHandler.if_match_version reads
EVENT_TYPES = sorted(value for name, value in vars(events).items() if name.isupper() and isinstance(value, str))
STRIPPED = " Surrounding whitespace is stripped before the length is checked."


# -- helpers ---------------------------------------------------------------------------------

def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: Schema) -> Schema:
    """`schema` or null (null in a request body counts as absent)."""
    if "type" in schema and isinstance(schema["type"], str):
        return {**schema, "type": [schema["type"], "null"]}
    return {"anyOf": [schema, {"type": "null"}]}


def string(*, min_len: int | None = None, max_len: int | None = None, pattern: str | None = None,
           enum: Iterable[str] | None = None, fmt: str | None = None, description: str = "") -> Schema:
    schema: Schema = {"type": "string"}
    for key, value in (("minLength", min_len), ("maxLength", max_len), ("pattern", pattern),
                       ("format", fmt), ("description", description or None)):
        if value is not None:
            schema[key] = value
    if enum is not None:
        schema["enum"] = [str(value) for value in enum]  # StrEnum members as plain strings
    return schema


def integer(minimum: int | None = None, maximum: int | None = None, description: str = "") -> Schema:
    schema: Schema = {"type": "integer"}
    for key, value in (("minimum", minimum), ("maximum", maximum), ("description", description or None)):
        if value is not None:
            schema[key] = value
    return schema


def array(items: Schema, *, min_items: int | None = None, max_items: int | None = None,
          unique: bool = False) -> Schema:
    schema: Schema = {"type": "array", "items": items}
    if min_items is not None:
        schema["minItems"] = min_items
    if max_items is not None:
        schema["maxItems"] = max_items
    if unique:
        schema["uniqueItems"] = True
    return schema


def obj(properties: dict[str, Schema], required: Iterable[str] = (), *, closed: bool = True,
        description: str = "") -> Schema:
    """An object. Responses are `closed` (no undocumented field); request bodies are open,
    because the server ignores fields it does not know."""
    schema: Schema = {"type": "object", "properties": properties, "required": list(required)}
    if closed:
        schema["additionalProperties"] = False
    if description:
        schema["description"] = description
    return schema


def identifier(description: str = "") -> Schema:
    return string(min_len=1, max_len=64, pattern=ID_PATTERN, description=description)


def timestamp(*, optional: bool = False) -> Schema:
    stamp = string(fmt="date-time", description="ISO 8601 UTC with milliseconds")
    return nullable(stamp) if optional else stamp


def scores_map(*, min_count: int = 1) -> Schema:
    return {"type": "object", "minProperties": min_count, "maxProperties": 2,
            "additionalProperties": integer(0, MAX_SCORE),
            "description": "participant id -> score; every key must be a player of the match"}


def error_with(codes: Iterable[str]) -> Schema:
    """The Error schema with its `code` narrowed to `codes`."""
    narrowed = {"properties": {"error": {"properties": {"code": {"enum": list(codes)}}}}}
    return {"allOf": [ref("Error"), narrowed]}


# -- resources (tournament/models.py: to_json) -----------------------------------------------

TOURNAMENT_FIELDS: dict[str, Schema] = {
    "id": identifier("t_…"), "name": string(), "game": string(), "format": string(enum=FORMATS),
    "state": string(enum=TournamentState), "created_by": string(description="sub of the creator"),
    "created_at": timestamp(), "version": integer(1),
    "settings": {"type": "object", "description": "how the bracket was made"},
    "seed_order": array(string()),  # participant ids, seed 1 first, once started
    "placements": array(ref("Placement")),
    "started_at": timestamp(optional=True), "ended_at": timestamp(optional=True),
    "spectator_chat": {"type": "boolean", "description": "spectators may write in its matches' chats"},
    "draw": nullable(ref("Draw")),
    "stations": {**array(ref("Station"), max_items=MAX_STATIONS), "description": "where its matches are played"},
    "calling": ref("CallPolicy"),
    "disqualified": {**array(obj({"participant_id": identifier(), "reason": string(),
                                  "by": string(description="sub of the organizer"), "at": timestamp()},
                                 ["participant_id", "reason", "by", "at"])),
                     "description": "disqualified once started, in order: each forfeits every match left to them"},
    "archived": {"type": "boolean", "description": "off the tournament list and the lobby, kept whole"},
    "team_actors": string(enum=TEAM_ACTORS, description="who acts for a team: its captain, or any rostered "
                                                         "player or the captain (docs/api.md#teams)"),
}
DRAW = obj({"revealed": {**array(string()), "description": "participant ids shown so far, seed 1 first"},
            "total": integer(0), "complete": {"type": "boolean"},
            "commitment": string(description="SHA-256 of the random seed, known from the start"),
            "rng_seed": nullable(integer(0, description="shown once every place is revealed"))},
           ["revealed", "total", "complete", "commitment", "rng_seed"],
           description="a seeding drawn live (docs/api.md#live-draw)")
PARTICIPANT = obj({"id": identifier("the sub that this player's token carries"),
                   "tournament_id": identifier(), "name": string(), "seed": nullable(integer(1)),
                   "created_at": timestamp(),
                   "status": string(enum=EntryStatus, description="only the registered play (docs/api.md"
                                                                  "#registration-and-check-in)"),
                   "checked_in_at": timestamp(optional=True),
                   "team": nullable(ref("Team")),
                   "roster_history": {**array(ref("ReplacedRoster")),
                                      "description": "rosters replaced after the start, oldest first"}},
                  ["id", "tournament_id", "name", "seed", "created_at", "status", "checked_in_at", "team",
                   "roster_history"])
TEAM_MEMBER = obj({"id": identifier("the sub of the member's own link; never a participant's id"),
                   "name": string(), "role": string(enum=MEMBER_ROLES)}, ["id", "name", "role"])
TEAM = obj({"tag": string(min_len=1, max_len=MAX_TAG),
            "members": array(ref("TeamMember"), min_items=1, max_items=MAX_MEMBERS)}, ["tag", "members"],
           description="a participant that is a team: its roster, exactly one captain (docs/api.md#teams)")
REPLACED_ROSTER = obj({"tag": string(), "members": array(ref("TeamMember")),
                       "by": string(description="sub of the organizer who replaced it"), "at": timestamp()},
                      ["tag", "members", "by", "at"],
                      description="a roster as it was until an override replaced it")
SCORES = {"type": "object", "additionalProperties": integer(0)}
REPORT = obj({"scores": {**SCORES, "description": "in a series report: games won"},
              "winner_id": nullable(string(description="null: a series played in full that ended level")),
              "game": integer(1, description="a series: the game this report is of"),
              "games": {**array(SCORES, min_items=1, max_items=9),
                        "description": "a series: every game's scores, in order"}}, ["scores", "winner_id"])
FORMAT = obj({"best_of": integer(1, 9, description="odd, unless play_all"),
              "play_all": {"type": "boolean", "description": "every game is played, games won counted"}},
             ["best_of", "play_all"])
FORMAT_BODY = obj({"best_of": integer(1, 9, description="1, 3, 5, 7 or 9; with play_all 2 to 9"),
                   "play_all": {"type": "boolean", "description": "default false"}}, ["best_of"],
                  description='how many games: {"best_of": 3}, {"best_of": 2, "play_all": true}')
GAME = obj({"number": integer(1), "state": string(enum=["live", "completed"]), "scores": SCORES,
            "map": nullable(string()), "sides": {"type": "object", "additionalProperties": string(),
                                                 "description": "participant id -> side"},
            "winner_id": nullable(string()), "reported_by": nullable(string()), "confirmed_by": nullable(string()),
            "decided_by": nullable(string()), "started_at": timestamp(optional=True),
            "ended_at": timestamp(optional=True)},
           ["number", "state", "scores", "map", "sides", "winner_id", "reported_by", "confirmed_by",
            "decided_by", "started_at", "ended_at"], description="one game of a series")
VETO_CONFIG_FIELDS: dict[str, Schema] = {
    "pool": {**array(string(min_len=1, max_len=40), min_items=1, max_items=16, unique=True),
             "description": "the maps; surrounding whitespace is stripped"},
    "sides": nullable({**array(string(min_len=1, max_len=40), min_items=2, max_items=2),
                       "description": "the two sides (CT, T): each pick is followed by the opponent choosing one"}),
    "first": nullable(string(enum=["higher_seed", "coin_flip", "organizer"], description="default higher_seed")),
    "turn_s": nullable(integer(5, 3600, description="seconds per turn; default no timer")),
    "on_timeout": nullable(string(enum=["random", "wait"], description="default random")),
    "sequence": nullable({**array(string(enum=["ban", "pick"]), max_items=15),
                          "description": "turns alternating from the first player; default the standard one"}),
}
VETO_CONFIG = obj(VETO_CONFIG_FIELDS, ["pool"], closed=False, description="a map veto (docs/api.md#map-veto)")
VETO_TURN = obj({"action": string(enum=["ban", "pick", "side"]), "by": string()}, ["action", "by"])
VETO = nullable(obj({
    "pool": array(string()), "steps": array(VETO_TURN), "first": string(),
    "chosen_by": string(enum=["higher_seed", "coin_flip", "organizer"]), "rng_seed": integer(0),
    "sides": array(string()), "turn_s": nullable(integer(5, 3600)), "on_timeout": string(enum=["random", "wait"]),
    "taken": array(obj({"action": string(enum=["ban", "pick", "side", "decider"]), "by": nullable(string()),
                        "map": string(), "side": nullable(string()), "auto": {"type": "boolean"},
                        "at": timestamp()}, ["action", "by", "map", "side", "auto", "at"])),
    "remaining": array(string()), "maps": {**array(string()), "description": "the games' maps: picks, then decider"},
    "complete": {"type": "boolean"},
    "turn": nullable(obj({"index": integer(0), "action": string(enum=["ban", "pick", "side"]), "by": string()},
                         ["index", "action", "by"])),
    "deadline": timestamp(optional=True)},
    ["pool", "steps", "first", "chosen_by", "rng_seed", "sides", "turn_s", "on_timeout", "taken", "remaining",
     "maps", "complete", "turn", "deadline"], description="the match's map veto; null until started"))
SERIES = nullable(obj({"best_of": integer(2, 9), "play_all": {"type": "boolean"},
                       "to_win": nullable(integer(1, 5, description="null when every game is played")),
                       "score": {**SCORES, "description": "games won"},
                       "current_game": nullable(integer(1, description="the game being played")),
                       "games_played": integer(0)},
                      ["best_of", "play_all", "to_win", "score", "current_game", "games_played"],
                      description="the series at a glance; null for a single game (best of 1)"))
MATCH_FIELDS: dict[str, Schema] = {
    "id": identifier("m_…"), "tournament_id": identifier(), "round": nullable(integer(1)),
    "label": string(), "participant_ids": array(nullable(string()), min_items=2, max_items=2),
    "state": string(enum=MatchState), "scores": {"type": "object", "additionalProperties": integer(0)},
    "checked_in": array(string()), "reports": {"type": "object", "additionalProperties": ref("Report")},
    "result": nullable(ref("Report")), "winner_id": nullable(string()),
    "created_at": timestamp(), "updated_at": timestamp(),
    "started_at": timestamp(optional=True), "ended_at": timestamp(optional=True),
    "version": integer(1, description="goes up by 1 with each move; send it as If-Match"),
    "seq": integer(0, description="seq of the match's latest event (0: none yet)"),
    "bracket": nullable(ref("BracketSlot")),
    "history": array(ref("PastResult")),
    "dispute": nullable(ref("Dispute")),
    "format": FORMAT,
    "series": SERIES,
    "games": {**array(ref("Game"), max_items=9), "description": "a series' games: decided ones, then the live one"},
    "veto": VETO,
    "call": nullable(ref("Call")),
    "held": {"type": "boolean", "description": "taken off its station: auto-assign passes it over until called "
                                               "by hand"},
}
PAST_RESULT = obj({"state": string(enum=MatchState), "result": nullable(ref("Report")), "winner_id": nullable(string()),
                   "scores": {"type": "object", "additionalProperties": integer(0)},
                   "replaced_at": timestamp(), "replaced_by": string(),
                   "why": string(description='"corrected", "reset by a correction"'),
                   "games": array(ref("Game"))},
                  ["state", "result", "winner_id", "scores", "replaced_at", "replaced_by", "why"],
                  description="a result the match had before a correction replaced or reset it")
TARGET = nullable({"type": "array", "prefixItems": [string(description="match key"), integer(0, 1)],
                   "minItems": 2, "maxItems": 2, "description": "(match key, slot 0 or 1)"})
BRACKETS = ("winners", "losers", "grand_final", "third_place", "round_robin", "swiss")
BRACKET_SLOT = obj({"key": string(description='"W2-3", "L1-1", "GF1", "3P", "R3-2", "S2-1", "B_R2-1" (group B), …'),
                    "bracket": string(enum=BRACKETS),
                    "position": integer(), "feeds": array(string(), min_items=2, max_items=2),
                    "winner_to": TARGET, "loser_to": TARGET, "optional": {"type": "boolean"},
                    "byes": array({"type": "boolean"}, min_items=2, max_items=2), "walkover": {"type": "boolean"},
                    "group": nullable(string(description="a group-stage match's group (A, B, …); null otherwise"))},
                   ["key", "bracket", "position", "feeds", "winner_to", "loser_to", "optional", "byes", "walkover",
                    "group"])
DISPUTE = obj({"id": identifier("d_…"), "match_id": identifier(), "tournament_id": identifier(),
               "raised_by": string(), "reason": string(), "status": string(enum=DisputeStatus),
               "resolution": string(), "resolved_by": nullable(string()), "created_at": timestamp(),
               "resolved_at": timestamp(optional=True), "version": integer(1)},
              ["id", "match_id", "tournament_id", "raised_by", "reason", "status", "resolution",
               "resolved_by", "created_at", "resolved_at", "version"])
EVENT = obj({"type": string(enum=EVENT_TYPES), "seq": integer(1), "ts": integer(0, description="epoch ms"),
             "data": obj({"match_id": identifier(), "tournament_id": identifier(),
                          "match": ref("Match")}, ["match_id", "tournament_id", "match"], closed=False)},
            ["type", "seq", "ts", "data"])
ERROR = obj({"error": obj({"code": string(description="stable: switch on it"),
                           "message": string(description="for humans"),
                           "field": string(), "state": string(), "version": integer(),
                           "limit_bytes": integer(), "retry_after_ms": integer(0),
                           "rows": {**array(obj({"row": integer(1, description="the CSV line, or the list index + 1"),
                                                 "field": string(enum=["name", "seed", "id"]),
                                                 "message": string()}, ["row", "field", "message"])),
                                    "description": "invalid_rows: every refused row's problems, in row order"}},
                          ["code", "message"], closed=False)}, ["error"])
CODE = string(pattern=f"^[{CODE_ALPHABET}]{{{CODE_LENGTH}}}$",
              description="what a player types at POST .../join (no 0, O, 1 or I)")
TOKEN_GRANT = obj({"token": string(description="HS256 JWT"), "user_id": identifier(),
                   "username": string(), "role": string(enum=ROLE_NAMES),
                   "expires_at": integer(description="epoch seconds"),
                   "tournament_id": identifier("a player's: the tournament its event link is scoped to"),
                   "code": nullable({**CODE, "description": "a player's: their code; null for a team member"}),
                   "acts_for": nullable(identifier("a team member's: the team it acts for")),
                   "url": string(description="a player's: their page, <server>/me/<tournament id>?token=<token>")},
                  ["token", "user_id", "username", "role", "expires_at"],
                  description="a token; a player's is an event link (docs/api.md#post-apitokens)")
HEALTH = obj({"status": string(enum=["ok", "degraded"]), "store": string(enum=["ok", "unreachable"]),
              "store_kind": string(enum=STORES)}, ["status", "store", "store_kind"])

PLACEMENT = obj({"place": integer(1, description="tied places repeat their number"), "participant_id": string()},
                ["place", "participant_id"])
BRACKET_FIELDS: dict[str, Schema] = {
    "tournament_id": identifier(), "format": string(enum=FORMATS), "state": string(enum=TournamentState),
}
BRACKET_VIEW = obj({**BRACKET_FIELDS, "settings": {"type": "object"}, "seed_order": array(string()),
                    "rounds": array(obj({"bracket": string(enum=BRACKETS), "round": integer(0),
                                         "group": string(description="a group stage's rounds: their group"),
                                         "matches": array(ref("Match"))}, ["bracket", "round", "matches"])),
                    "placements": array(ref("Placement"))},
                   [*BRACKET_FIELDS, "settings", "seed_order", "rounds", "placements"])
# brackets-model's tables as brackets-viewer.js reads them (handlers/brackets_viewer.py): one stage,
# numeric ids from 0.
ROW_ID = integer(0)
VIEWER_SIDE = nullable(obj({"id": nullable(ROW_ID), "position": integer(1), "score": integer(0),
                            "result": string(enum=["win", "loss", "draw"]), "forfeit": {"const": True}},
                           ["id"], description="null: a BYE; `id` null: still to be decided; `position`: where "
                                               "the side comes from (a seed, a dropping match's number); "
                                               "`score` absent until the match begins"))
VIEWER_GAME_SIDE = nullable(obj({"id": nullable(ROW_ID), "score": integer(0), "result": string(enum=["win", "loss"])},
                                ["id"], description="`score` once the game began, `result` once it ended"))
VIEWER_MATCH = {"id": ROW_ID, "stage_id": ROW_ID, "group_id": ROW_ID, "round_id": ROW_ID,
                "number": integer(1), "child_count": integer(0, 9, description="a series' games (its best_of); 0: a single game"),
                "status": integer(0, 5, description="0 locked, 1 waiting, 2 ready, 3 running, 4 completed, 5 archived"),
                "opponent1": VIEWER_SIDE, "opponent2": VIEWER_SIDE, "livebracket_id": identifier()}
VIEWER_TABLES = {
    "stage": array(obj({"id": ROW_ID, "tournament_id": ROW_ID, "name": string(),
                        "type": string(enum=["single_elimination", "double_elimination", "round_robin"],
                                       description="round_robin for a Swiss event too"),
                        "number": integer(1),
                        "settings": {"type": "object", "description": "brackets-model StageSettings"}},
                       ["id", "tournament_id", "name", "type", "number", "settings"])),
    "group": array(obj({"id": ROW_ID, "stage_id": ROW_ID,
                        "number": integer(1, 3, description="1 winners (or the only group), 2 losers (single "
                                                            "elimination: the consolation final), 3 grand final")},
                       ["id", "stage_id", "number"])),
    "round": array(obj({"id": ROW_ID, "stage_id": ROW_ID, "group_id": ROW_ID, "number": integer(1)},
                       ["id", "stage_id", "group_id", "number"])),
    "match": array(obj(VIEWER_MATCH, VIEWER_MATCH)),
    "match_game": array(obj({"id": ROW_ID, "stage_id": ROW_ID, "parent_id": ROW_ID, "number": integer(1, 9),
                             "status": integer(0, 5), "opponent1": VIEWER_GAME_SIDE, "opponent2": VIEWER_GAME_SIDE},
                            ["id", "stage_id", "parent_id", "number", "status", "opponent1", "opponent2"],
                            description="one game of a series (brackets-model MatchGame)")),
    "participant": array(obj({"id": ROW_ID, "tournament_id": ROW_ID, "name": string()},
                             ["id", "tournament_id", "name"])),
}
BRACKETS_VIEWER = obj(VIEWER_TABLES, VIEWER_TABLES)
NUMBER = {"type": "number"}
ROW = {"participant_id": string(), "seed": integer(1), "played": integer(0, description="matches, byes not counted"),
       "wins": integer(0, description="byes counted"), "draws": integer(0), "losses": integer(0),
       "byes": integer(0), "points": NUMBER, "score_for": integer(0), "score_against": integer(0),
       "score_difference": integer(), "buchholz": NUMBER, "median_buchholz": NUMBER, "sonneborn_berger": NUMBER,
       "head_to_head": nullable(NUMBER), "rank": integer(1, description="unique: the seed breaks the last ties")}
STANDINGS = obj({**BRACKET_FIELDS, "tiebreaks": array(string(enum=tiebreaks.CRITERIA)),
                 "points": array(NUMBER, min_items=3, max_items=3),
                 "standings": array(obj(ROW, ROW, description="round robin and Swiss alike")),
                 "groups": {**array(obj({"group": string(), "advance": integer(1),
                                         "standings": array(obj(ROW, ROW))}, ["group", "advance", "standings"])),
                            "description": "groups, then playoffs: each group's table"},
                 "placements": array(ref("Placement"))},
                [*BRACKET_FIELDS, "tiebreaks", "points", "standings", "placements"])
RESET = obj({"match_id": identifier(), "key": string(), "state": string(enum=MatchState)},
            ["match_id", "key", "state"])
CORRECTION_REPORT = obj({"match_id": identifier(), "winner_id": nullable(string()),
                         "state": string(enum=[MatchState.COMPLETED.value, MatchState.LIVE.value],
                                         description="after it: live for a series under way"),
                         "requires_force": {"type": "boolean"}, "resets": array(RESET), "applied": {"type": "boolean"},
                         "match": ref("Match")},
                        ["match_id", "winner_id", "state", "requires_force", "resets", "applied"],
                        description="`match` (after the correction) only when applied")

STATION = obj({"id": identifier("st_…"), "name": string(min_len=1, max_len=60),
               "stream": {"type": "boolean", "description": "the stream's setup: stream stations choose first"},
               "enabled": {"type": "boolean", "description": "a disabled station keeps its match, gets no other"}},
              ["id", "name", "stream", "enabled"],
              description="a place a match is played (docs/api.md#stations-and-the-call-queue)")
CHECK_IN_S = {"type": "integer", "minimum": 10, "maximum": MAX_CHECK_IN_S}
CALL_POLICY = obj({"auto_assign": {"type": "boolean", "description": "free stations take the queue's next match"},
                   "check_in_s": nullable({**CHECK_IN_S, "description": "the players' time to check in once "
                                                                        "called; null: no timer"}),
                   "forfeit_no_show": {"type": "boolean", "description": "a one-sided no-show loses at the timeout"},
                   "stream_first": string(enum=STREAM_FIRST)},
                  ["auto_assign", "check_in_s", "forfeit_no_show", "stream_first"],
                  description="how the tournament calls its matches to stations")
CALL = obj({"station_id": identifier(), "station": string(description="its name when called"),
            "called_at": timestamp(), "by": string(description='the organizer\'s id, or "auto"'),
            "deadline": timestamp(optional=True), "no_show": array(string()),
            "expired": {"type": "boolean", "description": "the deadline passed with a player missing"}},
           ["station_id", "station", "called_at", "by", "deadline", "no_show", "expired"],
           description="the station the match is called to; kept once it ends")
QUEUED_FIELDS: dict[str, Schema] = {
    "match_id": identifier(), "key": nullable(string(description="its bracket key; null: ad hoc")),
    "label": string(), "round": nullable(integer(1)),
    "participant_ids": array(nullable(string()), min_items=2, max_items=2),
    "state": string(enum=MatchState), "format": FORMAT,
}
CALLED_MATCH = obj({**QUEUED_FIELDS, "checked_in": array(string()), "series": SERIES, "scores": SCORES,
                    "call": nullable(ref("Call"))},
                   [*QUEUED_FIELDS, "checked_in", "series", "scores", "call"])
QUEUE_ROW = obj({**QUEUED_FIELDS, "ready": {"type": "boolean", "description": "both players known and free"},
                 "waiting_for": {**array(string()), "description": 'the feeds of its empty slots ("winner of W1-2")'},
                 "busy": {**array(string()), "description": "its players playing or called elsewhere"},
                 "held": {"type": "boolean", "description": "taken off a station: auto-assign passes it over"},
                 "eta": timestamp(optional=True)},
                [*QUEUED_FIELDS, "ready", "waiting_for", "busy", "held", "eta"])
SECONDS = {"type": "number", "minimum": 0}
QUEUE_VIEW_FIELDS: dict[str, Schema] = {
    "stations": array(obj({**STATION["properties"], "match": nullable(CALLED_MATCH),
                           "free_at": timestamp(optional=True)},
                          [*STATION["properties"], "match", "free_at"])),
    "queue": {**array(QUEUE_ROW, max_items=QUEUE_ROWS_MAX),
              "description": f"the first {QUEUE_ROWS_MAX} matches waiting for a station, in play order"},
    "queue_total": integer(0, description="how many matches wait in all"),
    "etas": {"type": "object", "additionalProperties": timestamp(),
             "description": f"match id -> ETA of every queued match past the first {QUEUE_ROWS_MAX} that has a "
                            "player known and an estimate (a player's page finds its own match here)"},
    "calling": ref("CallPolicy"),
    "durations": obj({"by_format_s": {"type": "object", "additionalProperties": SECONDS,
                                      "description": 'format name ("BO3", "all 2") -> median seconds'},
                      "per_game_s": SECONDS, "samples": integer(0)},
                     ["by_format_s", "per_game_s", "samples"]),
}
QUEUE_VIEW = obj({"tournament_id": identifier(), **QUEUE_VIEW_FIELDS}, ["tournament_id", *QUEUE_VIEW_FIELDS],
                 description="the stations, the queue with its ETAs, the calling policy "
                             "(docs/api.md#stations-and-the-call-queue)")

LINK_FIELDS: dict[str, Schema] = {
    "subject": identifier("the token's sub: a participant id, or a screen's screen_…"),
    "name": string(), "role": string(enum=["player", "spectator"], description="spectator: a screen"),
    "token": string(description="HS256 JWT scoped to one tournament (claims tid, lg)"),
    "expires_at": integer(description="epoch seconds"),
    "code": nullable({**CODE, "description": "a player's code; null for a screen or a team member"}),
    "acts_for": nullable(identifier("a team member's link: the team (participant id) it acts for")),
}
LINK = obj(LINK_FIELDS, LINK_FIELDS, description="an event link (docs/api.md#event-links)")
PLAYER_LINK_FIELDS: dict[str, Schema] = {
    **LINK_FIELDS, "role": string(enum=["player"]), "code": nullable(CODE),
    "participant_id": identifier("the participant it plays as (a member's: their team)"),
    "url": string(description="the player's page: <server>/me/<tournament id>?token=<token>"),
}
JOIN_URL = string(description="the short address a printed QR code holds: <server>/join/<tournament id>?code=<code>")
PLAYER_LINK = obj({**PLAYER_LINK_FIELDS, "join_url": JOIN_URL,
                   "qr_svg": string(description="with qr: true, an inline SVG of join_url's QR code")},
                  [*PLAYER_LINK_FIELDS, "join_url"])
PLAYER_LINKS = obj({"tournament_id": identifier(), "links": array(ref("PlayerLink"))}, ["tournament_id", "links"],
                   description="every participant's link, in registration order")
SCREEN_LINK = obj({**LINK_FIELDS, "role": string(enum=["spectator"]), "code": {"type": "null"},
                   "tournament_id": identifier()}, [*LINK_FIELDS, "tournament_id"])
JOINED_LINK = obj({**PLAYER_LINK_FIELDS, "tournament_id": identifier()}, [*PLAYER_LINK_FIELDS, "tournament_id"])
CHECK_IN = obj({"state": string(enum=CHECK_IN_STATES, description="off: not used; open: participants check in; "
                                                                 "closed: only organizers check anyone in"),
                "at_start": string(enum=AT_START, description="what the start does with the registered who did "
                                                              "not check in")},
               ["state", "at_start"])
WAITLISTED = {**PARTICIPANT, "properties": {**PARTICIPANT["properties"], "place": integer(1)},
              "required": [*PARTICIPANT["required"], "place"]}
REGISTRATION_FIELDS: dict[str, Schema] = {
    "tournament_id": identifier(), "open": {"type": "boolean"}, "cap": nullable(integer(1, MAX_CAP)),
    "waitlist": {"type": "boolean"}, "approval": {"type": "boolean"}, "check_in": CHECK_IN,
    "code": nullable({**CODE, "description": "what players send to POST .../register; organizers only (else null)"}),
    "registered": integer(0), "pending": array(ref("Participant")), "waitlisted": array(WAITLISTED),
    "dropped": array(ref("Participant")),
}
REGISTRATION = obj(REGISTRATION_FIELDS, REGISTRATION_FIELDS,
                   description="self-registration and check-in (docs/api.md#registration-and-check-in)")
REGISTERED_LINK = obj({**PLAYER_LINK_FIELDS, "tournament_id": identifier(),
                       "status": string(enum=["registered", "pending", "waitlisted"]),
                       "place": nullable(integer(1, description="the waitlist place")),
                       "participant": ref("Participant")},
                      [*PLAYER_LINK_FIELDS, "tournament_id", "status", "place", "participant"])
REVOCATION = obj({"tournament_id": identifier(),
                  "revoked": identifier('the subject revoked, or "all"'),
                  "sockets_closed": integer(0, description="open sockets of the revoked links, closed with 4503")},
                 ["tournament_id", "revoked", "sockets_closed"])

COMPONENTS: dict[str, Schema] = {
    "Tournament": obj(TOURNAMENT_FIELDS, TOURNAMENT_FIELDS),
    "Draw": DRAW,
    "TournamentWithParticipants": obj({**TOURNAMENT_FIELDS, "participants": array(ref("Participant"))},
                                      [*TOURNAMENT_FIELDS, "participants"]),
    "Participant": PARTICIPANT,
    "Team": TEAM, "TeamMember": TEAM_MEMBER, "ReplacedRoster": REPLACED_ROSTER,
    "Station": STATION,
    "CallPolicy": CALL_POLICY,
    "Queue": QUEUE_VIEW,
    "Match": obj(MATCH_FIELDS, MATCH_FIELDS),
    "Call": CALL,
    "Report": REPORT,
    "Game": GAME,
    "PastResult": PAST_RESULT,
    "BracketSlot": BRACKET_SLOT,
    "Placement": PLACEMENT,
    "Bracket": BRACKET_VIEW,
    "BracketsViewerModel": BRACKETS_VIEWER,
    "Standings": STANDINGS,
    "CorrectionReport": CORRECTION_REPORT,
    "Dispute": DISPUTE,
    "DisputeAndMatch": obj({"dispute": ref("Dispute"), "match": ref("Match")}, ["dispute", "match"]),
    "Event": EVENT,
    "Error": ERROR,
    "TokenGrant": TOKEN_GRANT,
    "Health": HEALTH,
    "Link": LINK,
    "PlayerLink": PLAYER_LINK,
    "PlayerLinks": PLAYER_LINKS,
    "ScreenLink": SCREEN_LINK,
    "JoinedLink": JOINED_LINK,
    "Revocation": REVOCATION,
    "Registration": REGISTRATION,
    "RegisteredLink": REGISTERED_LINK,
}


def listing(key: str, item: str, **fields: Schema) -> Schema:
    """`{key: [item], **fields}`, as the list routes answer."""
    return obj({**fields, key: array(ref(item))}, [*fields, key])


# -- request bodies (handlers/schema.py readers, with their limits) ---------------------------

def text(max_len: int, *, allow_empty: bool = False, optional: bool = False, description: str = "") -> Schema:
    schema = string(min_len=None if allow_empty else 1, max_len=max_len, description=description + STRIPPED)
    return nullable(schema) if optional else schema


TOURNAMENT_CHANGE = obj({"name": text(200, optional=True), "game": text(200, allow_empty=True, optional=True),
                         "archived": nullable({"type": "boolean"}),
                         "team_actors": nullable(string(enum=TEAM_ACTORS))}, closed=False,
                        description="at least one of name, game, archived and team_actors")
ROSTER_BODY = obj({"tag": text(MAX_TAG),
                   "members": array(obj({"id": identifier(), "name": text(MAX_MEMBER_NAME, optional=True,
                                                                          description="default: its id."),
                                         "role": nullable(string(enum=MEMBER_ROLES,
                                                                 description="default player"))},
                                        ["id"], closed=False), min_items=1, max_items=MAX_MEMBERS),
                   "override": nullable({"type": "boolean", "description": "after the start: change it anyway "
                                                                           "(kept in roster_history)"})},
                  ["tag", "members"], closed=False,
                  description="exactly one captain; member ids unique, in no other team, no participant's id")
NEW_TOURNAMENT = obj({"name": text(200), "game": text(200, allow_empty=True, optional=True),
                      "format": nullable(string(enum=FORMATS, description="default single_elimination")),
                      "spectator_chat": nullable({"type": "boolean",
                                                  "description": "spectators may write in its matches' chats"})},
                     ["name"], closed=False)
NEW_PARTICIPANT = obj({"name": text(MAX_NAME_LEN, description="unique in the tournament, case-insensitively."),
                       "id": nullable(identifier("default: a generated p_…; not `bulk`")),
                       "seed": nullable(integer(1, MAX_SEED))}, ["name"], closed=False)
BULK_PARTICIPANTS = {**obj({"participants": {**array(NEW_PARTICIPANT, min_items=1, max_items=MAX_ROWS),
                                             "description": "the rows, in order (row n: index n - 1)"},
                            "csv": string(description=f"CSV text: columns name, seed, id, or as a header line "
                                                      f"(its first cell `name`) orders them; blank lines skipped; "
                                                      f"1 to {MAX_ROWS} rows")},
                           closed=False, description="one of participants and csv: every row is added, or none"),
                     "oneOf": [{"required": ["participants"]}, {"required": ["csv"]}]}
PARTICIPANT_CHANGE = obj({"name": text(MAX_NAME_LEN, optional=True,
                                       description="unique in the tournament, case-insensitively; any time."),
                          "seed": nullable(integer(1, MAX_SEED, description="before the start only; null: no seed "
                                                                           "(here null is not absent)"))},
                         closed=False, description="at least one of name and seed; absent: unchanged")
SEED_ORDER = obj({"order": {**array(identifier(), max_items=MAX_SEED),
                            "description": "every registered participant's id exactly once: seed 1 first"}},
                 ["order"], closed=False)
NEW_MATCH = obj({"participant_ids": array(identifier(), min_items=2, max_items=2, unique=True),
                 "round": nullable(integer(1, 1000)), "label": text(100, allow_empty=True, optional=True),
                 "format": nullable(FORMAT_BODY)},
                ["participant_ids"], closed=False)
GAME_NUMBER = integer(1, 9, description="a series: the game being played (the default)")
GAMES = {**array(scores_map(min_count=2), min_items=1, max_items=9),
         "description": "a series: every game's scores, in order from game 1"}
ACTION_BODIES: dict[str, Schema | None] = {
    "open-check-in": None,
    "check-in": obj({"participant_id": nullable(identifier("an organizer checks in this player"))},
                    closed=False),
    "start": None,
    "score": obj({"scores": scores_map(), "game": nullable(GAME_NUMBER)}, ["scores"], closed=False),
    "result": {**obj({"scores": scores_map(min_count=2), "game": nullable(GAME_NUMBER),
                      "games": nullable(GAMES)}, closed=False,
                     description="scores (of the match, or of a series' game being played) or, for a series, "
                                 "games: the whole series"),
               "anyOf": [{"required": ["scores"]}, {"required": ["games"]}]},
    "format": obj({"format": FORMAT_BODY}, ["format"], closed=False),
    "start-veto": obj({**VETO_CONFIG_FIELDS, "pool": nullable(VETO_CONFIG_FIELDS["pool"]),
                       "first_id": nullable(identifier("with first organizer: the player who starts")),
                       "rng_seed": nullable(integer(0, 2**31 - 1, description="the coin flip's and random turns'"))},
                      closed=False, description="no pool: the tournament's veto settings"),
    "veto": obj({"map": nullable(string(min_len=1, max_len=40)), "side": nullable(string(min_len=1, max_len=40)),
                 "action": nullable(string(enum=["ban", "pick", "side"], description="checked against the turn"))},
                closed=False, description="one of map (a ban or pick turn) and side (a side turn)"),
    "confirm": None,
    "forfeit": obj({"participant_id": identifier("the player who forfeits")}, ["participant_id"],
                   closed=False),
    "cancel": obj({"reason": text(500, allow_empty=True, optional=True)}, closed=False),
}
NEW_DISPUTE = obj({"reason": text(1000)}, ["reason"], closed=False)
RESOLUTION = obj({"status": nullable(string(enum=["resolved", "rejected"], description="default resolved")),
                  "resolution": text(1000),
                  "scores": nullable(scores_map(min_count=2)), "games": nullable(GAMES)}, ["resolution"], closed=False)
NEW_TOKEN = obj({"user_id": identifier("becomes sub; for a player, the participant id (or a team member's)"),
                 "tournament_id": nullable(identifier("required for a player (whose token is then an event link "
                                                      "of this tournament), refused for other roles")),
                 "role": nullable(string(enum=[*ROLE_NAMES, "participant"],
                                         description="default spectator; only roles below the caller's; "
                                                     "letter case is ignored (not for participant)")),
                 "name": text(100, optional=True, description="default user_id."),
                 "ttl_s": nullable(integer(60, MAX_TTL_S))}, ["user_id"], closed=False)
GROUP_OPTIONS = obj({"count": nullable(integer(1, 26, description="default 2")),
                     "advance": nullable(integer(1, 64, description="from each group; default 2")),
                     "format": nullable(string(enum=["round_robin", "swiss"], description="default round_robin")),
                     "rounds": nullable(integer(1, 63, description="Swiss groups: rounds in every group; default "
                                                                   "ceil(log2) of the smallest group")),
                     "playoff": nullable(string(enum=["single_elimination", "double_elimination"])),
                     "playoff_seeding": nullable(string(enum=["cross", "standings"], description="default cross")),
                     "third_place": nullable({"type": "boolean"}), "grand_final_reset": nullable({"type": "boolean"}),
                     "auto_playoff": nullable({"type": "boolean", "description": "default true"}),
                     "veto": nullable({**VETO_CONFIG, "description": "the group matches' own map veto; default "
                                                                     "the top-level veto (docs/api.md#map-veto)"})},
                    closed=False, description="groups, then playoffs only: the group stage")
START_OPTIONS = obj({"seeding": nullable(string(enum=SEEDINGS, description="default given")),
                     "rng_seed": nullable(integer(0, 2**31 - 1, description="replays a random seeding")),
                     "third_place": {"type": "boolean", "description": "single elimination; default false"},
                     "grand_final_reset": {"type": "boolean", "description": "double elimination; default true"},
                     "rounds": nullable(integer(1, 255, description="Swiss; default ceil(log2(n))")),
                     "groups": nullable(GROUP_OPTIONS),
                     "tiebreaks": nullable({**array(string(enum=tiebreaks.CRITERIA), min_items=1, max_items=9,
                                                    unique=True),
                                            "description": "round robin and Swiss: the order of the tiebreaks; "
                                                           "seed, if given, last"}),
                     "points": nullable({**array({"type": "number", "minimum": 0, "maximum": 100,
                                                  "multipleOf": 0.5}, min_items=3, max_items=3),
                                         "description": "round robin and Swiss: (win, draw, loss)"}),
                     "series": nullable({**obj({"best_of": integer(1, 9), "play_all": {"type": "boolean"},
                                                "rounds": nullable({"type": "object", "additionalProperties": FORMAT_BODY,
                                                                    "maxProperties": 64,
                                                                    "description": "round or match key (W3, GF, GF2, "
                                                                                   "L2, 3P, R1, S4) -> format"})},
                                               description="how many games each match is; default best of 1"),
                                         "dependentRequired": {"play_all": ["best_of"]}}),
                     "veto": nullable(VETO_CONFIG)},
                    closed=False)
FLAG = {"type": "boolean", "description": "default false (null is refused)"}
CORRECTION = {**obj({"undo": FLAG, "force": FLAG, "dry_run": FLAG}, closed=False,
                    description="scores are required unless undo is true (then they are ignored)"),
              "if": {"properties": {"undo": {"const": True}}, "required": ["undo"]},
              "else": {"properties": {"scores": scores_map(min_count=2), "game": nullable(GAME_NUMBER),
                                      "games": nullable(GAMES)},
                       "anyOf": [{"required": ["scores"]}, {"required": ["games"]}]},
              "description": "scores (in a series with game: that game's), or games (a series in full); "
                             "ignored with undo"}
NULLABLE_FLAG = nullable({"type": "boolean"})
NEW_STATION = obj({"name": text(60, description="unique in the tournament, case-insensitively."),
                   "stream": nullable({"type": "boolean", "description": "default false"}),
                   "enabled": nullable({"type": "boolean", "description": "default true"})}, ["name"], closed=False)
STATION_CHANGE = obj({"name": text(60, optional=True, description="unique in the tournament, case-insensitively."),
                      "stream": NULLABLE_FLAG, "enabled": NULLABLE_FLAG},
                     closed=False, description="the fields to change; absent or null: unchanged")
CALLING_CHANGE = obj({"auto_assign": NULLABLE_FLAG, "forfeit_no_show": NULLABLE_FLAG,
                      "check_in_s": nullable(integer(10, int(MAX_CHECK_IN_S),
                                                     description="null here means no timer (not: unchanged)")),
                      "stream_first": nullable(string(enum=STREAM_FIRST))},
                     closed=False, description="the fields to change; absent: unchanged")
CALL_BODY = obj({"station_id": identifier("a station of the match's tournament")}, ["station_id"], closed=False)
UNCALL_BODY = obj({"reason": text(200, allow_empty=True, optional=True),
                   "hold": {"type": "boolean", "description": "keep it from auto-assign (default true)"}},
                  closed=False)
LINK_TTL = f"seconds the link lasts; default {LINK_TTL_S}"
NEW_LINKS = obj({"ttl_s": nullable(integer(MIN_LINK_TTL_S, MAX_LINK_TTL_S, description=LINK_TTL)),
                 "qr": nullable({"type": "boolean", "description": "each link with qr_svg; default false"}),
                 "members": nullable({"type": "boolean", "description": "also every team member's link (after "
                                                                       "the participants'); default false"}),
                 "subjects": nullable({**array(identifier()), "description": "only these participants' and team "
                                                                               "members' links (absent: everyone's)"})},
                closed=False)
REVOKE_BODY = obj({"subject": nullable(identifier("a participant id, a team member's id or a screen's subject; "
                                                  "absent: every link"))},
                  closed=False)
NEW_SCREEN = obj({"name": text(60, optional=True, description="default Screen."),
                  "ttl_s": nullable(integer(MIN_SCREEN_TTL_S, MAX_LINK_TTL_S, description=LINK_TTL))}, closed=False)
JOIN_BODY = obj({"code": text(40, description="letter case, dashes and spaces are ignored.")}, ["code"],
                closed=False)
REGISTRATION_CHANGE = obj({"open": NULLABLE_FLAG, "cap": nullable(integer(1, MAX_CAP, description="null: no cap "
                                                                                               "(not: unchanged)")),
                           "waitlist": NULLABLE_FLAG, "approval": NULLABLE_FLAG,
                           "check_in": nullable(obj({"state": nullable(string(enum=CHECK_IN_STATES)),
                                                     "at_start": nullable(string(enum=AT_START))}, closed=False))},
                          closed=False, description="at least one field; absent: unchanged")
REGISTER_BODY = obj({"code": text(40, description="the registration code; letter case, dashes and spaces are "
                                                  "ignored."),
                     "name": text(MAX_NAME_LEN, description="unique in the tournament, case-insensitively."),
                     "id": nullable(identifier("default: a generated p_…; not `bulk`"))}, ["code", "name"],
                    closed=False)
CHECK_IN_BODY = obj({"participant_id": nullable(identifier("an organizer checks in this participant; a player "
                                                           "checks in themselves"))}, closed=False)

WEBHOOK_EVENT = string(enum=sorted(WEBHOOK_EVENT_TYPES))
WEBHOOK_FIELDS: dict[str, Schema] = {
    "id": identifier("wh_…"), "tournament_id": identifier(), "url": string(fmt="uri", max_len=MAX_URL_CHARS),
    "events": {**array(WEBHOOK_EVENT), "description": "the event types it gets; empty: every type"},
    "enabled": {"type": "boolean", "description": "false: nothing is queued for it (the organizer's switch)"},
    "paused": nullable(string(description="why deliveries wait: one failed every retry; null while they flow")),
    "paused_seq": nullable(integer(1, description="the failed delivery it waits at: a replay from it resumes")),
    "created_by": string(), "created_at": timestamp()}
WEBHOOK = obj(WEBHOOK_FIELDS, WEBHOOK_FIELDS,
              description="a URL that gets the tournament's events, signed, in order (docs/api.md#webhooks)")
NEW_WEBHOOK_ANSWER = obj({**WEBHOOK_FIELDS, "secret": string(description="the signing secret: answered only here")},
                         [*WEBHOOK_FIELDS, "secret"])
NEW_WEBHOOK = obj({"url": text(MAX_URL_CHARS, description="http:// or https://, with a host, no user or password, "
                                                         "no #fragment, not this server."),
                   "events": nullable({**array(WEBHOOK_EVENT, max_items=64), "description": "default: every type"}),
                   "secret": nullable(string(min_len=16, max_len=128, description="default: one made for it"))},
                  ["url"], closed=False)
WEBHOOK_CHANGE = obj({"url": text(MAX_URL_CHARS, optional=True), "events": nullable(array(WEBHOOK_EVENT, max_items=64)),
                      "enabled": NULLABLE_FLAG}, closed=False, description="the fields to change; absent: unchanged")
DELIVERY = obj({"seq": integer(1, description="the webhook's own sequence, from 1 with no gap"),
                "stream": string(description="match:<id> or tournament:<id>"),
                "stream_seq": nullable(integer(1, description="the event's seq in its match's log")),
                "type": WEBHOOK_EVENT, "ts": integer(0, description="when the event happened, epoch ms"),
                "status": string(enum=DeliveryStatus), "attempts": integer(0),
                "last_attempt_at": timestamp(optional=True),
                "last_status": nullable(integer(100, 599, description="the HTTP status of the last answer")),
                "last_error": nullable(string()), "delivered_at": timestamp(optional=True)},
               ["seq", "stream", "stream_seq", "type", "ts", "status", "attempts", "last_attempt_at", "last_status",
                "last_error", "delivered_at"])
DELIVERY_LOG = obj({"deliveries": array(DELIVERY),
                    "before": nullable(integer(1, description="ask again with before=this for older ones; "
                                                              "null: no older"))},
                   ["deliveries", "before"])
REPLAY_BODY = obj({"from_seq": integer(1)}, ["from_seq"], closed=False)
REPLAY = obj({"from_seq": integer(1), "pending": integer(0, description="deliveries queued again")},
             ["from_seq", "pending"])
COMPONENTS.update({"Webhook": WEBHOOK, "Delivery": DELIVERY})
