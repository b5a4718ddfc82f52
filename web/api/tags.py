"""Hashtags in the client API: a tag with its history, following and unfollowing it, and featured tags.

Owns: /api/v1/tags/:name (+ /follow, /unfollow), /api/v1/followed_tags, /api/v1/featured_tags (+ /suggestions,
DELETE /:id) and /api/v1/accounts/:id/featured_tags. Counts come from public posts only (timelines.tag_history,
timelines.account_tag_stats), so no number says anything about a post someone may not see. Never: SQL.
"""

from __future__ import annotations

from typing import Any

import asyncpg
from starlette.responses import Response
from starlette.routing import Route

from server import tags, timelines
from server.db.pool import connection, transaction
from web.api.accounts import target_account
from web.api.entities import featured_tag_json, tag_json
from web.api.http import ApiCall, api, json_response, link_header


async def _tag_entities(call: ApiCall, conn: asyncpg.Connection, names: list[str]) -> list[dict[str, Any]]:
    history = await timelines.tag_history(conn, names, call.deps.now())
    following = await tags.list_following(conn, call.account.id, names) if call.account else set()
    return [tag_json(call.deps.settings, name, history[name], (name in following) if call.account else None)
            for name in names]


def _name(call: ApiCall) -> str:
    return tags.tag_name(str(call.request.path_params["name"]))


@api(scope="read:statuses", auth="optional")
async def show(call: ApiCall) -> Response:
    async with connection(call.deps.pool) as conn:
        return json_response((await _tag_entities(call, conn, [_name(call)]))[0])


def _follow(follow: bool):  # type: ignore[no-untyped-def]
    @api(scope="write:follows")
    async def handler(call: ApiCall) -> Response:
        viewer = call.need_account()
        name = _name(call)
        async with transaction(call.deps.pool) as conn:
            if follow:
                await tags.insert_followed_tag(conn, viewer.id, name, call.deps.now())
            else:
                await tags.delete_followed_tag(conn, viewer.id, name)
            return json_response((await _tag_entities(call, conn, [name]))[0])
    handler.__name__ = "follow" if follow else "unfollow"
    return handler


@api(scope="read:follows")
async def followed(call: ApiCall) -> Response:
    viewer = call.need_account()
    limit = call.params.int("limit", 100, minimum=1, maximum=200) or 100
    async with connection(call.deps.pool) as conn:
        rows = await tags.list_followed_tags(conn, viewer.id, max_id=call.params.id("max_id"),
                                             since_id=call.params.id("since_id"), limit=limit)
        rendered = await _tag_entities(call, conn, [r.tag for r in rows])
    return json_response(rendered, headers=link_header(call.request, rows[0].id if rows else None,
                                                       rows[-1].id if rows else None, len(rows) >= limit))


async def _featured_entities(call: ApiCall, conn: asyncpg.Connection, account_id: int,
                             rows: list[tags.TagRow]) -> list[dict[str, Any]]:
    stats = await timelines.account_tag_stats(conn, account_id, [r.tag for r in rows])
    return [featured_tag_json(call.deps.settings, r.id, r.tag, *stats[r.tag]) for r in rows]


@api(scope="read:accounts")
async def featured(call: ApiCall) -> Response:
    viewer = call.need_account()
    async with connection(call.deps.pool) as conn:
        return json_response(await _featured_entities(call, conn, viewer.id,
                                                      await tags.list_featured_tags(conn, viewer.id)))


@api(scope="write:accounts")
async def feature(call: ApiCall) -> Response:
    viewer = call.need_account()
    name = tags.tag_name(call.params.str("name") or "")
    async with transaction(call.deps.pool) as conn:
        row = await tags.insert_featured_tag(conn, viewer.id, name, call.deps.now())
        return json_response((await _featured_entities(call, conn, viewer.id, [row]))[0])


@api(scope="write:accounts")
async def unfeature(call: ApiCall) -> Response:
    viewer = call.need_account()
    async with transaction(call.deps.pool) as conn:
        await tags.delete_featured_tag(conn, viewer.id, call.path_id())
    return json_response({})


@api(scope="read:accounts")
async def suggestions(call: ApiCall) -> Response:
    """Mastodon answers the account's most used tags that are not featured yet, as Tag entities."""
    viewer = call.need_account()
    async with connection(call.deps.pool) as conn:
        featured_now = {r.tag for r in await tags.list_featured_tags(conn, viewer.id)}
        names = [t for t in await timelines.most_used_tags(conn, viewer.id) if t not in featured_now]
        return json_response(await _tag_entities(call, conn, names))


@api(scope="read:accounts", auth="optional")
async def account_featured(call: ApiCall) -> Response:
    account = await target_account(call)
    async with connection(call.deps.pool) as conn:
        return json_response(await _featured_entities(call, conn, account.id,
                                                      await tags.list_featured_tags(conn, account.id)))


ROUTES = [
    Route("/api/v1/tags/{name}", show, methods=["GET"]),
    Route("/api/v1/tags/{name}/follow", _follow(True), methods=["POST"]),
    Route("/api/v1/tags/{name}/unfollow", _follow(False), methods=["POST"]),
    Route("/api/v1/followed_tags", followed, methods=["GET"]),
    Route("/api/v1/featured_tags", featured, methods=["GET"]),
    Route("/api/v1/featured_tags", feature, methods=["POST"]),
    Route("/api/v1/featured_tags/suggestions", suggestions, methods=["GET"]),
    Route("/api/v1/featured_tags/{id}", unfeature, methods=["DELETE"]),
    Route("/api/v1/accounts/{id}/featured_tags", account_featured, methods=["GET"]),
]
