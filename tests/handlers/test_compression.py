"""permessage-deflate (handlers/connection.py, realtime/frames.py): the negotiation, frames
deflated once and the same bytes for every compressing socket, compressed client frames
inflated within the frame limits."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import os
import random
import socket
import struct
import zlib
from typing import Any

import pytest
from tornado.httpclient import HTTPRequest
from tornado.websocket import WebSocketClientConnection, websocket_connect

from handlers.connection import _BoundedDecompressor, deflate_agreement
from realtime.frames import DEFLATE_MIN_BYTES, Frame
from server import build_services
from tests.conftest import Api
from tests.wsclient import Socket, connect, raw_handshake
from tournament.models import Event, match_stream

CHROMIUM_OFFER = "permessage-deflate; client_max_window_bits"
ANSWER = "permessage-deflate; server_no_context_takeover"  # to an offer of "permessage-deflate"
CHROMIUM_ANSWER = ANSWER + "; client_max_window_bits=10"
TAIL = b"\x00\x00\xff\xff"
RSV1 = 0x40


def inflate(payload: bytes) -> bytes:
    """A message deflated without context takeover, read by a fresh raw inflater."""
    return zlib.decompressobj(-15).decompress(payload + TAIL)


def deflate(text: bytes, stream: Any = None) -> bytes:
    """A client's compressed message (a fresh stream unless one is given)."""
    stream = stream or zlib.compressobj(6, zlib.DEFLATED, -15)
    data: bytes = stream.compress(text) + stream.flush(zlib.Z_SYNC_FLUSH)
    return data[:-4]


def client_frame(payload: bytes, opcode: int = 0x1, rsv1: bool = False, fin: bool = True) -> bytes:
    """A masked client frame (RFC 6455 5.2)."""
    first = (0x80 if fin else 0) | (RSV1 if rsv1 else 0) | opcode
    n = len(payload)
    if n < 126:
        header = bytes((first, 0x80 | n))
    elif n < 1 << 16:
        header = struct.pack("!BBH", first, 0x80 | 126, n)
    else:
        header = struct.pack("!BBQ", first, 0x80 | 127, n)
    mask = os.urandom(4)
    return header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


class RawClient:
    """A socket that did its own handshake: frames as they are on the wire."""

    def __init__(self, sock: socket.socket, answer: dict[str, str]) -> None:
        self.sock = sock
        self.answer = answer
        self.buffered = bytearray()

    @classmethod
    async def open(cls, api: Api, path: str, extensions: str | None = None) -> RawClient:
        port = int(api.base_url.rsplit(":", 1)[1])
        client = cls(*await raw_handshake(port, f"{path}?token={api.organizer}", extensions))
        api.opened.append(client)
        return client

    async def read(self, n: int) -> bytes:
        loop = asyncio.get_running_loop()
        while len(self.buffered) < n:
            chunk = await loop.sock_recv(self.sock, 65536)
            assert chunk, "the server hung up without a close frame"
            self.buffered.extend(chunk)
        data = bytes(self.buffered[:n])
        del self.buffered[:n]
        return data

    async def frame(self) -> tuple[int, bytes]:
        """The next frame's first header byte and its payload."""
        first, second = await self.read(2)
        length = second & 0x7F
        if length == 126:
            (length,) = struct.unpack("!H", await self.read(2))
        elif length == 127:
            (length,) = struct.unpack("!Q", await self.read(8))
        return first, await self.read(length)

    async def message(self, skip: tuple[str, ...] = ("presence", "ping")) -> tuple[int, bytes, dict[str, Any]]:
        """The next text message not in `skip`: first header byte, payload as sent, the JSON."""
        while True:
            first, payload = await self.frame()
            assert first & 0x0F == 0x1, (first, payload)
            parsed: dict[str, Any] = json.loads(inflate(payload) if first & RSV1 else payload)
            if parsed["type"] not in skip:
                return first, payload, parsed

    async def close_code(self) -> int:
        """Read until the close frame; its code."""
        while True:
            first, payload = await self.frame()
            if first & 0x0F == 0x8:
                code: int = struct.unpack("!H", payload[:2])[0]
                return code

    async def send(self, data: bytes) -> None:
        await asyncio.get_running_loop().sock_sendall(self.sock, data)

    def close(self) -> None:
        self.sock.close()


async def deflating(api: Api, path: str) -> tuple[WebSocketClientConnection, Socket]:
    """Tornado's own client with compression on, as `connect` opens a plain one."""
    url = api.base_url.replace("http", "ws", 1) + f"{path}?token={api.organizer}"
    conn = await websocket_connect(HTTPRequest(url), compression_options={})
    sock = Socket(conn)
    api.opened.append(sock)
    return conn, sock


