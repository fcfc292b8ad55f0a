"""RedisWebhookQueue: the WebhookQueue of tournament/sharedoutbox.py on Redis: a tournament's
committed events waiting for its webhooks' numbering, the numbered rows waiting for the store,
and the messages between the nodes that number and send them.

Keys of tournament `t` (every one expires a day after its last write, an abandoned tournament):
`lb:webhooks:t:in` (a stream: every node appends the events it committed, in its own order),
`lb:webhooks:t:out` (a stream: rows the holder numbered, until they are in the store) and
`lb:webhooks:t:cursors` (a hash: match id -> the last match seq numbered) and
`lb:webhooks:t:appended` (each node's last entry number: a retried append is not queued twice). Beside them
`lb:webhooks:tournaments` (the tournaments that have webhooks: an append for any other changes
nothing, once a node announced them all, `lb:webhooks:announced`: a Redis that restarted empty
takes every event until then) and `lb:webhooks:busy` (tournaments with work: a holder's death leaves them there, and
the sweep of every node finds them once the lease `lb:lease:webhooks:t` expired).

Appending runs one script: take the lease when nobody holds it, XADD, mark the tournament busy,
and PUBLISH "events waiting" to the holder when it is another node. Numbering is one script too,
guarded by the lease: the rows go into `out`, the events they came from out of `in`, and the
cursors move, all or nothing, so a holder killed at any point leaves either the events or their
rows, never both and never neither. Why a stream of our own rather than the broker's tournament
stream: that stream is trimmed (`history_frames`) and made again when Redis restarts, and a
tournament room's own events of a dead node never reach it; this one keeps an event until its
rows are in the store, and belongs to the tournament, so the next holder reads it as it is.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
from collections.abc import Awaitable, Sequence
from typing import Any


from realtime.leases import RedisLease, lease_key
from realtime.mailbox import CHANNEL_PREFIX, NodeMailbox
from tournament.models import Delivery
from tournament.webhookqueue import (Answer, HolderListener, Placed, QueuedEvent, row_from_json, row_to_json,
                                     webhook_lease)
from tournament.store import StorageUnavailableError

log = logging.getLogger(__name__)

QUEUE_TTL_S = 24 * 3600
READ_MAX = 2_000  # entries read at once
TOURNAMENTS_KEY = "lb:webhooks:tournaments"
# set by a node's whole announcement; without it (an empty Redis) every tournament's events are appended
ANNOUNCED_KEY = "lb:webhooks:announced"
BUSY_KEY = "lb:webhooks:busy"

# KEYS: the lease, in, busy, tournaments, the appenders' numbers, announced. ARGV: 1 node, 2 ttl ms,
# 3 the entry, 4 channel prefix, 5 the message to a holder, 6 the streams' ttl, 7 the tournament,
# 8 '1': append even when the tournament is not known to have webhooks, 9 the entry's number at
# this node (a retry of an append that landed is refused). Returns {''} (nothing done) or
# {holder, heard, ms left}.
APPEND_LUA = """
if ARGV[8] ~= '1' and redis.call('EXISTS', KEYS[6]) == 1
   and redis.call('SISMEMBER', KEYS[4], ARGV[7]) == 0 then return {''} end
if tonumber(redis.call('HGET', KEYS[5], ARGV[1]) or '0') >= tonumber(ARGV[9]) then return {''} end
redis.call('HSET', KEYS[5], ARGV[1], ARGV[9])
redis.call('EXPIRE', KEYS[5], ARGV[6])
local holder = redis.call('GET', KEYS[1])
if not holder then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  holder = ARGV[1]
end
redis.call('XADD', KEYS[2], '*', 'e', ARGV[3])
redis.call('EXPIRE', KEYS[2], ARGV[6])
redis.call('SADD', KEYS[3], ARGV[7])
local heard = 1
if holder ~= ARGV[1] then heard = redis.call('PUBLISH', ARGV[4] .. holder, ARGV[5]) end
return {holder, heard, redis.call('PTTL', KEYS[1])}
"""

# KEYS: the lease, busy. ARGV: 1 node, 2 ttl ms, 3 the tournament. The lease taken when free (or
# extended when this node's) and the tournament marked busy; returns {holder, ms left}.
TAKE_LUA = """
local holder = redis.call('GET', KEYS[1])
if not holder or holder == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  redis.call('SADD', KEYS[2], ARGV[3])
  return {ARGV[1], tonumber(ARGV[2])}
