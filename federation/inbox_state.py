"""What one web process keeps in memory for its inbox (issue 18): the key cache, the gate's decisions, the rate
limit counters and the batcher that stores activities.

Owns: one `InboxState` per database pool (so two nodes in one test process never share one), created on the
first activity, and the flush of the rate limit counters (at most one at a time, about once a second while
activities come in). Never: decides anything itself (the modules it holds do).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from federation.context import Federation
from federation.inbox_batch import Batcher
from federation.key_cache import KeyCache
from moderation.gate_cache import GateCache
from moderation.ratelimit import InboxLimits
from server.db.pool import connection

log = logging.getLogger("ambtenaar.federation")


def _retry_alone(exc: BaseException) -> bool:
    """A batch the database refused (not one it never saw: a lost connection fails alone too) is written again
    row by row, so only the row it refuses fails."""
    return isinstance(exc, asyncpg.PostgresError) and not isinstance(exc, asyncpg.PostgresConnectionError)


@dataclass
class InboxState:
    fed: Federation
    keys: KeyCache
    gate: GateCache
    limits: InboxLimits
    batcher: Batcher[Any, str]
    _flushing: asyncio.Task[None] | None = field(default=None)

    def flush_limits_soon(self) -> None:
        """Start a flush of the rate limit counters when one is due and none is under way."""
        if self._flushing is None and self.limits.windows.flush_due(time.monotonic()):
            self._flushing = asyncio.create_task(self._flush())

    async def _flush(self) -> None:
        try:
            async with connection(self.fed.deps.pool) as conn:
                await self.limits.windows.flush(conn, time.monotonic())
        except Exception:  # the counts stay pending and go with the next flush
            log.exception("inbox rate limit counts not flushed")
        finally:
            self._flushing = None


_states: dict[int, InboxState] = {}


def of(fed: Federation, writer: Callable[[Federation], Callable[[list[Any]], Awaitable[list[str]]]]) -> InboxState:
    """This process's inbox state for `fed`'s pool; `writer(fed)` is the batch write, made on first use."""
    state = _states.get(id(fed.deps.pool))
    if state is None or state.fed.deps.pool is not fed.deps.pool:
        settings = fed.deps.settings
        state = InboxState(fed, KeyCache(), GateCache(settings.domain), InboxLimits(settings),
                           Batcher(writer(fed), retry_alone=_retry_alone))
        _states[id(fed.deps.pool)] = state
    return state
