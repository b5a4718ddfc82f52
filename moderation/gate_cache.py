"""The domain gate's decisions kept in memory, so the inbox asks no database for them per activity (issue 18).

Owns: one process's cache of `domain_blocks.gates_with_version` answers, each tagged with the policy version it
was read at. Never: decides (domain_blocks.py does) and never trusts itself alone: whoever acts on a cached
decision must check, in the statement that acts, that the version is still current (federation/inbox.py stores an
activity only then) and ask again when it is not (`forget`). So a block made by any process, the CLI or a page,
takes effect in every web process at the next activity, with no listener and no waiting for an expiry.

Only "allow" is kept: a drop stores nothing, so no statement would notice that the block was lifted; a blocked
server's activities cost a query each, which is no loss. The expiry (`ttl`) only bounds how long an unused host is kept; `max_hosts` bounds the memory.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from moderation import domain_blocks


class GateCache:
    """host -> (decision, expires), all read at `version`."""

    def __init__(self, own_domain: str, *, ttl: float = 300.0, max_hosts: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.own_domain = own_domain
        self.ttl = ttl
        self.max_hosts = max_hosts
        self.clock = clock
        self.version: int | None = None
        self._entries: dict[str, tuple[domain_blocks.Gate, float]] = {}

    def cached(self, host: str) -> domain_blocks.Gate | None:
        entry = self._entries.get(host.lower())
        if entry is None:
            return None
        if entry[1] <= self.clock():
            del self._entries[host.lower()]
            return None
        return entry[0]

    async def decide(self, conn_for: Callable[[], Any], hosts: list[str], *,
                     fresh: bool = False) -> tuple[int, dict[str, domain_blocks.Gate]]:
        """The decisions for `hosts` and the version they hold at. All from memory when every host is cached
        (and not `fresh`); else one query for all of them, and a new version empties the cache (older decisions
        may be wrong)."""
        found = {h.lower(): None if fresh else self.cached(h) for h in hosts}
        if self.version is not None and all(g is not None for g in found.values()):
            return self.version, {h: g for h, g in found.items() if g is not None}
        async with conn_for() as conn:
            version, fresh = await domain_blocks.gates_with_version(conn, self.own_domain, list(found))
        if version != self.version or len(self._entries) + len(fresh) > self.max_hosts:
            self._entries.clear()
        self.version = version
        expires = self.clock() + self.ttl
        for host, verdict in fresh.items():
            if verdict.allowed:  # a drop is asked again every time: no statement would notice that it was lifted
                self._entries[host] = (verdict, expires)
        return version, fresh

    def forget(self) -> None:
        """The store statement found the version moved on: ask the database again next time."""
        self._entries.clear()
        self.version = None
