"""GET /api/openapi.json: the OpenAPI 3.1 document of every REST route (schemas in openapi_schemas)."""

from __future__ import annotations

from typing import Any

from config import Config
from handlers import openapi_schemas as s
from handlers.base import BaseHandler
from handlers.draws import STEPS as DRAW_STEPS
from handlers.exports import COLUMNS as EXPORT_COLUMNS
from handlers.exports import TABLES as EXPORT_TABLES
from handlers.matches import ACTIONS
from handlers.openapi_schemas import Schema

AUTH_CODES = ("authentication_required", "token_malformed", "token_algorithm_not_allowed",
              "token_signature_invalid", "token_expired", "token_not_yet_valid", "token_claims_missing",
              "token_role_invalid", "token_revoked")
ONCE_409 = ("request_in_progress", "conflict")  # any write run by once_per_key
MOVE_409 = ("invalid_state", "version_conflict", *ONCE_409)
REGISTER_409 = ("invalid_state", "draw_in_progress", *ONCE_409)  # who is registered, or the seeding, changes
ADD_409 = ("already_exists", "registration_full", *REGISTER_409)  # an organizer's add: the cap applies
TOURNAMENT_ACTIONS = ("open-registration", "start", "start-playoff", "reset", "cancel")
CALL_409 = ("station_busy", "station_disabled", "player_busy", "not_callable", "already_called", "players_missing",
            *ONCE_409)
WHY = {
    400: "The body is not JSON or not an object, a field is missing or of the wrong type, or a "
         "header or query parameter is malformed.",
    401: "No usable bearer token.",
    403: "The user's role or relation to the match does not allow this.",
    404: "The id is unknown, or malformed (then no route matches).",
    405: "The path exists but not for this method (no operation below answers it).",
    409: "The request conflicts with the current state.",
    413: f"The body is over the server's limit ({Config.max_body_bytes} bytes by default), "
         "judged by Content-Length or the streamed size.",
    422: "A field has the right type but its value is refused.",
    429: "Too many writes from this user; retry after Retry-After seconds.",
    503: "The database is unreachable or refused the request; retry later.",
}


# -- helpers ---------------------------------------------------------------------------------

