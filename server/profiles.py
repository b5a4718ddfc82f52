"""Profiles: a local account's avatar and header, their alt text, up to 4 profile fields, and the bot and
discoverable flags (issue 13, item 2).

Owns: the profiles table and the avatar and header files in the media store's `media` area (server/media_store.py;
named `<kind>-<account id>-<random>.<ext>`: unguessable, and a new name on each change so caches never show an old
one).
Images are cropped to Mastodon's ratios and re-encoded without metadata by server/media.py. Every change records
`account.updated`, so followers' servers get an Update of the actor. Never: serves files (web does).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from server import events, housekeeping, media, media_store, names
from server.config import Settings
from server.errors import Invalid

MAX_FIELDS = 4
MAX_FIELD_NAME = 255
MAX_FIELD_VALUE = 255
KINDS = ("avatar", "header")
_COLUMNS = ("account_id, avatar_file, avatar_description, header_file, header_description, fields, bot, discoverable, "
            "header_url, house_colour")
MAX_REMOTE_FIELDS = 16
UNUSED_IMAGE_GRACE = timedelta(hours=1)


@dataclass(frozen=True)
class Profile:
    account_id: int
    avatar_file: str | None = None
    avatar_description: str = ""
    header_file: str | None = None
    header_description: str = ""
    fields: list[dict[str, str]] = field(default_factory=list)  # [{"name": .., "value": ..}], at most 4
    bot: bool = False
    discoverable: bool = True
    header_url: str | None = None  # a remote account's header, as its actor's `image` names it (shown via the proxy)
    house_colour: str | None = None  # an organisation account's: "#rrggbb"

    def file(self, kind: str) -> str | None:
        return self.avatar_file if kind == "avatar" else self.header_file

    def description(self, kind: str) -> str:
        return self.avatar_description if kind == "avatar" else self.header_description


def image_url(settings: Settings, profile: Profile | None, kind: str) -> str | None:
    """Where an avatar or header is loaded from; None when the account has not set one."""
    name = profile.file(kind) if profile else None
    return media_store.url(settings, name) if name else None


def media_type(file_name: str) -> str:
    return {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}[file_name.rsplit(".", 1)[1]]


def clean_fields(raw: Sequence[Any]) -> list[dict[str, str]]:
    """Profile fields as typed: empty rows dropped, at most 4, names and values at most 255 characters."""
    cleaned: list[dict[str, str]] = []
    for item in raw:
        if not isinstance(item, dict):
            raise Invalid("A profile field has a name and a value.")
        name = names.clean_name(str(item.get("name") or "")).strip()
        value = names.clean_name(str(item.get("value") or ""))
        if not name and not value:
            continue
        if not name:
            raise Invalid("A profile field with a value needs a name.")
        if len(name) > MAX_FIELD_NAME or len(value) > MAX_FIELD_VALUE:
            raise Invalid("A profile field's name and value may be at most %(n)d characters each.",
                          n=MAX_FIELD_VALUE)
        cleaned.append({"name": name, "value": value})
    if len(cleaned) > MAX_FIELDS:
        raise Invalid("A profile has at most %(n)d fields.", n=MAX_FIELDS)
    return cleaned


_COLOUR = re.compile(r"#[0-9a-f]{6}")


def parse_colour(text: str) -> str | None:
    """A house colour as `#rrggbb` (lower case); empty clears it; anything else is refused."""
    colour = text.strip().lower()
    if not colour:
        return None
    if not _COLOUR.fullmatch(colour):
        raise Invalid("A house colour is written as # and six hexadecimal digits, like #154273.")
    return colour


def _profile(row: asyncpg.Record | None, account_id: int) -> Profile:
    return Profile(**dict(row)) if row else Profile(account_id)


async def get_profile(conn: asyncpg.Connection, account_id: int) -> Profile:
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM profiles WHERE account_id = $1", account_id)
    return _profile(row, account_id)


async def list_profiles(conn: asyncpg.Connection, account_ids: Sequence[int]) -> dict[int, Profile]:
    """The profiles of these accounts that have one (the others have the defaults)."""
    if not account_ids:
        return {}
    rows = await conn.fetch(f"SELECT {_COLUMNS} FROM profiles WHERE account_id = ANY($1::bigint[])",
                            list(account_ids))
    return {r["account_id"]: _profile(r, r["account_id"]) for r in rows}


async def list_organisation_profiles(conn: asyncpg.Connection, organisation_ids: Sequence[int]) -> dict[int, Profile]:
    """The profiles of these organisations' own accounts (logo, house colour), by organisation id: official posts
    show them."""
    if not organisation_ids:
        return {}
    rows = await conn.fetch(
        f"SELECT a.organisation_id, {', '.join('p.' + c.strip() for c in _COLUMNS.split(','))} "
        "FROM accounts a JOIN profiles p ON p.account_id = a.id "
        "WHERE a.kind = 'organisation' AND a.organisation_id = ANY($1::bigint[])", list(organisation_ids))
    return {r["organisation_id"]: Profile(**{k: v for k, v in dict(r).items() if k != "organisation_id"})
            for r in rows}


async def _store_image(settings: Settings, account_id: int, kind: str, data: bytes) -> str:
    prepared = media.prepare_profile_image(data, kind)
    file_name = f"{kind}-{account_id}-{secrets.token_urlsafe(16)}.{prepared.extension}"
    await media_store.for_settings(settings).put("media", file_name, prepared.data, prepared.content_type)
    return file_name


async def update_profile(conn: asyncpg.Connection, *, settings: Settings, account_id: int, now: datetime,
                         images: dict[str, bytes] | None = None, descriptions: dict[str, str] | None = None,
                         remove: Sequence[str] = (), fields: Sequence[Any] | None = None,
                         bot: bool | None = None, discoverable: bool | None = None,
                         announce: bool = False, house_colour: str | None = None) -> Profile:
    """Change what is given (None and missing keys keep what is stored), record `account.updated` when anything
    changed (or `announce`: the caller changed the account's name or bio), and return the profile. An image
    replaced or removed leaves its old file until housekeeping (`sweep_unused_images`) deletes it."""
    current = await get_profile(conn, account_id)
    values: dict[str, Any] = {
        "avatar_file": current.avatar_file, "avatar_description": current.avatar_description,
        "header_file": current.header_file, "header_description": current.header_description,
        "fields": current.fields, "bot": current.bot, "discoverable": current.discoverable}
    for kind in remove:
        if kind in KINDS:
            values[f"{kind}_file"] = None
            values[f"{kind}_description"] = ""
    for kind, description in (descriptions or {}).items():
        if kind in KINDS:
            values[f"{kind}_description"] = media.check_description(description)
    if fields is not None:
        values["fields"] = clean_fields(fields)
    if bot is not None:
        values["bot"] = bot
    if discoverable is not None:
        values["discoverable"] = discoverable
    for kind, data in (images or {}).items():  # last: a refused field must not leave a stored file behind
        if kind in KINDS:
            values[f"{kind}_file"] = await _store_image(settings, account_id, kind, data)
    colour = current.house_colour if house_colour is None else parse_colour(house_colour)
    updated = Profile(account_id, **values, header_url=current.header_url, house_colour=colour)
    if updated == current:
        if announce:
            await events.record_event(conn, "account.updated", account_id, account_id, now)
        return current
    row = await conn.fetchrow(
        f"INSERT INTO profiles (account_id, avatar_file, avatar_description, header_file, header_description, fields, "
        f"bot, discoverable, updated_at, house_colour) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) "
        f"ON CONFLICT (account_id) DO UPDATE SET avatar_file = EXCLUDED.avatar_file, "
        f"avatar_description = EXCLUDED.avatar_description, header_file = EXCLUDED.header_file, "
        f"header_description = EXCLUDED.header_description, fields = EXCLUDED.fields, bot = EXCLUDED.bot, "
        f"discoverable = EXCLUDED.discoverable, updated_at = EXCLUDED.updated_at, house_colour = EXCLUDED.house_colour "
        f"RETURNING {_COLUMNS}",
        account_id, values["avatar_file"], values["avatar_description"], values["header_file"],
        values["header_description"], values["fields"], values["bot"], values["discoverable"], now, colour)
    await events.record_event(conn, "account.updated", account_id, account_id, now)
    return _profile(row, account_id)


@housekeeping.register("profile_images")
async def sweep_unused_images(conn: asyncpg.Connection, now: datetime, settings: Settings) -> int:
    """Delete avatar and header files that no profile names any more (replaced or removed): a person who takes
    their photo down expects it gone, not merely unlinked. Files written in the last hour are spared, since an
    upload is written before its row is committed."""
    named = {r["name"] for r in await conn.fetch(
        "SELECT avatar_file AS name FROM profiles WHERE avatar_file IS NOT NULL "
        "UNION SELECT header_file FROM profiles WHERE header_file IS NOT NULL")}
    store = media_store.for_settings(settings)
    written_before = now - UNUSED_IMAGE_GRACE
    unused = [stored.name for kind in KINDS for stored in await store.list("media", f"{kind}-")
              if stored.name not in named and stored.modified < written_before]
    await store.delete("media", unused)
    return len(unused)


async def store_remote(conn: asyncpg.Connection, account_id: int, *, fields: Sequence[dict[str, str]],
                       header_url: str | None, now: datetime) -> None:
    """A remote account's fields (names plain, values sanitised HTML, federation/vocab.py) and header, as its
    actor document last said; nothing is stored for an account without either."""
    fields = list(fields)[:MAX_REMOTE_FIELDS]
    if not fields and header_url is None:
        await conn.execute("DELETE FROM profiles WHERE account_id = $1", account_id)
        return
    await conn.execute(
        "INSERT INTO profiles (account_id, fields, header_url, updated_at) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT (account_id) DO UPDATE SET fields = EXCLUDED.fields, header_url = EXCLUDED.header_url, "
        "updated_at = EXCLUDED.updated_at", account_id, fields, header_url, now)


async def delete_remote_profiles(conn: asyncpg.Connection, account_ids: Sequence[int]) -> None:
    """Forget remote accounts' fields and headers (moderation purged them); local profiles are never touched."""
    await conn.execute("DELETE FROM profiles p USING accounts a WHERE p.account_id = a.id "
                       "AND a.id = ANY($1::bigint[]) AND a.domain IS NOT NULL", list(account_ids))


async def clear_remote_headers(conn: asyncpg.Connection, account_ids: Sequence[int]) -> None:
    """Forget remote accounts' headers (a domain whose media this node rejects), as their avatars are."""
    await conn.execute("UPDATE profiles p SET header_url = NULL FROM accounts a WHERE p.account_id = a.id "
                       "AND a.id = ANY($1::bigint[]) AND a.domain IS NOT NULL", list(account_ids))
