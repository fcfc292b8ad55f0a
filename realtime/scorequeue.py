"""RedisScoreQueue: the ScoreQueue of tournament/sharedscores.py on Redis: one stream of accepted
live score updates per match, and the messages between the nodes that batch them.

`lb:scores:<match>` is the match's queue (entry ids are Redis's, so its order is the order the
updates reached Redis, across every node). Appending runs one script: take the match's score
lease (realtime/leases.py) when nobody holds it, XADD, and when another node holds it PUBLISH
"scores waiting" to that node's channel (realtime/mailbox.py), whose receiver count tells the
appender whether the holder heard. The holder reads the stream, writes, then XDELs what it wrote;
it releases the lease only when the stream is empty (one script), so an update is never left
behind a released lease. The stream expires a day after its last append (an abandoned match).

Why a stream per match rather than a list per holder: the queue belongs to the match, not to a
node, so it outlives its holder and the next holder simply reads it; the holder reads it whole
at each window, so nothing needs popping (a pop would be lost with a holder that died with it).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
from collections.abc import Awaitable
from typing import Any


from realtime.leases import RedisLease, lease_key
from realtime.mailbox import CHANNEL_PREFIX, NodeMailbox
from tournament.sharedscores import Appended, Asked, QueuedScore, QueueListener, score_lease
from tournament.store import StorageUnavailableError

log = logging.getLogger(__name__)

QUEUE_TTL_S = 24 * 3600
READ_MAX = 10_000  # updates read at once (a window holds far fewer)

# KEYS: the lease, the stream. ARGV: 1 node, 2 ttl ms, 3 the update, 4 channel prefix, 5 the
# message to a holder, 6 the stream's ttl. Returns {holder, heard (receivers), lease ms left}.
APPEND_LUA = """
local holder = redis.call('GET', KEYS[1])
if not holder then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  holder = ARGV[1]
end
redis.call('XADD', KEYS[2], '*', 'u', ARGV[3])
redis.call('EXPIRE', KEYS[2], ARGV[6])
local heard = 1
if holder ~= ARGV[1] then heard = redis.call('PUBLISH', ARGV[4] .. holder, ARGV[5]) end
return {holder, heard, redis.call('PTTL', KEYS[1])}
"""

# KEYS: the lease, the stream. ARGV: 1 node, 2 ttl ms, 3 channel prefix, 4 the message to a holder.
# Returns {''} when the stream is empty; else {holder, heard, lease ms left}, the lease taken
# (or extended) when it was free (or this node's).
CLAIM_LUA = """
if redis.call('XLEN', KEYS[2]) == 0 then return {''} end
local holder = redis.call('GET', KEYS[1])
if not holder or holder == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return {ARGV[1], 1, tonumber(ARGV[2])}
end
return {holder, redis.call('PUBLISH', ARGV[3] .. holder, ARGV[4]), redis.call('PTTL', KEYS[1])}
"""

# KEYS: the lease, the stream. ARGV: 1 node. 1: released; 0: updates wait (kept); -1: not this node's.
RELEASE_IF_IDLE_LUA = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
if redis.call('XLEN', KEYS[2]) > 0 then return 0 end
redis.call('DEL', KEYS[1])
return 1
"""


def queue_key(match_id: str) -> str:
    return f"lb:scores:{match_id}"


