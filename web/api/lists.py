"""Lists in the client API (Mastodon 4.3): the lists, their members, and which of one's lists hold an account.

Owns: /api/v1/lists*, GET /api/v1/accounts/:id/lists. The list timeline is served with the other timelines
(web/api/timelines.py) and the `list` stream by web/api/streaming.py. Never: SQL.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from server import accounts, lists
from server.db.pool import connection, transaction
from server.lists import PersonalList
from web.api.entities import render_accounts
from web.api.http import ApiCall, ApiError, api, json_response, link_header

READ, WRITE = "read:lists", "write:lists"


def list_json(found: PersonalList) -> dict[str, Any]:
    return {"id": str(found.id), "title": found.title, "replies_policy": found.replies_policy,
            "exclusive": found.exclusive}


def _exclusive(call: ApiCall) -> bool | None:
    return call.params.bool("exclusive") if "exclusive" in call.params.values else None


def _account_ids(call: ApiCall) -> list[int]:
    ids = []
    for raw in call.params.list("account_ids"):
        text = str(raw)
        if not text.isdigit() or len(text) > 19:
            raise ApiError(404, "Record not found")
        ids.append(int(text))
    return ids


@api(scope=READ)
async def index(call: ApiCall) -> Response:
    viewer = call.need_account()
    async with connection(call.deps.pool) as conn:
        found = await lists.list_lists(conn, viewer.id)
    return json_response([list_json(f) for f in found])


@api(scope=READ)
async def show(call: ApiCall) -> Response:
    viewer = call.need_account()
    async with connection(call.deps.pool) as conn:
        found = await lists.get_list(conn, viewer.id, call.path_id())
    return json_response(list_json(found))


@api(scope=WRITE)
async def create(call: ApiCall) -> Response:
    viewer = call.need_account()
    async with transaction(call.deps.pool) as conn:
        made = await lists.insert_list(conn, viewer.id, title=call.params.str("title"),
                                       replies_policy=call.params.str("replies_policy"),
                                       exclusive=bool(_exclusive(call)), now=call.deps.now())
    return json_response(list_json(made))


@api(scope=WRITE)
async def update(call: ApiCall) -> Response:
    viewer = call.need_account()
    async with transaction(call.deps.pool) as conn:
        changed = await lists.update_list(conn, viewer.id, call.path_id(), title=call.params.str("title"),
                                          replies_policy=call.params.str("replies_policy"),
                                          exclusive=_exclusive(call))
    return json_response(list_json(changed))


@api(scope=WRITE)
async def destroy(call: ApiCall) -> Response:
    viewer = call.need_account()
    async with transaction(call.deps.pool) as conn:
        await lists.delete_list(conn, viewer.id, call.path_id())
    return json_response({})


@api(scope=READ)
async def members(call: ApiCall) -> Response:
    """The list's accounts, 40 a page (at most 80; `limit=0`: all, without paging), as Mastodon."""
    viewer = call.need_account()
    limit = call.params.int("limit", 40, minimum=0, maximum=80)
    limit = 40 if limit is None else limit
    async with connection(call.deps.pool) as conn:
        ids = await lists.list_member_ids(conn, viewer.id, call.path_id(), max_id=call.params.id("max_id"),
                                          since_id=call.params.id("since_id"), limit=limit)
        people = await accounts.list_accounts_by_ids(conn, ids)
        rendered = await render_accounts(conn, call.deps.settings, [people[i] for i in ids if i in people])
    headers = link_header(call.request, ids[0], ids[-1], len(ids) >= limit) if ids and limit else {}
    return json_response(rendered, headers=headers)


@api(scope=WRITE)
async def add_members(call: ApiCall) -> Response:
    viewer = call.need_account()
    async with transaction(call.deps.pool) as conn:
        await lists.insert_members(conn, viewer.id, call.path_id(), _account_ids(call), call.deps.now())
    return json_response({})


@api(scope=WRITE)
async def remove_members(call: ApiCall) -> Response:
    viewer = call.need_account()
    async with transaction(call.deps.pool) as conn:
        await lists.delete_members(conn, viewer.id, call.path_id(), _account_ids(call))
    return json_response({})


@api(scope=READ)
async def lists_of_account(call: ApiCall) -> Response:
    viewer = call.need_account()
    async with connection(call.deps.pool) as conn:
        found = await lists.list_lists_with_member(conn, viewer.id, call.path_id())
    return json_response([list_json(f) for f in found])


ROUTES = [
    Route("/api/v1/lists", index, methods=["GET"]),
    Route("/api/v1/lists", create, methods=["POST"]),
    Route("/api/v1/lists/{id}", show, methods=["GET"]),
    Route("/api/v1/lists/{id}", update, methods=["PUT"]),
    Route("/api/v1/lists/{id}", destroy, methods=["DELETE"]),
    Route("/api/v1/lists/{id}/accounts", members, methods=["GET"]),
    Route("/api/v1/lists/{id}/accounts", add_members, methods=["POST"]),
    Route("/api/v1/lists/{id}/accounts", remove_members, methods=["DELETE"]),
    Route("/api/v1/accounts/{id}/lists", lists_of_account, methods=["GET"]),
]
