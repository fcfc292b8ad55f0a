"""The Redis side of the counts shared between nodes (realtime/counters.py): the keys, the
scripts, and what a room's part read from the other nodes adds up to. No I/O here."""

from __future__ import annotations

import json

from realtime.hub import Headcount

NODES = "lb:nodes"  # node -> the time (Redis's, ms) its counts stop counting
PREFIX = "lb:counts:"  # + node: its hash
NOTICE = "lb:counts"  # "<node> <room> <room> ...": rooms whose counts that node changed ("*": all)
LIMITS = ("room", "user", "ip")  # the order the reserve script checks them in (docs/protocol.md)

_LIB = """
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function peers(node, prefix, ms)
  local out = {}
  for _, n in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], ms, '+inf')) do
    if n ~= node then out[#out + 1] = prefix .. n end
  end
  return out
end
local function keep(node, ttl, ms)
  redis.call('ZADD', KEYS[1], ms + tonumber(ttl), node)
  redis.call('PEXPIRE', KEYS[2], ttl)
  return redis.call('HEXISTS', KEYS[2], 'alive')
end
"""

# KEYS: lb:nodes, this node's hash. ARGV: 1 node, 2 ttl ms, 3 prefix, then per limit (room, user,
# ip): its field, this node's count with the new socket, the limit (0: none). Returns {alive, 0,
# others...} when admitted (this node's counts written), {1, i, others...} when limit i is
# reached (nothing written); others: the other live nodes' sum of each field checked.
RESERVE_LUA = _LIB + """
local ms = now_ms()
local others = peers(ARGV[1], ARGV[3], ms)
local sums = {}
for i = 4, #ARGV, 3 do
  local n = 0
  for _, key in ipairs(others) do n = n + tonumber(redis.call('HGET', key, ARGV[i]) or '0') end
  sums[#sums + 1] = n
  local max = tonumber(ARGV[i + 2])
  if max > 0 and n + tonumber(ARGV[i + 1]) > max then return {1, #sums, unpack(sums)} end
end
for i = 4, #ARGV, 3 do redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1]) end
return {keep(ARGV[1], ARGV[2], ms), 0, unpack(sums)}
"""

# KEYS: lb:nodes, this node's hash. ARGV: 1 node, 2 ttl ms, 3 '1' when the pairs are all of this
# node's counts (the hash is made again from them), then field, value pairs ('': none). Returns
# 1 when the hash is whole, 0 when it lapsed (it is to be written whole).
SYNC_LUA = _LIB + """
local ms = now_ms()
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ms)
if ARGV[3] == '1' then
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[2], 'alive', '1')
end
for i = 4, #ARGV, 2 do
  if ARGV[i + 1] == '' then redis.call('HDEL', KEYS[2], ARGV[i])
  else redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1]) end
end
return keep(ARGV[1], ARGV[2], ms)
"""

# KEYS: lb:nodes. ARGV: 1 node, 2 prefix, then fields. Returns per field the other live nodes'
# values of it (the absent left out).
READ_LUA = _LIB + """
local others = peers(ARGV[1], ARGV[2], now_ms())
local out = {}
for i = 3, #ARGV do
  local values = {}
  for _, key in ipairs(others) do
    local v = redis.call('HGET', key, ARGV[i])
    if v then values[#values + 1] = v end
  end
  out[#out + 1] = values
end
return out
"""


def node_key(node: str) -> str:
    return PREFIX + node


def headcount(watchers: list[bytes], parts: list[bytes]) -> Headcount:
    """The other nodes' `r:` and `p:` values of one room, summed and joined."""
    participants: set[str] = set()
    spectators = 0
    online: dict[str, set[str]] = {}
    for raw in parts:
        part = json.loads(raw)
        participants.update(part.get("participants", ()))
        spectators += int(part.get("spectators", 0))
        for match, players in part.get("online", {}).items():
            online.setdefault(match, set()).update(players)
    return Headcount(sum(int(v) for v in watchers), frozenset(participants), spectators,
                     {match: frozenset(players) for match, players in online.items()})