class RedisScoreQueue:
    """Built on the node's mailbox and lease; `listen` once (the node's SharedScoreBatcher)."""

    def __init__(self, mailbox: NodeMailbox, lease: RedisLease) -> None:
        self._mailbox = mailbox
        self._lease = lease
        redis = mailbox.redis
        self._redis = redis
        self._append = redis.register_script(APPEND_LUA)
        self._claim = redis.register_script(CLAIM_LUA)
        self._release = redis.register_script(RELEASE_IF_IDLE_LUA)
        self._listener: QueueListener | None = None
        self._tags = itertools.count(1)
        self._asked: dict[int, asyncio.Future[bool]] = {}
        self._tasks: set[asyncio.Future[Any]] = set()

    @property
    def node(self) -> str:
        return self._mailbox.node

    def listen(self, listener: QueueListener) -> None:
        self._listener = listener
        self._mailbox.on("scores", self._on_scores, reconnected=listener.reconnected)
        self._mailbox.on("flush", self._on_flush)
        self._mailbox.on("flushed", self._on_flushed)
        self._mailbox.on("written", self._on_written)

    # -- the queue -----------------------------------------------------------------------------

    def _keys(self, match_id: str) -> list[str]:
        return [lease_key(score_lease(match_id)), queue_key(match_id)]

    def _waiting(self, match_id: str) -> str:
        return json.dumps({"k": "scores", "m": match_id}, separators=(",", ":"))

    async def append(self, match_id: str, update: QueuedScore) -> Appended:
        holder, heard, left_ms = await self._call(self._append(
            keys=self._keys(match_id),
            args=[self.node, self._lease.ttl_ms, json.dumps(update.to_json(), separators=(",", ":")),
                  CHANNEL_PREFIX, self._waiting(match_id), QUEUE_TTL_S]))
        return Appended(holder.decode(), int(heard) > 0, max(int(left_ms), 0) / 1000)

    async def claim(self, match_id: str) -> Appended | None:
        found = await self._call(self._claim(keys=self._keys(match_id),
                                             args=[self.node, self._lease.ttl_ms, CHANNEL_PREFIX,
                                                   self._waiting(match_id)]))
        if len(found) == 1:
            return None
        holder, heard, left_ms = found
        return Appended(holder.decode(), int(heard) > 0, max(int(left_ms), 0) / 1000)

    async def read(self, match_id: str) -> list[QueuedScore]:
        entries = await self._call(self._redis.xrange(queue_key(match_id), count=READ_MAX))
        return [QueuedScore.from_json(json.loads(fields[b"u"]), entry_id.decode()) for entry_id, fields in entries]

    async def remove(self, match_id: str, ids: list[str]) -> None:
        await self._call(self._redis.xdel(queue_key(match_id), *ids))

    async def release_if_idle(self, match_id: str) -> bool:
        return int(await self._call(self._release(keys=self._keys(match_id), args=[self.node]))) == 1

    async def _call(self, call: Awaitable[Any]) -> Any:
        return await self._mailbox.call(call)

    # -- the messages --------------------------------------------------------------------------

    async def ask_flush(self, holder: str, match_id: str, timeout_s: float) -> Asked:
        """Raises StorageUnavailableError when the holder heard but did not answer in `timeout_s`."""
        tag = next(self._tags)
        answer: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._asked[tag] = answer
        try:
            if not await self._mailbox.send(holder, {"k": "flush", "m": match_id, "from": self.node, "tag": tag}):
                return "gone"
            try:
                done = await asyncio.wait_for(answer, timeout_s)
            except asyncio.TimeoutError:
                raise StorageUnavailableError("the node batching this match's scores does not answer; retry") from None
            return "done" if done else "refused"
        finally:
            self._asked.pop(tag, None)

    async def report(self, origin: str, match_id: str, refs: list[int], error: dict[str, Any] | None) -> None:
        await self._mailbox.send(origin, {"k": "written", "m": match_id, "refs": refs, "error": error})

    def _on_scores(self, message: dict[str, Any]) -> None:
        if self._listener is not None:
            self._listener.scores_waiting(str(message["m"]))

    def _on_flush(self, message: dict[str, Any]) -> None:
        task = asyncio.ensure_future(self._answer_flush(str(message["m"]), str(message["from"]), int(message["tag"])))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _answer_flush(self, match_id: str, asker: str, tag: int) -> None:
        done = False
        try:
            if self._listener is not None:
                done = await self._listener.flush_asked(match_id)
        except Exception:
            log.exception("leases: the flush of %s asked by %s failed", match_id, asker)
        finally:
            try:
                await self._mailbox.send(asker, {"k": "flushed", "tag": tag, "ok": done})
            except StorageUnavailableError:
                pass  # the asker times out

    def _on_flushed(self, message: dict[str, Any]) -> None:
        answer = self._asked.get(int(message["tag"]))
        if answer is not None and not answer.done():
            answer.set_result(bool(message["ok"]))

    def _on_written(self, message: dict[str, Any]) -> None:
        if self._listener is not None:
            self._listener.reported(str(message["m"]), [int(r) for r in message["refs"]], message.get("error"))