def params(answer: str) -> set[str]:
    """An extension answer's name and parameters, in any order."""
    return {part.strip() for part in answer.split(";")}


def pong(message: tuple[int, bytes, dict[str, Any]]) -> int:
    """The timestamp of a pong (fails on anything else)."""
    frame = message[2]
    assert frame["type"] == "pong", frame
    stamp: int = frame["timestamp"]
    return stamp


async def live_match(api: Api) -> tuple[str, dict[str, Any]]:
    tid, match = await api.match_between("alice", "bob")
    return tid, await api.ok("POST", f"/api/matches/{match['id']}/start")


# -- negotiation, as a function --------------------------------------------------------------


SNCT: dict[str, str | None] = {"server_no_context_takeover": None}


@pytest.mark.parametrize(("offer", "answer"), [
    (CHROMIUM_OFFER, {**SNCT, "client_max_window_bits": "10"}),
    ("permessage-deflate", SNCT),
    ("permessage-deflate; client_no_context_takeover", {**SNCT, "client_no_context_takeover": None}),
    ("Permessage-Deflate; Server_No_Context_Takeover; client_max_window_bits=12",
     {**SNCT, "client_max_window_bits": "10"}),
    ("permessage-deflate; client_max_window_bits=9", SNCT),
    ("permessage-deflate; server_max_window_bits=15", SNCT),
    ('permessage-deflate; server_max_window_bits="15"', SNCT),
    ("permessage-deflate; server_max_window_bits=10, permessage-deflate; client_no_context_takeover",
     {**SNCT, "client_no_context_takeover": None}),
    ("x-webkit-deflate-frame, permessage-deflate", SNCT),
    ("permessage-deflate; server_max_window_bits=10", None),
    ("permessage-deflate; client_max_window_bits=16", None),
    ("permessage-deflate; client_max_window_bits=x", None),
    ("permessage-deflate; client_no_context_takeover=1", None),
    ("permessage-deflate; server_no_context_takeover; server_no_context_takeover", None),
    ("permessage-deflate; mystery", None),
    ("x-webkit-deflate-frame", None),
    ("", None),
])
def test_the_first_servable_deflate_offer_is_answered_without_server_context_takeover(
        offer: str, answer: dict[str, str | None] | None) -> None:
    """Every servable offer is answered with server_no_context_takeover (and
    client_no_context_takeover when offered, a 10-bit client window when the offer lets the
    server choose one); an offer with an unknown or malformed parameter, or a server window
    under 15 bits, is declined for the next one, or for no compression."""
    assert deflate_agreement(offer) == answer


# -- Frame.deflated --------------------------------------------------------------------------


def test_a_frame_is_deflated_once_with_rsv1_and_inflates_to_its_text() -> None:
    """Frame.deflated is built on first use, then the same object; RSV1 set; a fresh raw
    inflater gives the text back; it is smaller than the plain frame."""
    text = json.dumps({"type": "score_updated", "seq": 7, "data": {"match": {"id": "m_1", "scores": {"a": 1}}},
                       "pad": ["alice", "bob"] * 40})
    frame = Frame(text, seq=7)
    first = frame.deflated
    assert frame.deflated is first
    assert first[0] == 0x80 | RSV1 | 0x1
    assert len(first) < len(frame.wire)
    assert inflate(first[2:] if first[1] < 126 else first[4:]).decode() == text


NOISE = json.dumps({"k": base64.b64encode(random.Random(75).randbytes(75)).decode()}, separators=(",", ":"))


@pytest.mark.parametrize("text", ['{"type":"pong","timestamp":1700000000000}', NOISE])
def test_small_or_incompressible_frames_are_sent_as_they_are(text: str) -> None:
    """Under DEFLATE_MIN_BYTES (a pong), or when deflate would not make it smaller (108 bytes
    of noise deflate to 110), the deflated frame is the plain frame itself (RSV1 clear)."""
    frame = Frame(text)
    assert (len(text) < DEFLATE_MIN_BYTES) == (text is not NOISE)
    assert frame.deflated is frame.wire and frame.wire[0] == 0x81


def test_the_bounded_decompressor_stops_inflating_at_its_limit() -> None:
    """A message that inflates to 10 MB is inflated to limit + 1 bytes and no further: the
    rest of its input is left unread."""
    decompressor = _BoundedDecompressor(1000, persistent=True, max_wbits=15, max_message_size=1 << 20)
    assert decompressor._decompressor is None  # made on the first compressed message
    out = decompressor.decompress(deflate(b"a" * 10_000_000))
    assert len(out) == 1001
    assert decompressor._decompressor is not None and decompressor._decompressor.unconsumed_tail


