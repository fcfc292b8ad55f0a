"""GET /healthz: whether the server runs and its store answers."""

from __future__ import annotations

from handlers.base import BaseHandler
from tournament.store import StorageError


class HealthHandler(BaseHandler):
    async def get(self) -> None:
        try:
            await self.services.store.ping()
        except StorageError:
            self.reply(503, {"status": "degraded", "store": "unreachable",
                             "store_kind": self.services.config.store})
            return
        self.reply(200, {"status": "ok", "store": "ok", "store_kind": self.services.config.store})


routes = [(r"/healthz/?", HealthHandler)]
