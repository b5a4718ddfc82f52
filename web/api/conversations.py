"""Conversations in the client API (Mastodon's Conversation entity: id, unread, accounts, last_status).

Owns: GET /api/v1/conversations, DELETE /api/v1/conversations/:id, POST /api/v1/conversations/:id/read. The
`conversation` event of the `direct` stream is sent by web/api/streaming.py with the same id. Never: SQL.
"""

from __future__ import annotations

from typing import Any

import asyncpg
from starlette.responses import Response
from starlette.routing import Route

from server import accounts, conversations
from server.conversations import Conversation
from server.db.pool import connection, transaction
from web.api.entities import render_accounts, render_status_ids
from web.api.http import ApiCall, api, json_response, link_header

READ, WRITE = "read:statuses", "write:conversations"


async def _render(conn: asyncpg.Connection, call: ApiCall, found: list[Conversation],
                  viewer_id: int) -> list[dict[str, Any]]:
    people = await accounts.list_accounts_by_ids(conn, list({p for c in found for p in c.participant_ids}))
    rendered = {int(a["id"]): a for a in await render_accounts(conn, call.deps.settings, list(people.values()))}
    statuses = {int(s["id"]): s for s in await render_status_ids(conn, call.deps.settings,
                                                                  [c.last_post_id for c in found], viewer_id)}
    return [{"id": str(c.id), "unread": c.unread, "accounts": [rendered[p] for p in c.participant_ids if p in rendered],
             "last_status": statuses.get(c.last_post_id)} for c in found]


@api(scope=READ)
async def index(call: ApiCall) -> Response:
    viewer = call.need_account()
    page = call.page(default_limit=20, maximum=40)
    async with connection(call.deps.pool) as conn:
        found = await conversations.list_conversations(conn, viewer.id, max_id=page.max_id, since_id=page.since_id,
                                                       min_id=page.min_id, limit=page.limit)
        rendered = await _render(conn, call, found, viewer.id)
    headers = link_header(call.request, found[0].last_post_id, found[-1].last_post_id,
                          len(found) >= page.limit) if found else {}
    return json_response(rendered, headers=headers)


@api(scope=WRITE)
async def destroy(call: ApiCall) -> Response:
    viewer = call.need_account()
    async with transaction(call.deps.pool) as conn:
        await conversations.remove(conn, viewer.id, call.path_id())
    return json_response({})


@api(scope=WRITE)
async def read(call: ApiCall) -> Response:
    viewer = call.need_account()
    async with transaction(call.deps.pool) as conn:
        found = await conversations.mark_read(conn, viewer.id, call.path_id())
        rendered = await _render(conn, call, [found], viewer.id)
    return json_response(rendered[0])


ROUTES = [
    Route("/api/v1/conversations", index, methods=["GET"]),
    Route("/api/v1/conversations/", index, methods=["GET"]),  # Mastodon.py asks with the slash
    Route("/api/v1/conversations/{id}", destroy, methods=["DELETE"]),
    Route("/api/v1/conversations/{id}/read", read, methods=["POST"]),
]
