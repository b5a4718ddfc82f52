"""What a request handler needs from the node, passed in rather than imported: settings, pool and clock.

Owns: the Deps record. Never: creates any of them (server/app.py does, in the lifespan).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

import asyncpg

from server.config import Settings


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class Deps:
    settings: Settings
    pool: asyncpg.Pool
    now: Callable[[], datetime] = utc_now