end
return {holder, redis.call('PTTL', KEYS[1])}
"""

# KEYS: busy. ARGV: 1 the lease key's prefix. The busy tournaments whose lease nobody holds.
ORPHANS_LUA = """
local found = {}
for _, t in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if redis.call('EXISTS', ARGV[1] .. t) == 0 then table.insert(found, t) end
end
return found
"""

# KEYS: the lease, in, out, cursors. ARGV: 1 node, 2 ttl, 3 how many ids, then the ids taken
# from `in`, then how many rows, the rows, then match id and seq pairs. 1: done; 0: the lease is
# another node's (nothing changed).
COMMIT_LUA = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
local i, n = 4, tonumber(ARGV[3])
for j = i, i + n - 1 do redis.call('XDEL', KEYS[2], ARGV[j]) end
i = i + n
n = tonumber(ARGV[i])
i = i + 1
for j = i, i + n - 1 do redis.call('XADD', KEYS[3], '*', 'r', ARGV[j]) end
i = i + n
while i < #ARGV do
  redis.call('HSET', KEYS[4], ARGV[i], ARGV[i + 1])
  i = i + 2
end
redis.call('EXPIRE', KEYS[3], ARGV[2])
if redis.call('EXISTS', KEYS[4]) == 1 then redis.call('EXPIRE', KEYS[4], ARGV[2]) end
return 1
"""

