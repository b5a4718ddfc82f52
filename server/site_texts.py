"""The node's privacy policy and terms of service, written by an instance admin.

Owns: the site_texts table (one row per text), which texts there are, their limits, and their HTML (plain text in
paragraphs, escaped: the admin writes text, not markup). Never: decides who is an admin (the page asks Account)
or renders a page (web/pages/site_texts.py does).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from html import escape

import asyncpg

from server.errors import Invalid

KINDS = ("privacy_policy", "terms_of_service")
MAX_LENGTH = 50000


@dataclass(frozen=True)
class SiteText:
    kind: str
    body: str
    updated_at: datetime

    @property
    def html(self) -> str:
        return "".join(f"<p>{escape(p.strip()).replace(chr(10), '<br>')}</p>"
                       for p in self.body.replace("\r\n", "\n").split("\n\n") if p.strip())


async def get_text(conn: asyncpg.Connection, kind: str) -> SiteText | None:
    row = await conn.fetchrow("SELECT kind, body, updated_at FROM site_texts WHERE kind = $1", kind)
    return SiteText(**dict(row)) if row else None


async def upsert_text(conn: asyncpg.Connection, kind: str, body: str, *, by: int, now: datetime) -> SiteText | None:
    """Store a text; an empty one is removed, so that the node says plainly it has none."""
    if kind not in KINDS:
        raise Invalid("There is no such text.")
    body = body.strip()
    if len(body) > MAX_LENGTH:
        raise Invalid("A text is at most %(n)d characters.", n=MAX_LENGTH)
    if not body:
        await conn.execute("DELETE FROM site_texts WHERE kind = $1", kind)
        return None
    row = await conn.fetchrow(
        "INSERT INTO site_texts (kind, body, updated_at, updated_by) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT (kind) DO UPDATE SET body = $2, updated_at = $3, updated_by = $4 "
        "RETURNING kind, body, updated_at", kind, body, now, by)
    return SiteText(**dict(row))
