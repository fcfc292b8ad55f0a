"""handlers/connection.py over real sockets: the direct write path, its write_message
fallback (both bounded, with and without permessage-deflate), and RFC 6455's masking rule.
Compression itself: tests/handlers/test_compression.py."""

from __future__ import annotations

import asyncio
import dataclasses
import random
import struct
from typing import Any

import pytest
from tornado.websocket import websocket_connect

from handlers.services import Services
from server import build_services
from tests.conftest import Api
from tests.wsclient import Socket, raw_handshake, raw_socket_that_never_reads
from tournament.models import Event, match_stream


@pytest.mark.parametrize("compressed", [False, True])
@pytest.mark.parametrize("direct", [True, False])
@pytest.mark.gen_test(timeout=30)
async def test_both_write_paths_deliver_in_order_and_drop_a_reader_that_stalls(
        direct: bool, compressed: bool, services: Services, serve_app: Any) -> None:
    """Direct writes and the write_message fallback each deliver every frame in order to a
    reader that keeps up, and close a socket that never reads once its bound is passed; the
    same with permessage-deflate (frames deflated once on the direct path, by Tornado per
    socket on the fallback)."""
    # Three 20 kB frames of room: the fallback's write futures resolve a loop turn or two after
    # the reader has the bytes (a busy machine saw the keeping-up reader dropped at 32 kB).
    custom = build_services(dataclasses.replace(services.config, max_pending_bytes=64 * 1024), services.store)
    api: Api = serve_app(custom, direct_writes=direct)
    _, match = await api.match_between("alice", "bob")
    mid = match["id"]
    port = int(api.base_url.rsplit(":", 1)[1])
    offer = "permessage-deflate; client_max_window_bits" if compressed else None
    stalled, answer = await raw_handshake(port, f"/ws/match/{mid}?token={api.organizer}", offer, rcvbuf=4096)
    api.opened.append(stalled)
    assert ("sec-websocket-extensions" in answer) == compressed
    url = api.base_url.replace("http", "ws", 1) + f"/ws/match/{mid}?token={api.organizer}"
    conn = await websocket_connect(url, compression_options={} if compressed else None)
    watcher = Socket(conn)
    api.opened.append(watcher)
    assert (await watcher.recv())["type"] == "connection_established"
    members = custom.hub.room(f"match:{mid}").members
    paths = {(m.conn.direct, m.conn.deflate) for m in members}  # type: ignore[attr-defined]
    assert paths == {(direct, compressed and direct)}
    padding = random.Random(7).randbytes(10_000).hex()  # 20 kB that deflate halves at best
    seqs = []
    for seq in range(1, 601):
        custom.hub.publish(Event(match_stream(mid), seq, "score_updated", {"match_id": mid, "pad": padding}, 0.0))
        seqs.append((await watcher.recv())["seq"])
    assert seqs == list(range(1, 601))
    assert custom.limits.slow_consumers == 1
    wire_in, message_in = conn.protocol._wire_bytes_in, conn.protocol._message_bytes_in  # type: ignore[union-attr]
    assert (wire_in < 0.7 * message_in) == compressed, (wire_in, message_in)


def _client_frame(payload: bytes, *, masked: bool) -> bytes:
    header = bytes((0x81, (0x80 if masked else 0) | len(payload)))
    if not masked:
        return header + payload
    mask = b"\x01\x02\x03\x04"
    return header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


@pytest.mark.parametrize("masked", [True, False])
@pytest.mark.gen_test(timeout=10)
async def test_an_unmasked_client_frame_closes_with_1002(masked: bool, api: Api) -> None:
    """A client frame without a mask is a protocol error: close 1002 (RFC 6455 5.1); a masked
    one is answered."""
    _, match = await api.match_between("alice", "bob")
    port = int(api.base_url.rsplit(":", 1)[1])
    sock = await raw_socket_that_never_reads(port, f"/ws/match/{match['id']}?token={api.organizer}")
    loop = asyncio.get_running_loop()
    buffered = bytearray()

    async def read(n: int) -> bytes:
        while len(buffered) < n:
            chunk = await loop.sock_recv(sock, 65536)
            assert chunk, "the server hung up without a close frame"
            buffered.extend(chunk)
        data = bytes(buffered[:n])
        del buffered[:n]
        return data

    async def next_frame() -> tuple[int, bytes]:
        first, second = await read(2)
        length = second & 0x7F
        if length == 126:
            (length,) = struct.unpack("!H", await read(2))
        elif length == 127:
            (length,) = struct.unpack("!Q", await read(8))
        return first & 0x0F, await read(length)

    try:
        assert b"connection_established" in (await next_frame())[1]
        await loop.sock_sendall(sock, _client_frame(b'{"type":"ping","timestamp":7}', masked=masked))
        opcode, payload = await next_frame()
        while opcode == 1 and b'"presence"' in payload:
            opcode, payload = await next_frame()
        if masked:
            assert (opcode, b'"pong"' in payload) == (1, True)
        else:
            assert (opcode, struct.unpack("!H", payload[:2])[0]) == (8, 1002)
    finally:
        sock.close()
