"""Organisations hosted on this node (gemeente, provincie, ministerie, ...).

Owns: the organisations table and its SQL. Never: builds ActivityStreams JSON or calls HTTP.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

import asyncpg

from server.errors import Conflict, Invalid
from server.ids import new_id

KINDS = ("gemeente", "provincie", "ministerie", "waterschap", "uitvoeringsorganisatie", "other")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
_COLUMNS = ("id, slug, name, kind, website, created_at, auto_boost, official_label_nl, official_label_en, "
            "personal_label_nl, personal_label_en")


@dataclass(frozen=True)
class Organisation:
    id: int
    slug: str
    name: str
    kind: str
    website: str
    created_at: datetime
    auto_boost: bool = True
    official_label_nl: str | None = None
    official_label_en: str | None = None
    personal_label_nl: str | None = None
    personal_label_en: str | None = None


def validate(name: str, slug: str, kind: str, website: str) -> None:
    if not name.strip() or len(name) > 200:
        raise Invalid("The organisation needs a name of 1 to 200 characters.")
    if not _SLUG.match(slug):
        raise Invalid("The slug must be 2 to 63 lower-case letters, digits or hyphens, starting with a letter or digit.")
    if kind not in KINDS:
        raise Invalid("The kind must be one of: %(kinds)s.", kinds=", ".join(KINDS))
    if website:
        parts = urlsplit(website)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise Invalid("The website must be a full http(s) URL, e.g. https://www.ede.nl.")


async def insert_organisation(conn: asyncpg.Connection, *, name: str, slug: str, kind: str,
                              website: str) -> Organisation:
    validate(name, slug, kind, website)
    try:
        row = await conn.fetchrow(
            f"INSERT INTO organisations (id, slug, name, kind, website) VALUES ($1, $2, $3, $4, $5) "
            f"RETURNING {_COLUMNS}", new_id(), slug, name.strip(), kind, website)
    except asyncpg.UniqueViolationError:
        raise Conflict("An organisation with slug %(slug)s already exists.", slug=slug) from None
    return Organisation(**dict(row))


async def get_organisation(conn: asyncpg.Connection, organisation_id: int) -> Organisation | None:
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM organisations WHERE id = $1", organisation_id)
    return Organisation(**dict(row)) if row else None


async def get_organisation_by_slug(conn: asyncpg.Connection, slug: str) -> Organisation | None:
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM organisations WHERE slug = $1", slug)
    return Organisation(**dict(row)) if row else None


async def list_organisations(conn: asyncpg.Connection) -> list[Organisation]:
    rows = await conn.fetch(f"SELECT {_COLUMNS} FROM organisations ORDER BY name")
    return [Organisation(**dict(r)) for r in rows]


async def list_organisations_by_ids(conn: asyncpg.Connection, organisation_ids: list[int]) -> dict[int, Organisation]:
    rows = await conn.fetch(f"SELECT {_COLUMNS} FROM organisations WHERE id = ANY($1::bigint[])", organisation_ids)
    return {r["id"]: Organisation(**dict(r)) for r in rows}


async def update_voice_settings(conn: asyncpg.Connection, organisation: Organisation, *, auto_boost: bool | None,
                                labels: dict[str, str | None]) -> Organisation:
    """Switch automatic boosts and set the organisation's own voice wording (None keeps, "" resets)."""
    allowed = {"official_label_nl", "official_label_en", "personal_label_nl", "personal_label_en"}
    for name, value in labels.items():
        if name not in allowed:
            raise Invalid("Unknown wording setting %(name)s.", name=name)
        if value and len(value) > 100:
            raise Invalid("A voice label may be at most 100 characters.")
        if value and name.startswith("official") and "{org}" not in value:
            raise Invalid("An official voice label must contain {org}, where the organisation's name goes.")
    current = {name: getattr(organisation, name) for name in allowed}
    for name, value in labels.items():
        if value is not None:
            current[name] = value.strip() or None
    row = await conn.fetchrow(
        f"UPDATE organisations SET auto_boost = $2, official_label_nl = $3, official_label_en = $4, "
        f"personal_label_nl = $5, personal_label_en = $6 WHERE id = $1 RETURNING {_COLUMNS}",
        organisation.id, organisation.auto_boost if auto_boost is None else auto_boost,
        current["official_label_nl"], current["official_label_en"], current["personal_label_nl"],
        current["personal_label_en"])
    return Organisation(**dict(row))
