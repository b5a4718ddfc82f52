"""Sortable 64-bit ids, like Mastodon's snowflakes: milliseconds since 1970 in the high bits.

Owns: making new ids. Never: reads the database.

The low 16 bits start at a random value in each millisecond and count up from there within this process, so the
ids one process makes never collide: a request makes several with the same `now` (an official post and the
organisation's boost of it, say), where 16 random bits each would collide once in 65,536 such pairs (CI met one:
a 500 on an official post). Ids of different processes in the same millisecond still differ only by chance; the
primary keys catch that rare collision.
"""

from __future__ import annotations

import secrets
import threading
from datetime import datetime, timezone

_lock = threading.Lock()
_last_millis = -1
_next_low = 0


def new_id(now: datetime | None = None) -> int:
    global _last_millis, _next_low
    moment = now or datetime.now(timezone.utc)
    millis = int(moment.timestamp() * 1000)
    with _lock:
        if millis != _last_millis:
            _last_millis, _next_low = millis, secrets.randbits(16)
        low = _next_low
        _next_low = (_next_low + 1) & 0xFFFF
    return (millis << 16) | low


def id_floor(moment: datetime) -> int:
    """The smallest id that can have been made at `moment`: for date-bounded queries."""
    return int(moment.timestamp() * 1000) << 16
