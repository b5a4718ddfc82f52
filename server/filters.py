"""Filters (Mastodon's filters v2): a person's keywords and chosen posts that warn about or hide posts in the
contexts they pick, until they expire.

Owns: the filters, filter_keywords and filter_statuses tables; telling the person's streams that their filters
changed (server/streams.py, in the same transaction); and the pure matching (`match`): which of someone's filters
a post's text or id meets, keywords as whole words or anywhere, without regard to case, as Mastodon's
CustomFilterKeyword#to_regex. Never: renders entities, or decides who may see a post (a filter only narrows what
the visibility rule already allowed).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

from server import lists, streams
from server.errors import Invalid, NotFound
from server.ids import new_id

CONTEXTS = ("home", "notifications", "public", "thread", "account")
ACTIONS = ("warn", "hide")
MAX_TITLE = 256
MAX_KEYWORD = 512


@dataclass(frozen=True)
class Keyword:
    id: int
    filter_id: int
    keyword: str
    whole_word: bool


@dataclass(frozen=True)
class FilteredPost:
    id: int
    filter_id: int
    post_id: int


@dataclass(frozen=True)
class Filter:
    id: int
    account_id: int
    title: str
    contexts: tuple[str, ...]
    filter_action: str
    expires_at: datetime | None
    keywords: tuple[Keyword, ...] = ()
    statuses: tuple[FilteredPost, ...] = ()

    def active(self, now: datetime) -> bool:
        return self.expires_at is None or self.expires_at > now


@dataclass(frozen=True)
class Match:
    """What Mastodon's FilterResult says: the filter, the text a keyword matched, the ids a chosen post matched."""

    filter: Filter
    keyword_matches: tuple[str, ...] | None
    status_matches: tuple[int, ...] | None


def keyword_pattern(keyword: str, whole_word: bool) -> str:
    """Mastodon's rule: a whole-word keyword needs a word boundary only on a side where it begins or ends with a
    word character (so `#tag` or `c++` still match)."""
    escaped = re.escape(keyword)
    if not whole_word:
        return escaped
    start = r"\b" if re.match(r"\w", keyword[:1]) else ""
    end = r"\b" if re.match(r"\w", keyword[-1:]) else ""
    return f"{start}{escaped}{end}"


def match(filters: Sequence[Filter], text: str, post_ids: Collection[int], *, now: datetime,
          context: str | None = None) -> list[Match]:
    """The active filters (of `context`, when one is given) that the post meets: its searchable text (content,
    content warning, image descriptions) against the keywords, its id and the boosted post's id against the
    chosen posts."""
    found = []
    for f in filters:
        if not f.active(now) or (context is not None and context not in f.contexts):
            continue
        keyword_matches: tuple[str, ...] | None = None
        if f.keywords:
            hit = re.search("|".join(f"(?:{keyword_pattern(k.keyword, k.whole_word)})" for k in f.keywords), text,
                            re.IGNORECASE)
            keyword_matches = (hit.group(0),) if hit else None
        status_matches = tuple(s.post_id for s in f.statuses if s.post_id in post_ids) or None
        if keyword_matches or status_matches:
            found.append(Match(f, keyword_matches, status_matches))
    return found


def _clean_contexts(contexts: Sequence[str]) -> list[str]:
    wanted = list(dict.fromkeys(str(c) for c in contexts))
    if not wanted or any(c not in CONTEXTS for c in wanted):
        raise Invalid("Validation failed: Context must be one or more of home, notifications, public, thread, "
                      "account")
    return wanted


def _clean_action(action: str | None, default: str) -> str:
    if action is None or action == "":
        return default
    if action not in ACTIONS:
        raise Invalid("Validation failed: filter_action must be warn or hide")
    return action


def _clean_keyword(keyword: str | None) -> str:
    text = (keyword or "").strip()
    if not text or len(text) > MAX_KEYWORD:
        raise Invalid("Validation failed: Keyword can't be blank or longer than %(n)s characters", n=MAX_KEYWORD)
    return text


def expiry(expires_in: int | None, now: datetime) -> datetime | None:
    """`expires_in` seconds from now; none (or 0) for a filter that never expires."""
    return now + timedelta(seconds=expires_in) if expires_in else None