# -- over real sockets -----------------------------------------------------------------------


@pytest.mark.gen_test(timeout=30)
async def test_a_deflating_client_reads_what_a_plain_client_reads(api: Api) -> None:
    """A client offering permessage-deflate (Tornado's, as a browser does) is answered with
    server_no_context_takeover and gets the welcome (a large tournament snapshot) and every
    event compressed and identical, once inflated, to a plain client's; the plain client
    gets no extension."""
    tid = (await api.ok("POST", "/api/tournaments", {"name": "Big Cup"}, 201))["id"]
    rows = [{"name": f"Player number {i}", "id": f"p{i}"} for i in range(1, 33)]
    await api.ok("POST", f"/api/tournaments/{tid}/participants/bulk", {"participants": rows}, 201)
    await api.ok("POST", f"/api/tournaments/{tid}/start")
    plain, plain_welcome = await connect(api, f"/ws/tournament/{tid}", api.organizer)
    conn, packed = await deflating(api, f"/ws/tournament/{tid}")
    packed_welcome = await packed.recv()
    assert conn.headers is not None and plain.conn.headers is not None
    assert params(conn.headers.get("Sec-WebSocket-Extensions", "")) == params(CHROMIUM_ANSWER)
    assert plain.conn.headers.get("Sec-WebSocket-Extensions") is None
    assert len(json.dumps(packed_welcome)) > 16_000
    assert {**packed_welcome["data"], "watchers": 0} == {**plain_welcome["data"], "watchers": 0}
    first = next(m for m in packed_welcome["data"]["matches"] if len(m["participant_ids"]) == 2)
    started = await api.ok("POST", f"/api/matches/{first['id']}/start")
    version = started["version"]
    for score in range(1, 4):
        body = {"scores": {first["participant_ids"][0]: score}}
        version = (await api.ok("POST", f"/api/matches/{first['id']}/score", body,
                                headers={"If-Match": str(version)}))["version"]
    plain_events, latest = [], 0  # the tournament room has each window's scores as one frame
    while latest != 3:
        plain_events.append(await plain.recv())
        if len(plain_events) > 1:
            latest = plain_events[-1]["data"]["updates"][-1]["scores"][first["participant_ids"][0]]
    assert [e["type"] for e in plain_events] == ["match_started"] + ["scores_updated"] * (len(plain_events) - 1)
    assert [await packed.recv() for _ in plain_events] == plain_events
    wire_in, message_in = conn.protocol._wire_bytes_in, conn.protocol._message_bytes_in  # type: ignore[union-attr]
    assert wire_in < message_in / 3, (wire_in, message_in)


@pytest.mark.gen_test(timeout=20)
async def test_compressing_sockets_get_the_same_deflated_bytes(api: Api) -> None:
    """Two sockets that negotiated permessage-deflate get byte-identical compressed frames
    (RSV1 set) for the same event, which inflate to the plain socket's frame (RSV1 clear,
    no extension answered)."""
    _, match = await live_match(api)
    mid = match["id"]
    path = f"/ws/match/{mid}"
    first = await RawClient.open(api, path, CHROMIUM_OFFER)
    second = await RawClient.open(api, path, "permessage-deflate")
    plain = await RawClient.open(api, path)
    assert params(first.answer["sec-websocket-extensions"]) == params(CHROMIUM_ANSWER)
    assert second.answer["sec-websocket-extensions"] == ANSWER
    assert "sec-websocket-extensions" not in plain.answer
    for sock in (first, second, plain):
        header, _, welcome = await sock.message()
        assert welcome["type"] == "connection_established"
        assert header == (0x81 if sock is plain else 0xC1)
    api.services.hub.publish(Event(match_stream(mid), match["seq"] + 1, "score_updated",
                                   {"match_id": mid, "scores": {"alice": 1}, "match": match}, 0.0))
    (h1, p1, e1), (h2, p2, e2), (h3, p3, e3) = [await s.message() for s in (first, second, plain)]
    assert (h1, h2, h3) == (0xC1, 0xC1, 0x81)
    assert p1 == p2 and len(p1) < len(p3)
    assert inflate(p1) == p3 and e1 == e2 == e3


@pytest.mark.gen_test(timeout=20)
async def test_client_no_context_takeover_is_answered_only_when_offered(api: Api) -> None:
    """client_no_context_takeover is in the answer when the client offered it; an offer this
    server cannot serve (a server window of 10 bits) is declined: no extension, plain frames."""
    _, match = await live_match(api)
    path = f"/ws/match/{match['id']}"
    both = await RawClient.open(api, path, "permessage-deflate; client_no_context_takeover")
    assert params(both.answer["sec-websocket-extensions"]) == params(ANSWER + "; client_no_context_takeover")
    declined = await RawClient.open(api, path, "permessage-deflate; server_max_window_bits=10")
    assert "sec-websocket-extensions" not in declined.answer
    assert (await declined.message())[0] == 0x81
    # each message from a client without context takeover is inflated on its own
    await both.message()
    for stamp in (1, 2):
        await both.send(client_frame(deflate(b'{"type":"ping","timestamp":%d}' % stamp), rsv1=True))
        assert pong(await both.message()) == stamp