def json_body(schema: Schema, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def header(schema: Schema, description: str, *, required: bool = True) -> dict[str, Any]:
    return {"description": description, "required": required, "schema": schema}


def error(status: int, *codes: str, why: str = "") -> dict[str, Any]:
    """An error response whose `code` is one of `codes` (`why`: when, if not the status's usual)."""
    response = json_body(s.error_with(codes), why or WHY[status])
    if status == 401:
        response["headers"] = {"WWW-Authenticate": header(s.string(), 'Bearer realm="livebracket"')}
    if status == 429:
        response["headers"] = {"Retry-After": header(s.integer(1), "seconds to wait")}
    return response


def param(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/parameters/{name}"}


def reads(*, found: bool = True, query: bool = False) -> dict[int, dict[str, Any]]:
    """The errors of a read route: auth, unknown id, stray large body, store down."""
    errors = {401: error(401, *AUTH_CODES), 413: error(413, "payload_too_large"),
              503: error(503, "store_unavailable", "store_error")}
    if found:
        errors[404] = error(404, "not_found")
    if query:
        errors[400] = error(400, "invalid_schema", "bad_request")  # bad_request: query not UTF-8
        errors[422] = error(422, "invalid_value")
    return errors


def writes(conflicts: tuple[str, ...] = ONCE_409, *, forbidden: tuple[str, ...] = ("insufficient_permissions",),
           values: bool = True, found: bool = True) -> dict[int, dict[str, Any]]:
    """The errors of a write run by once_per_key: reads' plus bad input, permission, conflicts,
    refused values, a reused Idempotency-Key and the write rate."""
    refused = ("invalid_value", "idempotency_key_reused") if values else ("idempotency_key_reused",)
    return {**reads(found=found), 400: error(400, "invalid_json", "invalid_schema"),
            503: error(503, "store_unavailable", "store_error", "shutting_down"),
            403: error(403, *forbidden), 409: error(409, *conflicts), 422: error(422, *refused),
            429: error(429, "rate_limit_exceeded")}


WEBHOOK_URL_422 = ("invalid_webhook_url", "webhook_url_is_this_server")


def webhook_writes(*refusals: str) -> dict[int, dict[str, Any]]:
    """A webhook write's errors: writes' with its own 422 codes."""
    return {**writes(), 422: error(422, "invalid_value", "idempotency_key_reused", *refusals)}


def by_code(not_found: str, too_many: str, conflicts: tuple[str, ...] = ()) -> dict[int, dict[str, Any]]:
    """The errors of a route a code opens without a token (join, register): a wrong code reads
    as an unknown tournament, and tries are limited per address."""
    errors = {400: error(400, "invalid_json", "invalid_schema"), 404: error(404, "not_found", why=not_found),
              413: error(413, "payload_too_large"), 422: error(422, "invalid_value"),
              429: error(429, "rate_limit_exceeded", why=too_many),
              503: error(503, "store_unavailable", "store_error")}
    return {**errors, 409: error(409, *conflicts)} if conflicts else errors


def unkept(*, conflicts: tuple[str, ...] = ()) -> dict[int, dict[str, Any]]:
    """The errors of an organizer's write not run by once_per_key (its answer holds tokens,
    which the store does not keep): writes' without the Idempotency-Key and shutdown codes."""
    errors = {**writes(), 422: error(422, "invalid_value"), 503: error(503, "store_unavailable", "store_error")}
    del errors[409]
    return {**errors, 409: error(409, *conflicts)} if conflicts else errors


def operation(op_id: str, summary: str, ok: tuple[int, str, Schema], errors: dict[int, dict[str, Any]], *,
              params: tuple[str, ...] = (), body: Schema | None = None, required: bool = False,
              location: bool = False, replayable: bool = False, public: bool = False) -> dict[str, Any]:
    status, description, schema = ok
    success = json_body(schema, description)
    headers: dict[str, Any] = {}
    if location:
        headers["Location"] = header(s.string(), "where the new resource is")
    if replayable:
        headers["Idempotent-Replayed"] = header(s.string(enum=["true"]), "a replay of an earlier answer",
                                                required=False)
    if headers:
        success["headers"] = headers
    op: dict[str, Any] = {"operationId": op_id, "summary": summary,
                          "responses": {str(code): response for code, response in
                                        sorted({status: success, **errors}.items())}}
    if params:
        op["parameters"] = [param(name) for name in params]
    if body is not None:
        op["requestBody"] = {"required": required, "content": {"application/json": {"schema": body}},
                             "description": "A JSON object; empty counts as {}; unknown fields are ignored; "
                                            "a field whose schema allows null counts as absent when null. "
                                            "Integers must be written without a fraction (2.0 is a 400)."}
    if public:
        op["security"] = []
    return op


def write(op_id: str, summary: str, ok: tuple[int, str, Schema], errors: dict[int, dict[str, Any]],
          body: Schema | None, *, path: tuple[str, ...] = (), if_match: bool = False,
          location: bool = False, required: bool | None = None, bodiless: bool = False) -> dict[str, Any]:
    """A write run by once_per_key (POST, PUT, PATCH, DELETE): Idempotency-Key, optionally If-Match.
    The body is required when it has a required field, unless `required` says otherwise;
    `bodiless` (a DELETE) documents none."""
    headers = ("IdempotencyKey", "IfMatch") if if_match else ("IdempotencyKey",)
    if required is None:
        required = bool(body and body.get("required"))
    return operation(op_id, summary, ok, errors, params=(*path, *headers),
                     body=None if bodiless else body or s.obj({}, closed=False),
                     required=required, location=location, replayable=True)


# -- paths -----------------------------------------------------------------------------------

def match_action(action: str) -> dict[str, Any]:
    conflicts: tuple[str, ...] = MOVE_409
    if action in ("check-in", "start", "open-check-in"):
        conflicts = (*MOVE_409, "players_missing", *(("already_checked_in",) if action == "check-in" else ()))
    if action == "cancel":
        conflicts = (*MOVE_409, "bracket_match")
    if action == "score":
        conflicts = (*MOVE_409, "game_over")
    if action == "result":
        conflicts = (*MOVE_409, "no_game_live", "game_decided", "game_not_started")
    if action == "start":
        conflicts = (*conflicts, "veto_in_progress", "player_busy")
    if action == "start-veto":
        conflicts = (*MOVE_409, "players_missing")
    if action == "veto":
        conflicts = (*MOVE_409, "no_veto", "veto_complete", "not_your_turn", "wrong_action", "map_taken")
    forbidden = ("insufficient_permissions", *(("not_opponent",) if action in ("result", "confirm") else ()))
    body = s.ACTION_BODIES[action]
    op_id = "".join(word.title() for word in action.split("-"))
    return {"post": write(f"match{op_id}", f"Match move: {action}", (200, "The match after the move", s.ref("Match")),
                          writes(conflicts, forbidden=forbidden, values=True),  # If-Match out of range: 422
                          body, path=("MatchId",), if_match=True)}


def tournament_action(action: str) -> dict[str, Any]:
    conflicts = ("invalid_state", *(("bracket_in_play",) if action == "reset" else ()),
                 *(("groups_in_play",) if action == "start-playoff" else ()), *ONCE_409)
    body = s.START_OPTIONS if action == "start" else None
    op_id = "".join(word.title() for word in action.split("-"))
    return {"post": write(f"tournament{op_id}", f"Tournament lifecycle: {action} (organizer)",
                          (200, "The tournament after the move", s.ref("Tournament")),
                          writes(conflicts, values=body is not None), body, path=("TournamentId",))}


def draw_step(step: str) -> dict[str, Any]:
    conflicts = ("invalid_state", "draw_in_progress", "no_draw", "draw_complete", "draw_not_started", *ONCE_409)
    body = s.obj({"rng_seed": s.nullable(s.integer(0, 2**31 - 1))}, closed=False) if step == "start" else None
    return {"post": write(f"draw{step.title()}", f"Live draw of the seeding: {step} (organizer)",
                          (200, "The tournament, its draw as far as shown", s.ref("Tournament")),
                          writes(conflicts, values=True), body, path=("TournamentId",))}


def export(table: str, extension: str) -> dict[str, Any]:
    """GET .../export/{table}.{csv,json} (handlers/exports.py)."""
    columns = EXPORT_COLUMNS[table]
    row = s.obj({c: {} for c in columns}, columns)
    op = operation(f"export{table.title()}{extension.upper()}", f"The {table} table as {extension.upper()}",
                   (200, f"The {table}: a header row then one row each" if extension == "csv" else f"The {table}",
                    s.obj({"tournament_id": s.identifier(), table: s.array(row)}, ("tournament_id", table))),
                   reads(), params=("TournamentId",))
    if extension == "csv":
        op["responses"]["200"]["content"] = {"text/csv": {"schema": s.string(
            description=f"UTF-8 with a BOM; columns {', '.join(columns)}; a cell a spreadsheet would run "
                        "as a formula starts with '")}}
    return {"get": op}


def paths() -> dict[str, Any]:
    t, m, d = ("TournamentId",), ("MatchId",), ("DisputeId",)
    return {
        "/api/tournaments": {
            "get": operation("listTournaments", "Tournaments, newest first, a page at a time",
                             (200, "A page of tournaments; `next` is the cursor of the next page (null: the last)",
                              s.listing("tournaments", "Tournament", next=s.nullable(s.identifier()))),
                             reads(query=True), params=("PageLimit", "After", "Archived")),
            "post": write("createTournament", "Create a tournament (organizer)",
                          (201, "The new tournament", s.ref("Tournament")), writes(found=False),
                          s.NEW_TOURNAMENT, location=True),
        },
        "/api/tournaments/{tournament_id}": {
            "get": operation("getTournament", "A tournament with its participants",
                             (200, "The tournament", s.ref("TournamentWithParticipants")), reads(), params=t),
            "patch": write("updateTournament", "Rename, change the game, archive or bring back (organizer)",
                           (200, "The tournament after the change", s.ref("Tournament")), writes(),
                           s.TOURNAMENT_CHANGE, path=t),
            "delete": write("deleteTournament", "Delete a tournament that is not live and everything of it; "
                                                "confirm is its name (organizer)",
                            (200, "Gone", s.obj({"deleted": s.identifier()}, ["deleted"])),
                            writes(("invalid_state", *ONCE_409)), None, path=(*t, "DeleteConfirm"), bodiless=True),
        },
        "/api/tournaments/{tournament_id}/participants": {
            "get": operation("listParticipants", "Participants in registration order",
                             (200, "The participants", s.listing("participants", "Participant")), reads(), params=t),
            "post": write("addParticipant", "Register a participant (organizer)",
                          (201, "The new participant", s.ref("Participant")),
                          writes(ADD_409), s.NEW_PARTICIPANT, path=t),
        },
        "/api/tournaments/{tournament_id}/participants/bulk": {
            "post": write("addParticipants", "Register many participants, from a list or CSV: every row or none "
                                             "(organizer)",
                          (201, "The participants added, in row order", s.listing("participants", "Participant")),
                          {**writes(ADD_409),
                           422: error(422, "invalid_value", "invalid_rows", "idempotency_key_reused",
                                      why="A value is refused: invalid_rows lists every refused row (nothing is "
                                          "added); invalid_value is a body or CSV that holds no usable rows.")},
                          s.BULK_PARTICIPANTS, path=t, required=True),
        },
        "/api/tournaments/{tournament_id}/participants/{participant_id}": {
            "patch": write("updateParticipant", "Rename a participant (any time) or change their seed (before the "
                                                "start) (organizer)",
                           (200, "The participant after the change", s.ref("Participant")),
                           writes(("already_exists", *REGISTER_409)), s.PARTICIPANT_CHANGE, path=(*t, "ParticipantId")),
            "delete": write("removeParticipant", "Remove a participant before the start (organizer)",
                            (200, "The participant removed", s.obj({"removed": s.ref("Participant")}, ["removed"])),
                            writes(("participant_in_match", *REGISTER_409), values=False), None,
                            path=(*t, "ParticipantId"), bodiless=True),
        },
        "/api/tournaments/{tournament_id}/participants/{participant_id}/disqualify": {
            "post": write("disqualifyParticipant", "Disqualify a participant from a live tournament: every match "
                                                   "left to them is forfeited (organizer)",
                          (200, "The tournament, its `disqualified` list with them", s.ref("Tournament")),
                          writes(("invalid_state", "already_disqualified", *ONCE_409)),
                          s.obj({"reason": s.string(max_len=500)}, closed=False), path=(*t, "ParticipantId")),
        },
        "/api/tournaments/{tournament_id}/participants/{participant_id}/roster": {
            "put": write("setRoster", "Set a participant's team: tag and roster; once started only with override, "
                                      "the replaced roster kept (organizer)",
                         (200, "The participant with its team", s.ref("Participant")),
                         {**writes(("roster_locked", *ONCE_409)),
                          422: error(422, "invalid_value", "roster_invalid", "member_in_another_team",
                                     "idempotency_key_reused",
                                     why="The roster is refused: not one captain, an id twice or a participant's, "
                                         "or a member already in another team (member_id, team_id).")},
                         s.ROSTER_BODY, path=(*t, "ParticipantId")),
        },
        "/api/tournaments/{tournament_id}/seeds": {
            "put": write("reseedParticipants", "Seed every participant, 1 to n in the order given (organizer)",
                         (200, "The participants in seed order", s.listing("participants", "Participant")),
                         writes(REGISTER_409), s.SEED_ORDER, path=t),
        },
        "/api/tournaments/{tournament_id}/matches": {
            "get": operation("listTournamentMatches", "Matches in creation order",
                             (200, "The matches in creation order: all of them, or with `limit` a page, "
                                   "`next` the cursor of the next (null: the last)",
                              s.listing("matches", "Match", next=s.nullable(s.identifier()))),
                             reads(query=True), params=(*t, "MatchPageLimit", "After")),
            "post": write("createMatch", "Create an ad-hoc match in state scheduled (organizer)",
                          (201, "The new match", s.ref("Match")), writes(), s.NEW_MATCH, path=t, location=True),
        },
        **{f"/api/tournaments/{{tournament_id}}/{action}": tournament_action(action) for action in TOURNAMENT_ACTIONS},
        **{f"/api/tournaments/{{tournament_id}}/draw/{step}": draw_step(step) for step in DRAW_STEPS},
        "/api/tournaments/{tournament_id}/bracket": {
            "get": operation("getBracket", "The bracket: rounds of matches per bracket, who feeds where",
                             (200, "The bracket in the chosen format",
                              {"oneOf": [s.ref("Bracket"), s.ref("BracketsViewerModel")]}),
                             reads(query=True), params=(*t, "BracketFormat")),
        },
        **{f"/api/tournaments/{{tournament_id}}/export/{table}.{extension}": export(table, extension)
           for table in EXPORT_TABLES for extension in ("csv", "json")},
        "/api/tournaments/{tournament_id}/standings": {
            "get": operation("getStandings", "The table so far (round robin, Swiss) and the placements",
                             (200, "The standings", s.ref("Standings")), reads(), params=t),
        },
        "/api/tournaments/{tournament_id}/stations": {
            "get": operation("listStations", "The tournament's stations, in the order they were added",
                             (200, "The stations", s.listing("stations", "Station")), reads(), params=t),
            "post": write("addStation", "Add a station (organizer)", (201, "The new station", s.ref("Station")),
                          writes(("already_exists", *ONCE_409)), s.NEW_STATION, path=t, location=True),
        },
        "/api/tournaments/{tournament_id}/stations/{station_id}": {
            "patch": write("updateStation", "Rename a station, mark it for the stream, enable or disable it "
                                            "(organizer)",
                           (200, "The station after the change", s.ref("Station")),
                           writes(("already_exists", *ONCE_409)), s.STATION_CHANGE, path=(*t, "StationId")),
            "delete": write("removeStation", "Remove a station no match is called to (organizer)",
                            (200, "The id of the station removed", s.obj({"removed": s.identifier()}, ["removed"])),
                            writes(("station_busy", *ONCE_409), values=False), None, path=(*t, "StationId"),
                            bodiless=True),
        },
        "/api/tournaments/{tournament_id}/webhooks": {
            "get": operation("listWebhooks", "The tournament's webhooks, oldest first (organizer)",
                             (200, "The webhooks, without their secrets", s.listing("webhooks", "Webhook")),
                             {**reads(), 403: error(403, "insufficient_permissions")}, params=t),
            "post": write("addWebhook", "Register a URL that gets the tournament's events, signed (organizer)",
                          (201, "The new webhook with its secret (answered only here)", s.NEW_WEBHOOK_ANSWER),
                          webhook_writes("too_many_webhooks", *WEBHOOK_URL_422), s.NEW_WEBHOOK, path=t,
                          location=True),
        },
        "/api/tournaments/{tournament_id}/webhooks/{webhook_id}": {
            "get": operation("getWebhook", "One webhook (organizer)", (200, "The webhook", s.ref("Webhook")),
                             {**reads(), 403: error(403, "insufficient_permissions")}, params=(*t, "WebhookId")),
            "patch": write("updateWebhook", "Change a webhook's URL or events, enable or disable it (organizer)",
                           (200, "The webhook after the change", s.ref("Webhook")),
                           webhook_writes(*WEBHOOK_URL_422), s.WEBHOOK_CHANGE,
                           path=(*t, "WebhookId")),
            "delete": write("removeWebhook", "Remove a webhook and its outbox (organizer)",
                            (200, "The id of the webhook removed", s.obj({"removed": s.identifier()}, ["removed"])),
                            writes(values=False), None, path=(*t, "WebhookId"), bodiless=True),
        },
        "/api/tournaments/{tournament_id}/webhooks/{webhook_id}/deliveries": {
            "get": operation("listDeliveries", "The webhook's delivery log, newest first (organizer)",
                             (200, "A page of the log", s.DELIVERY_LOG),
                             {**reads(query=True), 403: error(403, "insufficient_permissions")},
                             params=(*t, "WebhookId", "DeliveryLimit", "DeliveryBefore")),
        },
        "/api/tournaments/{tournament_id}/webhooks/{webhook_id}/replay": {
            "post": write("replayDeliveries", "Deliver again, in order, from a delivery on; a paused webhook goes on "
                                              "from there (organizer)",
                          (200, "How many are queued again", s.REPLAY), webhook_writes("no_such_delivery"),
                          s.REPLAY_BODY,
                          path=(*t, "WebhookId")),
        },
        "/api/tournaments/{tournament_id}/webhooks/{webhook_id}/ping": {
            "post": write("pingWebhook", "Queue a test delivery (webhook_ping) to this webhook (organizer)",
                          (202, "Its seq", s.obj({"seq": s.integer(1)}, ["seq"])),
                          webhook_writes("webhook_disabled"), None,
                          path=(*t, "WebhookId"), bodiless=True),
        },
        "/api/tournaments/{tournament_id}/calling": {
            "get": operation("getCalling", "How the tournament calls its matches to stations",
                             (200, "The calling policy", s.ref("CallPolicy")), reads(), params=t),
            "patch": write("setCalling", "Change how the tournament calls its matches (organizer)",
                           (200, "The calling policy after the change", s.ref("CallPolicy")), writes(),
                           s.CALLING_CHANGE, path=t),
        },
        "/api/tournaments/{tournament_id}/queue": {
            "get": operation("getQueue", "The stations with their matches, the call queue with ETAs",
                             (200, "The queue now", s.ref("Queue")), reads(), params=t),
        },
        "/api/tournaments/{tournament_id}/links": {
            "post": operation("mintPlayerLinks", "Every participant's event link and code, or those of the "
                                                 "subjects given (organizer); not kept per Idempotency-Key: the "
                                                 "answer holds tokens",
                              (201, "The links, in registration order; codes are kept from one mint to the next",
                               s.ref("PlayerLinks")),
                              unkept(conflicts=("conflict",)), params=t, body=s.NEW_LINKS),
        },
        "/api/tournaments/{tournament_id}/links/revoke": {
            "post": write("revokeLinks", "Revoke one subject's event links, or all of the tournament's (organizer)",
                          (200, "What was revoked; the open sockets of those links are closed with 4503",
                           s.ref("Revocation")),
                          writes(), s.REVOKE_BODY, path=t),
        },
        "/api/tournaments/{tournament_id}/screens": {
            "post": operation("mintScreenLink", "A screen's event link: a spectator of this tournament (organizer); "
                                                "not kept per Idempotency-Key",
                              (201, "The screen's link", s.ref("ScreenLink")), unkept(), params=t,
                              body=s.NEW_SCREEN),
        },
        "/api/tournaments/{tournament_id}/join": {
            "post": operation("joinWithCode", "A player's event link for the code they type; no token needed",
                              (200, "The player's link", s.ref("JoinedLink")),
                              by_code("The tournament is unknown, or the code is not one of its players' (the same "
                                      "answer).", "Too many codes tried from this address; retry after Retry-After "
                                                  "seconds."),
                              params=t, body=s.JOIN_BODY, required=True, public=True),
        },
        "/api/tournaments/{tournament_id}/registration": {
            "get": operation("getRegistration", "Self-registration and check-in: the settings, the pending, the "
                                                "waitlist and the dropped (the code: organizers only)",
                             (200, "The registration", s.ref("Registration")), reads(), params=t),
            "patch": write("setRegistration", "Change self-registration and check-in (organizer); places freed "
                                              "go to the waitlist",
                           (200, "The registration after the change", s.ref("Registration")), writes(),
                           s.REGISTRATION_CHANGE, path=t),
        },
        "/api/tournaments/{tournament_id}/registration/code": {
            "post": write("newRegistrationCode", "A new registration code; the old one stops working (organizer)",
                          (200, "The registration with its new code", s.ref("Registration")), writes(values=False),
                          None, path=t),
        },
        "/api/tournaments/{tournament_id}/register": {
            "post": operation("registerWithCode", "A player registers themselves with the registration code; no "
                                                  "token needed",
                              (201, "The player's event link, status and waitlist place", s.ref("RegisteredLink")),
                              by_code("The tournament is unknown, or the code is not its registration code (the same "
                                      "answer).", "Too many registrations from this address; retry after Retry-After "
                                                  "seconds.",
                                      ("registration_closed", "registration_full", "already_exists", "invalid_state",
                                       "draw_in_progress", "conflict")),
                              params=t, body=s.REGISTER_BODY, required=True, public=True),
        },
        "/api/tournaments/{tournament_id}/participants/{participant_id}/approve": {
            "post": write("approveParticipant", "Approve a pending participant: registered, or waitlisted when full "
                                                "(organizer)",
                          (200, "The participant after the approval", s.ref("Participant")),
                          writes(("registration_full", *REGISTER_409), values=False), None,
                          path=(*t, "ParticipantId")),
        },
        "/api/tournaments/{tournament_id}/participants/{participant_id}/reject": {
            "post": write("rejectParticipant", "Reject a pending participant: removed (organizer)",
                          (200, "The participant removed", s.obj({"removed": s.ref("Participant")}, ["removed"])),
                          writes(("invalid_state", *ONCE_409), values=False), None, path=(*t, "ParticipantId")),
        },
        "/api/tournaments/{tournament_id}/check-in": {
            "post": write("checkIn", "Check in before the start: a player themselves, an organizer anyone",
                          (200, "The participant, checked in", s.ref("Participant")),
                          writes(("check_in_closed", *REGISTER_409)), s.CHECK_IN_BODY, path=t),
        },
        "/api/matches/{match_id}": {
            "get": operation("getMatch", "A match", (200, "The match", s.ref("Match")), reads(), params=m),
        },
        **{f"/api/matches/{{match_id}}/{action}": match_action(action) for action in ACTIONS},
        "/api/matches/{match_id}/call": {
            "post": write("callMatch", "Call a match to a free station (organizer)",
                          (200, "The match, called", s.ref("Match")), writes(CALL_409), s.CALL_BODY, path=m),
        },
        "/api/matches/{match_id}/uncall": {
            "post": write("uncallMatch", "Take a match that has not started off its station (organizer)",
                          (200, "The match, back in the queue", s.ref("Match")), writes(("not_called", "match_under_way", *ONCE_409)),
                          s.UNCALL_BODY, path=m),
        },
        "/api/matches/{match_id}/events": {
            "get": operation("listMatchEvents", "The match's events with seq > since, in seq order",
                             (200, "The events", s.listing("events", "Event", match_id=s.identifier(),
                                                           since=s.integer(0))),
                             reads(query=True), params=(*m, "Since", "Limit")),
        },
        "/api/matches/{match_id}/correct": {
            "post": write("correctResult", "Replace a decided result, or undo that (organizer)",
                          (200, "What the correction does (dry_run) or did", s.ref("CorrectionReport")),
                          writes(("invalid_state", "correction_needs_force", *ONCE_409)), s.CORRECTION, path=m,
                          required=True),
        },
        "/api/matches/{match_id}/disputes": {
            "get": operation("listMatchDisputes", "The match's disputes",
                             (200, "The disputes", s.listing("disputes", "Dispute", match_id=s.identifier())),
                             reads(), params=m),
            "post": write("raiseDispute", "Dispute the pending result (the opponent)",
                          (201, "The new dispute and the disputed match", s.ref("DisputeAndMatch")),
                          writes(MOVE_409, forbidden=("insufficient_permissions", "not_opponent")),
                          s.NEW_DISPUTE, path=m, if_match=True, location=True),
        },
        "/api/disputes/{dispute_id}": {
            "get": operation("getDispute", "A dispute", (200, "The dispute", s.ref("Dispute")), reads(), params=d),
        },
        "/api/disputes/{dispute_id}/resolve": {
            "post": write("resolveDispute", "Close the open dispute and complete the match (organizer)",
                          (200, "The closed dispute and the completed match", s.ref("DisputeAndMatch")),
                          writes(("dispute_not_open", "invalid_state", *ONCE_409)), s.RESOLUTION, path=d),
        },
        "/api/tokens": {
            "post": operation("mintToken", "Mint a token for a lower role (organizer); a player's is an event "
                                           "link of its tournament_id; not idempotent",
                              (201, "The token", s.ref("TokenGrant")), unkept(conflicts=("conflict",)),
                              body=s.NEW_TOKEN, required=True),
        },
        "/api/tokens/renew": {
            "post": operation("renewLink", "A fresh token for an event link still good (the link's own token); "
                                           "not idempotent",
                              (200, "The link with its new token and expiry", s.ref("Link")),
                              {401: error(401, *AUTH_CODES), 413: error(413, "payload_too_large"),
                               422: error(422, "invalid_value", why="The token is not an event link "
                                                                    '(field "token").'),
                               429: error(429, "rate_limit_exceeded"),
                               503: error(503, "store_unavailable", "store_error")}),
        },
        "/api/openapi.json": {
            "get": operation("getOpenApi", "This document", (200, "The OpenAPI document", s.obj(
                {"openapi": s.string(), "info": {"type": "object"}, "paths": {"type": "object"}},
                ["openapi", "info", "paths"], closed=False)),
                             {413: error(413, "payload_too_large")}, public=True),
        },
        "/healthz": {
            "get": operation("health", "Whether the server runs and its store answers",
                             (200, "The store answers", s.ref("Health")),
                             {503: json_body(s.ref("Health"), "The store does not answer (not the error format)"),
                              413: error(413, "payload_too_large")}, public=True),
        },
    }


def parameters() -> dict[str, Any]:
    def path(name: str, what: str) -> dict[str, Any]:
        return {"name": name, "in": "path", "required": True, "schema": s.identifier(what)}

    def query(name: str, schema: Schema, what: str) -> dict[str, Any]:
        return {"name": name, "in": "query", "required": False, "schema": schema, "description": what}

    return {
        "TournamentId": path("tournament_id", "t_…"),
        "MatchId": path("match_id", "m_…"),
        "DisputeId": path("dispute_id", "d_…"),
        "StationId": path("station_id", "st_…"),
        "WebhookId": path("webhook_id", "wh_…"),
        "ParticipantId": path("participant_id", "the id the participant's player token carries"),
        "IdempotencyKey": {"name": "Idempotency-Key", "in": "header", "required": False,
                           "schema": s.string(min_len=1, max_len=128, pattern=s.IDEMPOTENCY_KEY_PATTERN),
                           "description": "Apply this write at most once per user and key (24 h)."},
        "IfMatch": {"name": "If-Match", "in": "header", "required": False,
                    "schema": s.string(pattern=s.IF_MATCH_PATTERN),
                    "description": 'The match version the client saw: 7, "7" or W/"7".'},
        "BracketFormat": query("format", s.string(enum=["livebracket", "brackets-viewer"]),
                               "The shape of the answer (default livebracket)."),
        "Since": query("since", s.integer(0, 2**53), "Only events with a greater seq (default 0)."),
        "Limit": query("limit", s.integer(1, 1000), "At most this many events (default 1000)."),
        "PageLimit": query("limit", s.integer(1, 500), "At most this many tournaments (default 100)."),
        "Archived": query("archived", s.string(enum=["true", "false"]),
                          "true: only the archived tournaments; false (the default): the others."),
        "DeleteConfirm": {"name": "confirm", "in": "query", "required": True, "schema": s.string(min_len=1),
                          "description": "The tournament's name, exactly (what the desk asks to type)."},
        "MatchPageLimit": query("limit", s.integer(1, 1000), "At most this many matches (default: all)."),
        "DeliveryLimit": query("limit", s.integer(1, 200), "At most this many deliveries (default 50)."),
        "DeliveryBefore": query("before", s.integer(0, 10**15), "Only deliveries with a smaller seq (0: none)."),
        "After": query("after", s.identifier(), "The `next` of the page before: the items after it. "
                                               "An unknown id is a 404."),
    }


def build_document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "livebracket", "version": "0.1.0",
            "description": "Realtime server for LAN esports tournaments (reference: docs/api.md). Every "
                           "body is JSON; every error is {\"error\": {\"code\", \"message\"}}. Trailing "
                           "slashes are optional. A method a path does not list gets 405 "
                           "method_not_allowed; a path no route matches gets 404 not_found.",
        },
        "servers": [{"url": "/"}],
        "security": [{"bearerAuth": []}],
        "paths": paths(),
        "components": {
            "schemas": s.COMPONENTS,
            "parameters": parameters(),
            "responses": {"MethodNotAllowed": error(405, "method_not_allowed")},
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    }


DOCUMENT = build_document()


class OpenApiHandler(BaseHandler):
    """The document, for anyone: no token needed."""

    async def get(self) -> None:
        self.reply(200, DOCUMENT)


routes = [(r"/api/openapi\.json", OpenApiHandler)]