async def list_filters(conn: asyncpg.Connection, account_ids: Sequence[int]) -> dict[int, list[Filter]]:
    """Every filter of these accounts (expired ones too: apps show them), with keywords and posts, by account."""
    rows = await conn.fetch("SELECT id, account_id, title, contexts, filter_action, expires_at FROM filters "
                            "WHERE account_id = ANY($1::bigint[]) ORDER BY id", list(account_ids))
    if not rows:
        return {}
    ids = [r["id"] for r in rows]
    keywords: dict[int, list[Keyword]] = {}
    for k in await conn.fetch("SELECT id, filter_id, keyword, whole_word FROM filter_keywords "
                              "WHERE filter_id = ANY($1::bigint[]) ORDER BY id", ids):
        keywords.setdefault(k["filter_id"], []).append(Keyword(**dict(k)))
    chosen: dict[int, list[FilteredPost]] = {}
    for s in await conn.fetch("SELECT id, filter_id, post_id FROM filter_statuses WHERE filter_id = ANY($1::bigint[]) "
                              "ORDER BY id", ids):
        chosen.setdefault(s["filter_id"], []).append(FilteredPost(**dict(s)))
    result: dict[int, list[Filter]] = {}
    for r in rows:
        result.setdefault(r["account_id"], []).append(Filter(
            r["id"], r["account_id"], r["title"], tuple(r["contexts"]), r["filter_action"], r["expires_at"],
            tuple(keywords.get(r["id"], [])), tuple(chosen.get(r["id"], []))))
    return result


async def get_filter(conn: asyncpg.Connection, account_id: int, filter_id: int) -> Filter:
    """The owner's filter; someone else's is as unknown as one that does not exist."""
    found = [f for f in (await list_filters(conn, [account_id])).get(account_id, []) if f.id == filter_id]
    if not found:
        raise NotFound("Record not found")
    return found[0]


async def insert_filter(conn: asyncpg.Connection, account_id: int, *, title: str | None, contexts: Sequence[str],
                        filter_action: str | None, expires_at: datetime | None,
                        keywords: Sequence[tuple[str, bool]], now: datetime) -> Filter:
    filter_id = new_id(now)
    await conn.execute("INSERT INTO filters (id, account_id, title, contexts, filter_action, expires_at, created_at) "
                       "VALUES ($1, $2, $3, $4, $5, $6, $7)", filter_id, account_id, lists.clean_title(title, MAX_TITLE),
                       _clean_contexts(contexts), _clean_action(filter_action, "warn"), expires_at, now)
    for keyword, whole_word in keywords:
        await _insert_keyword(conn, filter_id, keyword, whole_word, now)
    await streams.publish_filters_changed(conn, account_id)
    return await get_filter(conn, account_id, filter_id)


async def update_filter(conn: asyncpg.Connection, account_id: int, filter_id: int, *, title: str | None,
                        contexts: Sequence[str] | None, filter_action: str | None, expires_at: datetime | None,
                        change_expiry: bool, keyword_changes: Sequence[dict[str, object]], now: datetime) -> Filter:
    """Change what is given. `keyword_changes` are Mastodon's keywords_attributes: `{keyword, whole_word}` adds,
    with `id` changes that keyword, with `_destroy` removes it."""
    current = await get_filter(conn, account_id, filter_id)
    await conn.execute("UPDATE filters SET title = $2, contexts = $3, filter_action = $4, expires_at = $5 "
                       "WHERE id = $1", filter_id, current.title if title is None else lists.clean_title(title, MAX_TITLE),
                       list(current.contexts) if contexts is None else _clean_contexts(contexts),
                       _clean_action(filter_action, current.filter_action),
                       expires_at if change_expiry else current.expires_at)
    for change in keyword_changes:
        raw_id = str(change.get("id") or "")
        destroy = str(change.get("_destroy", "")).lower() in ("1", "true")
        whole_word = str(change.get("whole_word", "true")).lower() not in ("0", "false")
        if not raw_id:
            await _insert_keyword(conn, filter_id, str(change.get("keyword") or ""), whole_word, now)
        elif not raw_id.isdigit() or int(raw_id) not in {k.id for k in current.keywords}:
            raise NotFound("Record not found")
        elif destroy:
            await conn.execute("DELETE FROM filter_keywords WHERE id = $1", int(raw_id))
        else:
            old = next(k for k in current.keywords if k.id == int(raw_id))
            await conn.execute("UPDATE filter_keywords SET keyword = $2, whole_word = $3 WHERE id = $1", old.id,
                               _clean_keyword(str(change["keyword"])) if change.get("keyword") else old.keyword,
                               whole_word if "whole_word" in change else old.whole_word)
    await streams.publish_filters_changed(conn, account_id)
    return await get_filter(conn, account_id, filter_id)


