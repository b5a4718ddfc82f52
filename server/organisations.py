"""Organisations hosted on this node (gemeente, provincie, ministerie, ...).

Owns: the organisations table and its SQL; the admin actions on an organisation (`create_organisation` with its
account, `change_voice_settings`), each validated, written and audited in the caller's transaction. Never: builds
ActivityStreams JSON or calls HTTP.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

import asyncpg

from server import accounts, audit, names
from server.errors import Conflict, Forbidden, Invalid
from server.ids import new_id

KINDS = ("gemeente", "provincie", "ministerie", "waterschap", "uitvoeringsorganisatie", "other")
_SLUG = re.compile(r"^(?=.{2,63}$)[a-z0-9]+(-[a-z0-9]+)*$")
_COLUMNS = ("id, slug, name, kind, website, created_at, auto_boost, official_label_nl, official_label_en, "
            "personal_label_nl, personal_label_en, tooi_code")


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
    tooi_code: str | None = None  # its TOOI code (gm0228): the archiefvormer of its archive export (issue 16)


def validate(name: str, slug: str, kind: str, website: str) -> str:
    """The name as it is stored (names.clean_name: NFKC, no invisible or bidi characters, single spaces), or an
    Invalid saying what is wrong."""
    cleaned = names.clean_name(name)
    if not cleaned or len(cleaned) > 200:
        raise Invalid("The organisation needs a name of 1 to 200 characters.")
    if not _SLUG.match(slug):
        raise Invalid("The slug must be 2 to 63 lower-case letters and digits, in words joined by single hyphens "
                      "(e.g. gemeente-ede).")
    if kind not in KINDS:
        raise Invalid("The kind must be one of: %(kinds)s.", kinds=", ".join(KINDS))
    if website:
        parts = urlsplit(website)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise Invalid("The website must be a full http(s) URL, e.g. https://www.ede.nl.")
    return cleaned


def _shapes(name: str, slug: str) -> frozenset[str]:
    """How an organisation looks, by its name and by its slug (names.skeletons)."""
    return names.skeletons(name) | names.skeletons(slug)


async def _refuse_look_alikes(conn: asyncpg.Connection, name: str, slug: str) -> None:
    """A new organisation may not be taken for an existing one, by name or by slug; the refusal names the one it
    imitates. A name in mixed scripts that imitates none is refused too ('Gemeente Οss' with a Greek Ο)."""
    shapes = _shapes(name, slug)
    for existing in await list_organisations(conn):
        if existing.slug == slug:
            raise Conflict("An organisation with slug %(slug)s already exists.", slug=slug)
        if shapes & _shapes(existing.name, existing.slug):
            raise Conflict("%(name)s (%(slug)s) looks like the existing organisation %(existing)s (%(existing_slug)s); "
                           "choose a name and slug that cannot be taken for it.", name=name, slug=slug,
                           existing=existing.name, existing_slug=existing.slug)
    if names.mixed_scripts(name):
        raise Invalid("The name mixes letters of different scripts (such as Latin and Cyrillic), so it could pass "
                      "for another name; type it in one script.")


def look_alikes(organisations: list[Organisation]) -> dict[int, list[Organisation]]:
    """For the admins' page: each organisation whose name mixes scripts, holds invisible characters or looks
    like another's, with the others it looks like (organisations made before these checks may be such)."""
    shapes = {org.id: _shapes(org.name, org.slug) for org in organisations}
    found: dict[int, list[Organisation]] = {}
    for org in organisations:
        others = [o for o in organisations if o.id != org.id and shapes[o.id] & shapes[org.id]]
        if others or names.mixed_scripts(org.name) or names.invisible(org.name):
            found[org.id] = others
    return found


