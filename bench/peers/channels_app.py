"""The Django Channels peer: a group fan-out through the in-memory channel layer, on daphne.

    DJANGO_SETTINGS_MODULE=bench.peers.channels_settings \
        python -m daphne -b 127.0.0.1 -p 9000 bench.peers.channels_app:application

`/ws` is an AsyncWebsocketConsumer in group "match" that sends a one-line welcome;
`POST /publish` parses the body once, serializes it once and calls
`channel_layer.group_send("match", ...)`; each member's consumer then sends the text as is.
This is the textbook Channels broadcast, given its best case: the text is serialized once
by the publisher, not once per member by `send_json`.
"""

from __future__ import annotations

import json
import os
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.peers.channels_settings")

import django  # noqa: E402

django.setup()

from channels.generic.http import AsyncHttpConsumer  # noqa: E402
from channels.generic.websocket import AsyncWebsocketConsumer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402

GROUP = "match"
WELCOME = json.dumps({"type": "connection_established", "data": {}}, separators=(",", ":"))


class SubscriberConsumer(AsyncWebsocketConsumer):
    groups = [GROUP]  # joined before connect() runs, left on disconnect

    async def connect(self) -> None:
        await self.accept()
        await self.send(text_data=WELCOME)

    async def match_event(self, event: dict[str, Any]) -> None:
        await self.send(text_data=event["text"])


class PublishConsumer(AsyncHttpConsumer):
    async def handle(self, body: bytes) -> None:
        text = json.dumps(json.loads(body), separators=(",", ":"))
        assert self.channel_layer is not None
        await self.channel_layer.group_send(GROUP, {"type": "match.event", "text": text})
        reply = b'{"sent":true}'
        await self.send_response(200, reply, headers=[(b"Content-Type", b"application/json"),
                                                      (b"Content-Length", str(len(reply)).encode())])


application = ProtocolTypeRouter({
    "http": URLRouter([path("publish", PublishConsumer.as_asgi())]),
    "websocket": URLRouter([path("ws", SubscriberConsumer.as_asgi())]),
})
