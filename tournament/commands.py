"""The match commands: one table that REST routes and socket frames both call.

Each command has its REST action (`POST /api/matches/{id}/<rest>`), its socket frame type
if sockets may send it, how its arguments are read from a JSON object (a body, a frame's
`data`), and the MatchService move it makes. What a command answers is a `Done`: the match
written, or, for a live score waiting in its batch, the future write.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any

from tournament import fields, series, veto
from tournament.matches import MatchService
from tournament.models import Dispute, Match
from tournament.roles import Principal

Args = dict[str, Any]


@dataclasses.dataclass(frozen=True)
class Done:
    """A command's result: `match` once written; `pending` while a live score waits for its batch."""

    match: Match | None = None
    pending: asyncio.Future[Match] | None = None
    dispute: Dispute | None = None  # the dispute a raise_dispute opened

    async def written(self) -> Match:
        """The match once written (waiting for a batched score's write)."""
        if self.match is not None:
            return self.match
        assert self.pending is not None
        return await self.pending


Run = Callable[[MatchService, str, Principal, Args, int | None], Awaitable[Done]]


@dataclasses.dataclass(frozen=True)
class Command:
    rest: str  # the REST action
    socket: str | None  # the socket frame type; None: REST only
    run: Run  # (matches, match id, user, arguments, If-Match version) -> Done


async def _open_check_in(m: MatchService, match_id: str, user: Principal, args: Args, version: int | None) -> Done:
    return Done(await m.open_check_in(match_id, user, version))


async def _check_in(m: MatchService, match_id: str, user: Principal, args: Args, version: int | None) -> Done:
    return Done(await m.check_in(match_id, user, fields.identifier(args, "participant_id", required=False),
                                 version))


async def _start(m: MatchService, match_id: str, user: Principal, args: Args, version: int | None) -> Done:
    return Done(await m.start(match_id, user, version))


def _game(args: Args) -> int | None:
    return fields.integer(args, "game", minimum=1, maximum=series.MAX_BEST_OF)


async def _score(m: MatchService, match_id: str, user: Principal, args: Args, version: int | None) -> Done:
    written = await m.update_score(match_id, user, fields.scores(args) or {}, version, _game(args))
    return Done(written.result() if written.done() else None, written)


async def _result(m: MatchService, match_id: str, user: Principal, args: Args, version: int | None) -> Done:
    games = fields.score_list(args, "games", series.MAX_BEST_OF)
    scores = fields.scores(args, required=games is None)
    return Done(await m.report_result(match_id, user, scores, version, game=_game(args), games=games))


async def _format(m: MatchService, match_id: str, user: Principal, args: Args, version: int | None) -> Done:
    return Done(await m.set_format(match_id, user, series.format_from(args.get("format")), version))


async def _confirm(m: MatchService, match_id: str, user: Principal, args: Args, version: int | None) -> Done:
    return Done(await m.confirm(match_id, user, version))


async def _forfeit(m: MatchService, match_id: str, user: Principal, args: Args, version: int | None) -> Done:
    return Done(await m.forfeit(match_id, user, fields.identifier(args, "participant_id") or "", version))


async def _cancel(m: MatchService, match_id: str, user: Principal, args: Args, version: int | None) -> Done:
    reason = fields.text(args, "reason", default="", allow_empty=True, max_len=500, multiline=True)
    return Done(await m.cancel(match_id, user, reason, version))


async def _dispute(m: MatchService, match_id: str, user: Principal, args: Args, version: int | None) -> Done:
    reason = fields.text(args, "reason", max_len=1000, multiline=True)
    dispute, match = await m.raise_dispute(match_id, user, reason, version)
    return Done(match, dispute=dispute)


async def _start_veto(m: MatchService, match_id: str, user: Principal, args: Args, version: int | None) -> Done:
    # A pool: a veto of its own; else the tournament's, with whatever else the body changes.
    config = veto.config_from(args) if args.get("pool") is not None else None
    overrides = {k: args[k] for k in veto.CONFIG_FIELDS if k != "pool" and args.get(k) is not None}
    return Done(await m.start_veto(match_id, user, config, fields.identifier(args, "first_id", required=False),
                                   fields.integer(args, "rng_seed", maximum=2**31 - 1), version,
                                   overrides=overrides))


async def _veto(m: MatchService, match_id: str, user: Principal, args: Args, version: int | None) -> Done:
    if (args.get("map") is None) == (args.get("side") is None):
        raise fields.bad_request("a veto turn is a map (ban or pick) or a side: send one of map and side", "map")
    side = args.get("side") is not None
    choice = fields.text(args, "side" if side else "map", max_len=40)
    action = fields.text(args, "action", default="", allow_empty=True, max_len=10) or None
    if action is not None and action not in (veto.BAN, veto.PICK, veto.SIDE):
        raise fields.invalid("action", "must be ban, pick or side")
    return Done(await m.take_veto_turn(match_id, user, choice, action, version, side=side))


COMMANDS = (
    Command("open-check-in", None, _open_check_in),
    Command("check-in", "ready_up", _check_in),
    Command("start", "start_match", _start),
    Command("score", "update_score", _score),
    Command("result", "report_score", _result),
    Command("confirm", "confirm_result", _confirm),
    Command("forfeit", None, _forfeit),
    Command("cancel", None, _cancel),
    Command("format", "set_format", _format),
    Command("start-veto", "start_veto", _start_veto),
    Command("veto", "veto", _veto),
    Command("dispute", "raise_dispute", _dispute),  # REST: POST /api/matches/{id}/disputes
)
BY_REST = {c.rest: c for c in COMMANDS}
BY_SOCKET = {c.socket: c for c in COMMANDS if c.socket}
