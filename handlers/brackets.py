"""Routes for a tournament's lifecycle and bracket: open, start, reset, cancel, bracket, standings,
and disqualifying a participant (which forfeits every match left to them)."""

from __future__ import annotations

from handlers.base import ID, BaseHandler, Reply
from handlers.brackets_viewer import brackets_viewer
from tournament import fields, series, stages, veto
from tournament.bracket_service import StartOptions

SEEDINGS = ("given", "random", "registration", "draw")  # draw: the finished live draw (tournament/draws.py)


class TournamentActionHandler(BaseHandler):
    """POST /api/tournaments/{id}/{open-registration,start,start-playoff,reset,cancel}."""

    async def post(self, tournament_id: str, action: str) -> None:
        async def act() -> Reply:
            user, body = self.user(), self.json_body()
            if action == "start":
                seeding = fields.text(body, "seeding", default="given")
                if seeding not in SEEDINGS:
                    raise fields.invalid("seeding", f"must be one of {', '.join(SEEDINGS)}")
                options = StartOptions(
                    seeding=seeding, rng_seed=fields.integer(body, "rng_seed", maximum=2**31 - 1),
                    third_place=fields.flag(body, "third_place"),
                    grand_final_reset=fields.flag(body, "grand_final_reset", True),
                    rounds=fields.integer(body, "rounds", minimum=1, maximum=255),
                    tiebreaks=fields.names(body, "tiebreaks"), points=points(fields.numbers(body, "points", 3)),
                    series=series.rules_from(body.get("series")),
                    veto=veto.config_from(body["veto"]) if body.get("veto") is not None else None,
                    groups=stages.config_from(body["groups"]) if body.get("groups") is not None else None)
                tournament = await self.services.brackets.start(tournament_id, user, options)
            elif action == "start-playoff":
                tournament = await self.services.brackets.start_playoff(tournament_id, user)
            elif action == "reset":
                tournament = await self.services.brackets.reset(tournament_id, user)
            elif action == "open-registration":
                tournament = await self.services.tournaments.open_registration(tournament_id, user)
            else:
                tournament = await self.services.brackets.cancel(tournament_id, user)
            return 200, tournament.to_json()

        await self.once_per_key(self.count_write(), act)


def points(values: tuple[float, ...] | None) -> tuple[float, float, float] | None:
    return None if values is None else (values[0], values[1], values[2])


class BracketHandler(BaseHandler):
    async def get(self, tournament_id: str) -> None:
        self.user()
        view = await self.services.brackets.view(tournament_id)
        shape = self.get_query_argument("format", "livebracket")
        if shape == "brackets-viewer":
            tournament = await self.services.tournaments.get(tournament_id)
            if tournament.format == stages.FORMAT:
                raise fields.invalid("format", "brackets-viewer takes one stage: a groups-then-playoffs "
                                               "tournament is exported as livebracket only, for now")
            participants = await self.services.tournaments.list_participants(tournament_id)
            self.reply(200, brackets_viewer(tournament, participants, view))
        elif shape == "livebracket":
            self.reply(200, view)
        else:
            raise fields.invalid("format", "must be livebracket or brackets-viewer")


class DisqualifyHandler(BaseHandler):
    """POST /api/tournaments/{id}/participants/{participant_id}/disqualify."""

    async def post(self, tournament_id: str, participant_id: str) -> None:
        async def act() -> Reply:
            user, body = self.user(), self.json_body()
            reason = fields.text(body, "reason", default="", allow_empty=True, max_len=500)
            tournament = await self.services.disqualify.disqualify(tournament_id, user, participant_id, reason)
            return 200, tournament.to_json()

        await self.once_per_key(self.count_write(), act)


class StandingsHandler(BaseHandler):
    async def get(self, tournament_id: str) -> None:
        self.user()
        self.reply(200, await self.services.brackets.standings(tournament_id))


routes = [
    (rf"/api/tournaments/({ID})/(open-registration|start|start-playoff|reset|cancel)/?", TournamentActionHandler),
    (rf"/api/tournaments/({ID})/bracket/?", BracketHandler),
    (rf"/api/tournaments/({ID})/participants/({ID})/disqualify/?", DisqualifyHandler),
    (rf"/api/tournaments/({ID})/standings/?", StandingsHandler),
]
