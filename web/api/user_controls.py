"""Mute, block and remove a follower in the client API, as Mastodon apps call them; and hiding a reply from the
thread of one's own post (our own endpoints).

Owns: /api/v1/accounts/{id}/(un)mute, /(un)block, /remove_from_followers, /api/v1/mutes, /api/v1/blocks and
/api/v1/statuses/{id}/(un)hide_reply. Never: SQL (server/relationships.py and server/hidden_replies.py decide).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server import accounts, hidden_replies, relationships, visibility
from web.api.accounts import relationship_entities, relationship_json, target_account
from web.api.entities import iso, render_accounts, render_status_ids
from web.api.http import ApiCall, api, json_response, link_header, not_found
from server.db.pool import connection, transaction


async def _relationship_after(call: ApiCall, change: Callable[..., Awaitable[object]], *args: Any,
                              **kwargs: Any) -> Response:
    """Make the change in one transaction, then answer with the Relationship as it now is."""
    viewer = call.need_account()
    target = await target_account(call)
    async with transaction(call.deps.pool) as conn:
        await change(conn, viewer, target, *args, **kwargs)
        found = await relationship_entities(conn, viewer.id, [target.id])
    return json_response(found.get(target.id) or relationship_json(target.id, False, False))


@api(scope="write:mutes")
async def mute(call: ApiCall) -> Response:
    return await _relationship_after(call, relationships.mute,
                                     notifications_too=call.params.bool("notifications", True),
                                     duration_seconds=call.params.int("duration", 0) or 0, now=call.deps.now())


@api(scope="write:mutes")
async def unmute(call: ApiCall) -> Response:
    return await _relationship_after(call, relationships.unmute)


@api(scope="write:blocks")
async def block(call: ApiCall) -> Response:
    return await _relationship_after(call, relationships.block, call.deps.now())


@api(scope="write:blocks")
async def unblock(call: ApiCall) -> Response:
    return await _relationship_after(call, relationships.unblock, call.deps.now())


@api(scope="write:follows")
async def remove_from_followers(call: ApiCall) -> Response:
    return await _relationship_after(call, relationships.remove_follower, call.deps.now())


async def _account_list(call: ApiCall, mutes: bool) -> Response:
    """Mastodon pages these lists by the mute's or block's own id (the Link header's max_id), not the account's."""
    viewer = call.need_account()
    limit = call.params.int("limit", 40, minimum=1, maximum=80) or 40
    max_id, since_id = call.params.id("max_id"), call.params.id("since_id")
    async with connection(call.deps.pool) as conn:
        if mutes:
            rows: list[relationships.Mute | relationships.Block] = list(
                await relationships.list_mutes(conn, viewer.id, max_id=max_id, since_id=since_id, limit=limit))
        else:
            rows = list(await relationships.list_blocks(conn, viewer.id, max_id=max_id, since_id=since_id,
                                                        limit=limit))
        people = await accounts.list_accounts_by_ids(conn, [r.target_account_id for r in rows])
        shown = [r for r in rows if r.target_account_id in people]
        rendered = await render_accounts(conn, call.deps.settings, [people[r.target_account_id] for r in shown])
    if mutes:
        for entity, row in zip(rendered, shown):
            assert isinstance(row, relationships.Mute)
            entity["mute_expires_at"] = iso(row.expires_at)
    ids = [r.id for r in rows]
    return json_response(rendered, headers=link_header(call.request, ids[0] if ids else None,
                                                       ids[-1] if ids else None, len(ids) >= limit))


@api(scope="read:mutes")
async def list_mutes(call: ApiCall) -> Response:
    return await _account_list(call, mutes=True)


@api(scope="read:blocks")
async def list_blocks(call: ApiCall) -> Response:
    return await _account_list(call, mutes=False)


def _hide(hidden: bool) -> Callable[[Request], Awaitable[Response]]:
    @api(scope="write:statuses")
    async def handler(call: ApiCall) -> Response:
        owner = call.need_account()
        reply_id = call.path_id()
        async with transaction(call.deps.pool) as conn:
            if await visibility.get_visible_post(conn, reply_id, owner.id) is None:
                raise not_found()
            step = hidden_replies.hide if hidden else hidden_replies.unhide
            await step(conn, owner, reply_id, call.deps.now())
            rendered = await render_status_ids(conn, call.deps.settings, [reply_id], owner.id)
        if not rendered:
            raise not_found()
        return json_response(rendered[0] | {"hidden_reply": hidden})
    handler.__name__ = "hide_reply" if hidden else "unhide_reply"
    return handler


ROUTES = [
    Route("/api/v1/accounts/{id}/mute", mute, methods=["POST"]),
    Route("/api/v1/accounts/{id}/unmute", unmute, methods=["POST"]),
    Route("/api/v1/accounts/{id}/block", block, methods=["POST"]),
    Route("/api/v1/accounts/{id}/unblock", unblock, methods=["POST"]),
    Route("/api/v1/accounts/{id}/remove_from_followers", remove_from_followers, methods=["POST"]),
    Route("/api/v1/mutes", list_mutes, methods=["GET"]),
    Route("/api/v1/blocks", list_blocks, methods=["GET"]),
    Route("/api/v1/statuses/{id}/hide_reply", _hide(True), methods=["POST"]),
    Route("/api/v1/statuses/{id}/unhide_reply", _hide(False), methods=["POST"]),
]
