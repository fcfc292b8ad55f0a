"""The database goes away and comes back: REST says 503, sockets stay open and are told."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from config import Config
from server import build_services, prepare_store
from storage.embedded import EmbeddedMongo
from storage.mongo import MongoStore
from tests.conftest import SECRET
from tests.wsclient import connect


@pytest.mark.gen_test(timeout=60)
async def test_outage_is_announced_and_work_resumes(tmp_path: Path, serve_app: Any) -> None:
    """With the embedded server stopped, REST answers 503 and sockets get store_status
    false but stay open; once it is back, the same socket hears true and writes work again."""
    embedded = EmbeddedMongo(tmp_path)
    store = MongoStore(await embedded.start(), "outage", timeout_s=0.3)
    config = Config(store="mongo", jwt_secret=SECRET)
    await prepare_store(store, config)
    services = build_services(config, store)
    api = serve_app(services)
    try:
        tid, match = await api.match_between("alice", "bob")
        watcher, _ = await connect(api, f"/ws/tournament/{tid}", api.organizer)

        await embedded.stop()
        assert await services.store_watch.check() is False
        assert await watcher.recv() == {"type": "store_status", "data": {"available": False}}
        status, body = await api.post(f"/api/matches/{match['id']}/start")
        assert (status, body["error"]["code"]) == (503, "store_unavailable")
        error = await watcher.ask({"type": "start_match", "data": {"match_id": match["id"]}})
        assert error["code"] == "store_unavailable"

        await embedded.start()
        assert await services.store_watch.check() is True
        assert await watcher.recv() == {"type": "store_status", "data": {"available": True}}
        await api.ok("POST", f"/api/matches/{match['id']}/start")
        assert (await watcher.recv())["type"] == "match_started"
    finally:
        await store.close()
        await embedded.stop()