async def delete_filter(conn: asyncpg.Connection, account_id: int, filter_id: int) -> None:
    if not (await conn.execute("DELETE FROM filters WHERE id = $1 AND account_id = $2", filter_id,
                               account_id)).endswith(" 1"):
        raise NotFound("Record not found")
    await streams.publish_filters_changed(conn, account_id)


async def _insert_keyword(conn: asyncpg.Connection, filter_id: int, keyword: str, whole_word: bool,
                          now: datetime) -> Keyword:
    row = await conn.fetchrow("INSERT INTO filter_keywords (id, filter_id, keyword, whole_word, created_at) "
                              "VALUES ($1, $2, $3, $4, $5) RETURNING id, filter_id, keyword, whole_word",
                              new_id(now), filter_id, _clean_keyword(keyword), whole_word, now)
    return Keyword(**dict(row))


async def insert_keyword(conn: asyncpg.Connection, account_id: int, filter_id: int, keyword: str | None,
                         whole_word: bool, now: datetime) -> Keyword:
    await get_filter(conn, account_id, filter_id)
    added = await _insert_keyword(conn, filter_id, keyword or "", whole_word, now)
    await streams.publish_filters_changed(conn, account_id)
    return added


async def get_keyword(conn: asyncpg.Connection, account_id: int, keyword_id: int) -> Keyword:
    row = await conn.fetchrow("SELECT k.id, k.filter_id, k.keyword, k.whole_word FROM filter_keywords k "
                              "JOIN filters f ON f.id = k.filter_id WHERE k.id = $1 AND f.account_id = $2",
                              keyword_id, account_id)
    if row is None:
        raise NotFound("Record not found")
    return Keyword(**dict(row))


async def update_keyword(conn: asyncpg.Connection, account_id: int, keyword_id: int, keyword: str | None,
                         whole_word: bool | None) -> Keyword:
    old = await get_keyword(conn, account_id, keyword_id)
    row = await conn.fetchrow("UPDATE filter_keywords SET keyword = $2, whole_word = $3 WHERE id = $1 "
                              "RETURNING id, filter_id, keyword, whole_word", keyword_id,
                              old.keyword if keyword is None else _clean_keyword(keyword),
                              old.whole_word if whole_word is None else whole_word)
    await streams.publish_filters_changed(conn, account_id)
    return Keyword(**dict(row))


async def delete_keyword(conn: asyncpg.Connection, account_id: int, keyword_id: int) -> None:
    await get_keyword(conn, account_id, keyword_id)
    await conn.execute("DELETE FROM filter_keywords WHERE id = $1", keyword_id)
    await streams.publish_filters_changed(conn, account_id)


async def insert_filtered_post(conn: asyncpg.Connection, account_id: int, filter_id: int, post_id: int,
                               now: datetime) -> FilteredPost:
    """Choose a post for the filter (the caller checked the person may see it)."""
    await get_filter(conn, account_id, filter_id)
    row = await conn.fetchrow(
        "INSERT INTO filter_statuses (id, filter_id, post_id, created_at) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT (filter_id, post_id) DO UPDATE SET post_id = EXCLUDED.post_id RETURNING id, filter_id, post_id",
        new_id(now), filter_id, post_id, now)
    await streams.publish_filters_changed(conn, account_id)
    return FilteredPost(**dict(row))


async def get_filtered_post(conn: asyncpg.Connection, account_id: int, filtered_id: int) -> FilteredPost:
    row = await conn.fetchrow("SELECT s.id, s.filter_id, s.post_id FROM filter_statuses s JOIN filters f "
                              "ON f.id = s.filter_id WHERE s.id = $1 AND f.account_id = $2", filtered_id, account_id)
    if row is None:
        raise NotFound("Record not found")
    return FilteredPost(**dict(row))


async def delete_filtered_post(conn: asyncpg.Connection, account_id: int, filtered_id: int) -> None:
    await get_filtered_post(conn, account_id, filtered_id)
    await conn.execute("DELETE FROM filter_statuses WHERE id = $1", filtered_id)
    await streams.publish_filters_changed(conn, account_id)
