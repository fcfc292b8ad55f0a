"""Lease: a named right that one node of several holds at a time, for a bounded time (the port).

With several nodes (`--broker`), work that must happen in one place (a match's score batch, a
tournament's webhook numbering) is done by the node holding its lease. A lease expires unless
its holder renews it, so a holder that dies frees it within `ttl_s`; only the holder may extend
or release it (compare-and-extend, compare-and-delete). realtime/leases.py implements it on
Redis; nothing here knows Redis.

A lease is not a fencing token: a holder stalled longer than `ttl_s` between a renewal and the
work it guards may do that work after another node took the lease. The users keep that window
short (they renew just before the work) and make the work safe to do twice.
"""

from __future__ import annotations

from typing import Protocol


class Lease(Protocol):
    """Leases by name, as held by this node (`node`). Every call raises StorageUnavailableError
    when the lease store cannot be reached."""

    @property
    def node(self) -> str:
        """This node's name, the value a lease it holds carries."""

    @property
    def ttl_s(self) -> float:
        """How long a lease lasts after it is taken or renewed (seconds)."""

    async def acquire(self, name: str) -> bool:
        """Take `name` when nobody holds it (a lease this node holds already is extended);
        True when this node holds it now."""

    async def renew(self, name: str) -> bool:
        """Extend `name` by `ttl_s` when this node still holds it; False: it was lost (it
        expired, and maybe another node took it)."""

    async def release(self, name: str) -> bool:
        """Give `name` up when this node holds it; False (and nothing changed) when it does not."""

    async def holder(self, name: str) -> str | None:
        """The node holding `name`, or None."""