async def insert_organisation(conn: asyncpg.Connection, *, name: str, slug: str, kind: str,
                              website: str) -> Organisation:
    name = validate(name, slug, kind, website)
    await _refuse_look_alikes(conn, name, slug)
    try:
        row = await conn.fetchrow(
            f"INSERT INTO organisations (id, slug, name, kind, website) VALUES ($1, $2, $3, $4, $5) "
            f"RETURNING {_COLUMNS}", new_id(), slug, name, kind, website)
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
    """Switch automatic boosts and set the organisation's own voice wording (None keeps, "" resets). The wording
    is shown beside every post, so it is cleaned as names are (no invisible or bidi characters)."""
    allowed = {"official_label_nl", "official_label_en", "personal_label_nl", "personal_label_en"}
    labels = {name: None if value is None else names.clean_name(value) for name, value in labels.items()}
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
            current[name] = value or None
    row = await conn.fetchrow(
        f"UPDATE organisations SET auto_boost = $2, official_label_nl = $3, official_label_en = $4, "
        f"personal_label_nl = $5, personal_label_en = $6 WHERE id = $1 RETURNING {_COLUMNS}",
        organisation.id, organisation.auto_boost if auto_boost is None else auto_boost,
        current["official_label_nl"], current["official_label_en"], current["personal_label_nl"],
        current["personal_label_en"])
    return Organisation(**dict(row))


def org_account_username(slug: str) -> str:
    return slug.replace("-", "_")[:30]


async def _require_admin(conn: asyncpg.Connection, actor_id: int | None, organisation_id: int | None) -> None:
    """An active instance admin, or (for an existing organisation) its own org admin; None is the operator."""
    if actor_id is None:
        return
    actor = await accounts.get_account(conn, actor_id)
    if actor is None or not actor.administers(organisation_id):
        raise Forbidden("Only instance admins may see this page.")


async def create_organisation(conn: asyncpg.Connection, *, name: str, slug: str, kind: str, website: str,
                              language: str, actor_id: int | None,
                              now: datetime) -> tuple[Organisation, accounts.Account]:
    """The organisation and its own account (which speaks in its voice and signs its badges), audited. Only an
    instance admin may (`actor_id` None: the operator at the command line)."""
    await _require_admin(conn, actor_id, None)
    org = await insert_organisation(conn, name=name, slug=slug, kind=kind, website=website)
    account = await accounts.insert_account(conn, username=org_account_username(org.slug), kind="organisation",
                                            display_name=org.name[:100], organisation_id=org.id, language=language)
    await audit.record(conn, actor_id=actor_id, action="organisation.created", subject_type="organisation",
                       subject_id=org.id, detail={"slug": org.slug, "name": org.name, "kind": org.kind,
                                                  "website": org.website, "account": account.username}, now=now)
    return org, account


async def change_voice_settings(conn: asyncpg.Connection, organisation: Organisation, *, auto_boost: bool | None,
                                labels: dict[str, str | None], actor_id: int | None, now: datetime) -> Organisation:
    """`update_voice_settings`, audited with what was asked (None: kept). Only an instance admin or the
    organisation's own admin may (`actor_id` None: the operator at the command line)."""
    await _require_admin(conn, actor_id, organisation.id)
    updated = await update_voice_settings(conn, organisation, auto_boost=auto_boost, labels=labels)
    await audit.record(conn, actor_id=actor_id, action="organisation.voice_settings", subject_type="organisation",
                       subject_id=organisation.id, detail={"auto_boost": updated.auto_boost, **labels}, now=now)
    return updated


_TOOI = re.compile(r"^[a-z]{2,6}[0-9]{1,8}$")


async def change_tooi_code(conn: asyncpg.Connection, organisation: Organisation, tooi_code: str, *,
                           actor_id: int | None, now: datetime) -> Organisation:
    """Set the organisation's TOOI code ("" clears it), audited; the archive export names it as archiefvormer."""
    await _require_admin(conn, actor_id, organisation.id)
    code = tooi_code.strip().lower()
    if code and not _TOOI.match(code):
        raise Invalid("A TOOI code is a prefix and a number, such as gm0228 (a gemeente), pv25 (a provincie) or "
                      "ws0155 (a waterschap).")
    row = await conn.fetchrow(f"UPDATE organisations SET tooi_code = $2 WHERE id = $1 RETURNING {_COLUMNS}",
                              organisation.id, code or None)
    await audit.record(conn, actor_id=actor_id, action="organisation.tooi_code", subject_type="organisation",
                       subject_id=organisation.id, detail={"tooi_code": code or None}, now=now)
    return Organisation(**dict(row))
