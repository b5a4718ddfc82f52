"""Sortable 64-bit ids, like Mastodon's snowflakes: milliseconds since 1970 in the high bits.

Owns: making new ids. Never: reads the database; uniqueness within a millisecond comes from 16 random bits,
and the primary keys catch the rare collision.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timezone


def new_id(now: datetime | None = None) -> int:
    moment = now or datetime.now(timezone.utc)
    millis = int(moment.timestamp() * 1000)
    return (millis << 16) | secrets.randbits(16)


def id_floor(moment: datetime) -> int:
    """The smallest id that can have been made at `moment`: for date-bounded queries."""
    return int(moment.timestamp() * 1000) << 16
