"""Routes for stations, how a tournament calls its matches, the call queue, and calling a match."""

from __future__ import annotations

from typing import Any

from handlers.base import ID, BaseHandler, Reply
from tournament import fields
from tournament.stations import MAX_CHECK_IN_S


def _maybe_flag(body: dict[str, Any], field: str) -> bool | None:
    """A true/false field of a change: None when absent (or null)."""
    return None if body.get(field) is None else fields.flag(body, field)


def _station_name(body: dict[str, Any], *, required: bool) -> str | None:
    if not required and body.get("name") is None:
        return None
    return fields.text(body, "name", max_len=60)


class StationsHandler(BaseHandler):
    async def get(self, tournament_id: str) -> None:
        self.user()
        tournament = await self.services.tournaments.get(tournament_id)
        self.reply(200, {"stations": [s.to_json() for s in tournament.stations]})

    async def post(self, tournament_id: str) -> None:
        async def add() -> Reply:
            body = self.json_body()
            name = _station_name(body, required=True)
            assert name is not None
            station = await self.services.stations.add_station(
                tournament_id, self.user(), name, stream=fields.flag(body, "stream"),
                enabled=fields.flag(body, "enabled", default=True))
            self.set_header("Location", f"/api/tournaments/{tournament_id}/stations/{station.id}")
            return 201, station.to_json()

        await self.once_per_key(self.count_write(), add)


class StationHandler(BaseHandler):
    async def patch(self, tournament_id: str, station_id: str) -> None:
        async def change() -> Reply:
            body = self.json_body()
            station = await self.services.stations.update_station(
                tournament_id, station_id, self.user(), name=_station_name(body, required=False),
                stream=_maybe_flag(body, "stream"), enabled=_maybe_flag(body, "enabled"))
            return 200, station.to_json()

        await self.once_per_key(self.count_write(), change)

    async def delete(self, tournament_id: str, station_id: str) -> None:
        async def remove() -> Reply:
            await self.services.stations.remove_station(tournament_id, station_id, self.user())
            return 200, {"removed": station_id}

        await self.once_per_key(self.count_write(), remove)


class CallingHandler(BaseHandler):
    async def get(self, tournament_id: str) -> None:
        self.user()
        tournament = await self.services.tournaments.get(tournament_id)
        self.reply(200, tournament.calling.to_json())

    async def patch(self, tournament_id: str) -> None:
        async def change() -> Reply:
            body = self.json_body()
            changes: dict[str, Any] = {}
            for name in ("auto_assign", "forfeit_no_show"):
                if (value := _maybe_flag(body, name)) is not None:
                    changes[name] = value
            if "check_in_s" in body:  # null: no timer
                seconds = fields.integer(body, "check_in_s", minimum=10, maximum=int(MAX_CHECK_IN_S))
                changes["check_in_s"] = seconds
            if body.get("stream_first") is not None:
                changes["stream_first"] = fields.text(body, "stream_first", max_len=40)
            policy = await self.services.stations.set_calling(tournament_id, self.user(), **changes)
            return 200, policy.to_json()

        await self.once_per_key(self.count_write(), change)


class QueueHandler(BaseHandler):
    async def get(self, tournament_id: str) -> None:
        self.user()
        self.reply(200, await self.services.stations.queue(tournament_id))


class CallHandler(BaseHandler):
    async def post(self, match_id: str) -> None:
        async def call() -> Reply:
            body = self.json_body()
            station_id = fields.identifier(body, "station_id")
            assert station_id is not None
            match = await self.services.stations.call(match_id, self.user(), station_id)
            return 200, match.to_json()

        await self.once_per_key(self.count_write(), call)


class UncallHandler(BaseHandler):
    async def post(self, match_id: str) -> None:
        async def uncall() -> Reply:
            body = self.json_body()
            match = await self.services.stations.uncall(
                match_id, self.user(), fields.text(body, "reason", default="", allow_empty=True, max_len=200),
                hold=fields.flag(body, "hold", default=True))
            return 200, match.to_json()

        await self.once_per_key(self.count_write(), uncall)


routes = [
    (rf"/api/tournaments/({ID})/stations/?", StationsHandler),
    (rf"/api/tournaments/({ID})/stations/({ID})/?", StationHandler),
    (rf"/api/tournaments/({ID})/calling/?", CallingHandler),
    (rf"/api/tournaments/({ID})/queue/?", QueueHandler),
    (rf"/api/matches/({ID})/call/?", CallHandler),
    (rf"/api/matches/({ID})/uncall/?", UncallHandler),
]
