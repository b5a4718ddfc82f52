"""The viewer's filters applied to rendered Status entities, as Mastodon applies filters v2.

Owns: turning server/filters.py's matches into the Status entity's `filtered` (Mastodon's FilterResult) and the
Filter entity; where a place (Mastodon's filter context: home, notifications, public, thread, account) has a
matching `hide` filter, the post is left out here, where Mastodon leaves that to the app (docs/client-api.md).
A boost is matched by the boosted post's text and either id, and both entities carry the result. Statuses are
rendered once for many viewers (the streaming API), so this runs per viewer after rendering, on copies.
Never: SQL, or deciding who may see a post.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from html import unescape
from typing import Any

import asyncpg

from server import filters
from server.filters import Filter, Match
from web.api.entities import iso

_TAG = re.compile(r"<[^>]+>")
_BREAK = re.compile(r"<br\s*/?>|</p>", re.IGNORECASE)


def filter_json(f: Filter, *, rules: bool = True) -> dict[str, Any]:
    """Mastodon's Filter entity; inside a FilterResult without its keywords and statuses, as Mastodon sends it."""
    entity: dict[str, Any] = {"id": str(f.id), "title": f.title, "context": list(f.contexts),
                              "expires_at": iso(f.expires_at), "filter_action": f.filter_action}
    if rules:
        entity["keywords"] = [keyword_json(k) for k in f.keywords]
        entity["statuses"] = [filtered_post_json(s) for s in f.statuses]
    return entity


def keyword_json(k: filters.Keyword) -> dict[str, Any]:
    return {"id": str(k.id), "keyword": k.keyword, "whole_word": k.whole_word}


def filtered_post_json(s: filters.FilteredPost) -> dict[str, Any]:
    return {"id": str(s.id), "status_id": str(s.post_id)}


def searchable_text(status: Mapping[str, Any]) -> str:
    """What keywords are matched against: the text of the post (not its HTML), its content warning and its image
    descriptions, as Mastodon's Status#searchable_text."""
    shown = status.get("reblog") or status
    content = unescape(_TAG.sub("", _BREAK.sub("\n", str(shown.get("content") or ""))))
    descriptions = [str(m.get("description") or "") for m in shown.get("media_attachments") or []]
    return "\n\n".join([str(shown.get("spoiler_text") or ""), content, *descriptions])


def result_json(m: Match) -> dict[str, Any]:
    return {"filter": filter_json(m.filter, rules=False), "keyword_matches": list(m.keyword_matches)
            if m.keyword_matches else None,
            "status_matches": [str(i) for i in m.status_matches] if m.status_matches else None}


def apply(viewer_filters: Sequence[Filter], status: dict[str, Any], context: str | None,
          now: datetime) -> dict[str, Any] | None:
    """The status as this viewer gets it in `context`: None when a `hide` filter of that context matches, with
    `filtered` set when others do (a copy; the given entity is left alone). Without a context (one status asked
    by id) every active filter is reported and none hides, as Mastodon reports them."""
    if not viewer_filters:
        return status
    ids = {int(status["id"])} | ({int(status["reblog"]["id"])} if status.get("reblog") else set())
    found = filters.match(viewer_filters, searchable_text(status), ids, now=now, context=context)
    if not found:
        return status
    if context is not None and any(m.filter.filter_action == "hide" for m in found):
        return None
    results = [result_json(m) for m in found]
    copy = {**status, "filtered": results}
    if status.get("reblog"):
        copy["reblog"] = {**status["reblog"], "filtered": results}
    return copy


async def load(conn: asyncpg.Connection, viewer_ids: Sequence[int]) -> dict[int, list[Filter]]:
    return await filters.list_filters(conn, viewer_ids)


async def filter_statuses(conn: asyncpg.Connection, viewer_id: int | None, statuses: Sequence[dict[str, Any]],
                          context: str | None, now: datetime) -> list[dict[str, Any]]:
    """A page of statuses for the viewer in `context`: hidden ones left out, warned ones marked."""
    if viewer_id is None or not statuses:
        return list(statuses)
    mine = (await load(conn, [viewer_id])).get(viewer_id, [])
    return [s for s in (apply(mine, status, context, now) for status in statuses) if s is not None]


async def filter_notifications(conn: asyncpg.Connection, viewer_id: int, items: Sequence[dict[str, Any]],
                               now: datetime) -> list[dict[str, Any]]:
    """Notifications with a status, filtered in the `notifications` context (one whose post a filter hides goes)."""
    mine = (await load(conn, [viewer_id])).get(viewer_id, [])
    if not mine:
        return list(items)
    kept = []
    for item in items:
        if item.get("status") is None:
            kept.append(item)
            continue
        status = apply(mine, item["status"], "notifications", now)
        if status is not None:
            kept.append({**item, "status": status})
    return kept
