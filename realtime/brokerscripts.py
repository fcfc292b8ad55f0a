"""The broker's Redis side without I/O (realtime/broker.py): the keys and channels of a room,
the publish, read and renew scripts, and a committed event made into what the publish script
takes (`Job`). Apart from the I/O because these scripts decide a room's order (atomically, in
Redis): the publisher and the subscriber both run them and name these keys, and they are read,
and tested against a real Redis, on their own, as realtime/countscripts.py is for the counts.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from realtime import protocol
from realtime.hub import rooms_of
from tournament.models import Event

_TOP = """
local function top(stream)
  local last = redis.call('XREVRANGE', stream, '+', '-', 'COUNT', 1)[1]
  if last then return tonumber(string.match(last[1], '^%d+')) end
  return -1
end
local function numbering(stream, meta, candidate, run, ttl)
  local epoch, seen, seq = unpack(redis.call('HMGET', meta, 'epoch', 'run', 'seq'))
  if not epoch or seen ~= run then
    redis.call('DEL', stream, meta)
    epoch, seq = candidate, 0
    redis.call('HSET', meta, 'epoch', epoch, 'run', run, 'seq', 0)
  end
  redis.call('EXPIRE', meta, ttl)
  return epoch, tonumber(seq)
end
"""

# KEYS: the match room's stream (when ARGV[3] is not ''), then the tournament room's stream and
# hash (when ARGV[6] is not ''). ARGV: 1 maxlen, 2 ttl, 3 match seq, 4 match frame, 5 match
# channel, 6 and 7 the tournament frame before and after its seq, 8 tournament channel, 9 an
# epoch for a new numbering, 10 Redis's run id, 11 this node, 12 its number for this job.
# Returns {1, tournament seq or 0}; {0, top}: a duplicate; {-1, top}: a gap (nothing written).
PUBLISH_LUA = _TOP + """
local maxlen, ttl, k = ARGV[1], ARGV[2], 1
if ARGV[3] ~= '' then
  local stream, seq = KEYS[1], tonumber(ARGV[3])
  local t = top(stream)
  if t >= 0 and seq <= t then return {0, t} end
  if t >= 0 and seq > t + 1 then return {-1, t} end
  redis.call('XADD', stream, 'MAXLEN', '~', maxlen, ARGV[3] .. '-0', 'f', ARGV[4])
  redis.call('EXPIRE', stream, ttl)
  redis.call('PUBLISH', ARGV[5], ARGV[3] .. ' ' .. ARGV[4])
  k = 2
end
if ARGV[6] == '' then return {1, 0} end
local stream, meta = KEYS[k], KEYS[k + 1]
local epoch = numbering(stream, meta, ARGV[9], ARGV[10], ttl)
if ARGV[3] == '' then
  local field = 'n:' .. ARGV[11]
  if tonumber(redis.call('HGET', meta, field) or '0') >= tonumber(ARGV[12]) then return {0, 0} end
  redis.call('HSET', meta, field, ARGV[12])
end
local seq = string.format('%d', redis.call('HINCRBY', meta, 'seq', 1))
local frame = ARGV[6] .. seq .. ARGV[7]
redis.call('XADD', stream, 'MAXLEN', '~', maxlen, seq .. '-0', 'f', frame)
redis.call('EXPIRE', stream, ttl)
redis.call('PUBLISH', ARGV[8], seq .. ' ' .. epoch .. ' ' .. frame)
return {1, tonumber(seq)}
"""

# KEYS: a room's stream, and a tournament room's hash. ARGV: 1 the first seq wanted, 2 the last
# (0: no end), 3 how many at most, 4 an epoch for a new numbering, 5 the run id, 6 ttl.
# Returns {epoch ('' for a match room), top (-1: no stream), entries}.
READ_LUA = _TOP + """
local stream, epoch, last = KEYS[1], '', -1
if KEYS[2] then
  epoch, last = numbering(stream, KEYS[2], ARGV[4], ARGV[5], ARGV[6])
else
  last = top(stream)
end
local entries = {}
if tonumber(ARGV[3]) > 0 and last >= tonumber(ARGV[1]) then
  local upto = '+'
  if ARGV[2] ~= '0' then upto = ARGV[2] .. '-0' end
  entries = redis.call('XRANGE', stream, ARGV[1] .. '-0', upto, 'COUNT', ARGV[3])
end
return {epoch, last, entries}
"""

# A tournament room whose events this node could not keep: a new epoch now, announced (seq 0).
# KEYS: its stream and hash. ARGV: 1 the new epoch, 2 the run id, 3 ttl, 4 its channel.
RENEW_LUA = """
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('HSET', KEYS[2], 'epoch', ARGV[1], 'run', ARGV[2], 'seq', 0)
redis.call('EXPIRE', KEYS[2], ARGV[3])
redis.call('PUBLISH', ARGV[4], '0 ' .. ARGV[1] .. ' ')
return 1
"""


def stream_key(room: str) -> str:
    return f"lb:{room}:log"


def meta_key(room: str) -> str:
    return f"lb:{room}:meta"


def channel_of(room: str) -> str:
    return f"lb:{room}"


def event_frame(event: Event) -> str:
    """A match event as its match room's frame (as Hub.publish builds it)."""
    return protocol.frame(event.type, event.data, seq=event.seq, ts=int(event.ts * 1000))


def seq_template(kind: str, data: dict[str, Any], **fields: Any) -> tuple[str, str]:
    """A frame as the text before and after its seq, which the script puts in between."""
    text = protocol.frame(kind, data, seq=0, **fields)
    at = text.index(',"seq":0,')  # the first: a JSON string (the type) holds no bare quote
    return text[:at] + ',"seq":', text[at + len(',"seq":0'):]


@dataclasses.dataclass(frozen=True)
class Job:
    """One event to publish: its match room's part and its tournament room's part."""

    match_id: str | None
    seq: int  # the match's seq (0: a tournament room's own event)
    frame: str  # the match room's frame
    tournament: str | None  # the tournament room's key
    head: str
    tail: str
    number: int  # this node's number for a tournament room's own event (a retry is refused)

    @classmethod
    def of(cls, event: Event, number: int) -> Job | None:
        match_key, tournament_key = rooms_of(event)
        if match_key is None and tournament_key is None:
            return None
        ts = int(event.ts * 1000)
        head = tail = ""
        if tournament_key is not None:
            extra = {"match_seq": event.seq} if match_key else {}
            head, tail = seq_template(event.type, event.data, ts=ts, **extra)
        return cls(match_key.partition(":")[2] if match_key else None, event.seq if match_key else 0,
                   event_frame(event) if match_key else "", tournament_key, head, tail, number)