@pytest.mark.gen_test(timeout=20)
async def test_compressed_commands_are_inflated_with_the_clients_context(api: Api) -> None:
    """Commands compressed with context takeover (in the 10-bit window answered) are inflated
    in order, a fragmented one with a ping between its frames too; Tornado's client (which
    compresses what it sends) gets its pongs."""
    _, match = await live_match(api)
    path = f"/ws/match/{match['id']}"
    raw = await RawClient.open(api, path, CHROMIUM_OFFER)
    await raw.message()
    stream = zlib.compressobj(6, zlib.DEFLATED, -10)
    ping = b'{"type":"ping","timestamp":%d}'
    for stamp in (1, 2, 3):  # the second and third refer back into the first
        await raw.send(client_frame(deflate(ping % stamp, stream), rsv1=True))
        assert pong(await raw.message()) == stamp
    packed = deflate(ping % 4, stream)
    await raw.send(client_frame(packed[:5], rsv1=True, fin=False) + client_frame(b"hi", opcode=0x9)
                   + client_frame(packed[5:], opcode=0x0))
    first, payload = await raw.frame()
    while first == 0x81 and b'"presence"' in payload:
        first, payload = await raw.frame()
    assert (first, payload) == (0x8A, b"hi")
    assert pong(await raw.message()) == 4
    _, sock = await deflating(api, path)
    await sock.recv()
    for stamp in (5, 6):
        reply = await sock.ask({"type": "ping", "timestamp": stamp})
        assert (reply["type"], reply["timestamp"]) == ("pong", stamp)


@pytest.mark.parametrize("inflated", [16 * 1024 + 1, 50_000_000])
@pytest.mark.gen_test(timeout=20)
async def test_a_compression_bomb_is_refused_as_an_oversized_frame(inflated: int, api: Api) -> None:
    """A small compressed frame that inflates past max_frame_bytes (just past it, or to 50 MB)
    gets payload_too_large and close 4008, as an uncompressed frame that large does."""
    _, match = await live_match(api)
    raw = await RawClient.open(api, f"/ws/match/{match['id']}", CHROMIUM_OFFER)
    await raw.message()
    text = b'{"type":"ping","timestamp":1,"pad":"' + b"a" * (inflated - 38) + b'"}'
    assert len(text) == inflated
    bomb = deflate(text)
    assert len(bomb) < max(100, inflated / 1000)
    await raw.send(client_frame(bomb, rsv1=True))
    error = (await raw.message())[2]
    assert (error["type"], error["code"]) == ("error", "payload_too_large")
    assert await raw.close_code() == 4008


@pytest.mark.gen_test(timeout=20)
async def test_a_bomb_past_the_hard_limit_closes_1009(services: Any, serve_app: Any) -> None:
    """When Tornado's hard limit (websocket_max_message_size) is below max_frame_bytes, a
    compressed frame that inflates past it closes 1009, as an uncompressed frame over it does."""
    custom = build_services(dataclasses.replace(services.config, max_frame_bytes=64 * 1024), services.store)
    api: Api = serve_app(custom, websocket_max_message_size=32 * 1024)
    _, match = await live_match(api)
    path = f"/ws/match/{match['id']}"
    for compressed in (True, False):
        raw = await RawClient.open(api, path, CHROMIUM_OFFER)
        await raw.message()
        text = b'{"type":"ping","pad":"' + b"a" * 40_000 + b'"}'
        await raw.send(client_frame(deflate(text), rsv1=True) if compressed else client_frame(text))
        assert await raw.close_code() == 1009


@pytest.mark.parametrize("frame", [client_frame(b"hi", opcode=0x9, rsv1=True),
                                   client_frame(b"not deflate at all", rsv1=True)])
@pytest.mark.gen_test(timeout=20)
async def test_a_compressed_ping_or_garbage_closes_1002(frame: bytes, api: Api) -> None:
    """A control frame with RSV1 (RFC 7692 6.1) or compressed data that does not inflate is a
    protocol error: close 1002."""
    _, match = await live_match(api)
    raw = await RawClient.open(api, f"/ws/match/{match['id']}", CHROMIUM_OFFER)
    await raw.message()
    await raw.send(frame)
    assert await raw.close_code() == 1002
