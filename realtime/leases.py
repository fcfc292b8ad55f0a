"""RedisLease: the Lease of tournament/leases.py on Redis, one key per lease.

`lb:lease:<name>` holds the holder's node name and expires `ttl_s` after it was taken or last
renewed: taken with SET NX PX, renewed by a compare-and-extend script, released by a
compare-and-delete script, so a node can never extend or delete a lease another node holds.
Expiry is Redis's clock alone (PX), so the nodes' clocks need not agree.
"""

from __future__ import annotations

from realtime.mailbox import NodeMailbox

TTL_S = 3.0  # a dead holder's lease is free this long after its last renewal

# KEYS: the lease. ARGV: 1 node, 2 ttl ms. 1: held by this node (taken or extended), 0: another's.
ACQUIRE_LUA = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
return 0
"""

# KEYS: the lease. ARGV: 1 node, 2 ttl ms. 1: extended; 0: not this node's (nothing changed).
RENEW_LUA = """
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
return 0
"""

# KEYS: the lease. ARGV: 1 node. 1: deleted; 0: not this node's (nothing changed).
RELEASE_LUA = """
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) return 1 end
return 0
"""


def lease_key(name: str) -> str:
    return f"lb:lease:{name}"


class RedisLease:
    """Leases held by `mailbox.node`. Every call raises StorageUnavailableError when Redis does
    not answer."""

    def __init__(self, mailbox: NodeMailbox, ttl_s: float = TTL_S) -> None:
        self._mailbox = mailbox
        self._redis = mailbox.redis
        self._ttl_s = ttl_s
        self.ttl_ms = max(1, int(ttl_s * 1000))
        self._acquire = self._redis.register_script(ACQUIRE_LUA)
        self._renew = self._redis.register_script(RENEW_LUA)
        self._release = self._redis.register_script(RELEASE_LUA)

    @property
    def node(self) -> str:
        return self._mailbox.node

    @property
    def ttl_s(self) -> float:
        return self._ttl_s

    async def acquire(self, name: str) -> bool:
        return await self._run(self._acquire, name, self.node, self.ttl_ms)

    async def renew(self, name: str) -> bool:
        return await self._run(self._renew, name, self.node, self.ttl_ms)

    async def release(self, name: str) -> bool:
        return await self._run(self._release, name, self.node)

    async def holder(self, name: str) -> str | None:
        value = await self._mailbox.call(self._redis.get(lease_key(name)))
        return value.decode() if isinstance(value, bytes) else value

    async def _run(self, script: object, name: str, *args: object) -> bool:
        return bool(await self._mailbox.call(script(keys=[lease_key(name)], args=list(args))))  # type: ignore[operator]