# KEYS: the lease, in, out, busy. ARGV: 1 node, 2 the tournament. 1: released (and no longer
# busy); 0: work waits (kept); -1: not this node's.
RELEASE_IF_IDLE_LUA = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
if redis.call('XLEN', KEYS[2]) > 0 or redis.call('XLEN', KEYS[3]) > 0 then return 0 end
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[4], ARGV[2])
return 1
"""


def in_key(tournament_id: str) -> str:
    return f"lb:webhooks:{tournament_id}:in"


def out_key(tournament_id: str) -> str:
    return f"lb:webhooks:{tournament_id}:out"


def cursors_key(tournament_id: str) -> str:
    return f"lb:webhooks:{tournament_id}:cursors"


def numbers_key(tournament_id: str) -> str:
    return f"lb:webhooks:{tournament_id}:appended"


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class RedisWebhookQueue:
    """Built on the node's mailbox and lease; `listen` once (the node's SharedWebhookOutbox).
    Every call raises StorageUnavailableError when Redis does not answer."""

    def __init__(self, mailbox: NodeMailbox, lease: RedisLease) -> None:
        self._mailbox = mailbox
        self._lease = lease
        redis = mailbox.redis
        self._redis = redis
        self._append = redis.register_script(APPEND_LUA)
        self._take = redis.register_script(TAKE_LUA)
        self._orphans = redis.register_script(ORPHANS_LUA)
        self._commit = redis.register_script(COMMIT_LUA)
        self._release = redis.register_script(RELEASE_IF_IDLE_LUA)
        self._listener: HolderListener | None = None
        self._tags = itertools.count(1)
        self._asked: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._tasks: set[asyncio.Future[Any]] = set()

    @property
    def node(self) -> str:
        return self._mailbox.node

    def listen(self, listener: HolderListener) -> None:
        self._listener = listener
        self._mailbox.on("hooks", self._on_waiting, reconnected=listener.reconnected)
        self._mailbox.on("hooks-ask", self._on_ask)
        self._mailbox.on("hooks-answer", self._on_answer)

    # -- the queue -----------------------------------------------------------------------------

    async def known(self, tournament_ids: Sequence[str], complete: bool = False) -> None:
        pipe = self._redis.pipeline(transaction=True)
        if tournament_ids:
            pipe.sadd(TOURNAMENTS_KEY, *tournament_ids)
        if complete:
            pipe.set(ANNOUNCED_KEY, self.node)
        await self._call(pipe.execute())

    async def mark_busy(self, tournament_ids: Sequence[str]) -> None:
        if tournament_ids:
            await self._call(self._redis.sadd(BUSY_KEY, *tournament_ids))

    async def append(self, entries: Sequence[QueuedEvent], force: bool = False) -> list[Placed | None]:
        pipe = self._redis.pipeline(transaction=False)  # one round trip; the scripts are loaded first
        for entry in entries:
            tid = entry.tournament_id
            await self._append(
                keys=[lease_key(webhook_lease(tid)), in_key(tid), BUSY_KEY, TOURNAMENTS_KEY, numbers_key(tid),
                      ANNOUNCED_KEY],
                args=[self.node, self._lease.ttl_ms, json.dumps(entry.to_json(), separators=(",", ":")),
                      CHANNEL_PREFIX, json.dumps({"k": "hooks", "t": tid}, separators=(",", ":")), QUEUE_TTL_S, tid,
                      "1" if force else "0", entry.number],
                client=pipe)
        placed: list[Placed | None] = []
        for found in await self._call(pipe.execute()):
            if len(found) == 1:
                placed.append(None)
            else:
                holder, heard, left_ms = found
                placed.append(Placed(_text(holder), int(heard) > 0, max(int(left_ms), 0) / 1000))
        return placed

    async def take(self, tournament_id: str) -> Placed:
        holder, left_ms = await self._call(self._take(
            keys=[lease_key(webhook_lease(tournament_id)), BUSY_KEY],
            args=[self.node, self._lease.ttl_ms, tournament_id]))
        return Placed(_text(holder), True, max(int(left_ms), 0) / 1000)

    async def orphans(self) -> list[str]:
        found = await self._call(self._orphans(keys=[BUSY_KEY], args=[lease_key(webhook_lease(""))]))
        return [_text(t) for t in found]

    async def read(self, tournament_id: str) -> list[QueuedEvent]:
        entries = await self._call(self._redis.xrange(in_key(tournament_id), count=READ_MAX))
        return [QueuedEvent.from_json(json.loads(fields[b"e"]), _text(entry_id)) for entry_id, fields in entries]

    async def commit(self, tournament_id: str, taken: Sequence[str], rows: Sequence[Delivery],
                     cursors: dict[str, int]) -> bool:
        args: list[Any] = [self.node, QUEUE_TTL_S, len(taken), *taken, len(rows)]
        args += [json.dumps(row_to_json(row), separators=(",", ":"), ensure_ascii=False) for row in rows]
        for match_id, seq in cursors.items():
            args += [match_id, seq]
        keys = [lease_key(webhook_lease(tournament_id)), in_key(tournament_id), out_key(tournament_id),
                cursors_key(tournament_id)]
        return int(await self._call(self._commit(keys=keys, args=args))) == 1

    async def numbered(self, tournament_id: str) -> list[tuple[str, Delivery]]:
        entries = await self._call(self._redis.xrange(out_key(tournament_id), count=READ_MAX))
        return [(_text(entry_id), row_from_json(json.loads(fields[b"r"]))) for entry_id, fields in entries]

    async def stored(self, tournament_id: str, ids: Sequence[str]) -> None:
        if ids:
            await self._call(self._redis.xdel(out_key(tournament_id), *ids))

    async def cursors(self, tournament_id: str) -> dict[str, int]:
        found = await self._call(self._redis.hgetall(cursors_key(tournament_id)))
        return {_text(k): int(v) for k, v in found.items()}

    async def release_if_idle(self, tournament_id: str) -> bool:
        keys = [lease_key(webhook_lease(tournament_id)), in_key(tournament_id), out_key(tournament_id), BUSY_KEY]
        return int(await self._call(self._release(keys=keys, args=[self.node, tournament_id]))) == 1

    async def _call(self, call: Awaitable[Any]) -> Any:
        return await self._mailbox.call(call)

    # -- the messages --------------------------------------------------------------------------

    async def ask(self, holder: str, tournament_id: str, op: str, args: dict[str, Any],
                  timeout_s: float) -> Answer:
        tag = next(self._tags)
        answer: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._asked[tag] = answer
        try:
            message = {"k": "hooks-ask", "t": tournament_id, "op": op, "a": args, "from": self.node, "tag": tag}
            if not await self._mailbox.send(holder, message):
                return Answer("gone")
            try:
                got = await asyncio.wait_for(answer, timeout_s)
            except asyncio.TimeoutError:
                raise StorageUnavailableError("the node sending this tournament's webhooks does not answer; "
                                              "retry") from None
            return Answer(str(got["s"]), got.get("r"), got.get("e"))
        finally:
            self._asked.pop(tag, None)

    def _on_waiting(self, message: dict[str, Any]) -> None:
        if self._listener is not None:
            self._listener.events_waiting(str(message["t"]))

    def _on_ask(self, message: dict[str, Any]) -> None:
        task = asyncio.ensure_future(self._answer(message))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _answer(self, message: dict[str, Any]) -> None:
        answer = Answer("refused")
        try:
            if self._listener is not None:
                answer = await self._listener.asked(str(message["t"]), str(message["op"]), dict(message["a"]))
        except Exception as e:
            log.exception("webhooks: %s of %s asked by %s failed", message.get("op"), message.get("t"),
                          message.get("from"))
            answer = Answer("failed", error=str(e) or type(e).__name__)
        try:
            await self._mailbox.send(str(message["from"]), {"k": "hooks-answer", "tag": message["tag"],
                                                            "s": answer.status, "r": answer.result,
                                                            "e": answer.error})
        except StorageUnavailableError:
            pass  # the asker times out

    def _on_answer(self, message: dict[str, Any]) -> None:
        answer = self._asked.get(int(message["tag"]))
        if answer is not None and not answer.done():
            answer.set_result(message)
