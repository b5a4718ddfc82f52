"""Notification policy and requests in the client API (Mastodon 4.3).

Owns: GET/PATCH /api/v2/notifications/policy (and v1's boolean view of it, GET/PATCH
/api/v1/notifications/policy), /api/v1/notifications/requests* (list, one, accept, dismiss, both also in bulk,
and `merged`, always true: filtered notifications are sorted into requests as they arrive). A request's
`last_status` passes the visibility rule. Never: SQL, or deciding what is filtered (server/notification_policy.py).
"""

from __future__ import annotations

from typing import Any

import asyncpg
from starlette.responses import Response
from starlette.routing import Route

from server import accounts, notification_policy, notifications
from server.db.pool import connection, transaction
from server.notification_policy import Policy, Request
from web.api.entities import iso, render_accounts, render_status_ids
from web.api.http import ApiCall, ApiError, api, json_response, link_header

READ, WRITE = "read:notifications", "write:notifications"


async def _policy_json(conn: asyncpg.Connection, account_id: int, policy: Policy) -> dict[str, Any]:
    requests, filtered = await notification_policy.summary(conn, account_id)
    return {**{name: getattr(policy, name) for name in notification_policy.FIELDS},
            "summary": {"pending_requests_count": requests, "pending_notifications_count": filtered}}


@api(scope=READ)
async def show_policy(call: ApiCall) -> Response:
    viewer = call.need_account()
    async with connection(call.deps.pool) as conn:
        return json_response(await _policy_json(conn, viewer.id, await notification_policy.get_policy(conn, viewer.id)))


@api(scope=WRITE)
async def update_policy(call: ApiCall) -> Response:
    viewer = call.need_account()
    changes = {name: str(call.params.str(name)) for name in notification_policy.FIELDS if call.params.str(name)}
    async with transaction(call.deps.pool) as conn:
        policy = await notification_policy.upsert_policy(conn, viewer.id, changes, call.deps.now())
        return json_response(await _policy_json(conn, viewer.id, policy))


def _v1(body: dict[str, Any]) -> dict[str, Any]:
    """Mastodon 4.3's v1 view: `filter_*` booleans (filter or drop counts as filtered)."""
    names = {"filter_not_following": "for_not_following", "filter_not_followers": "for_not_followers",
             "filter_new_accounts": "for_new_accounts", "filter_private_mentions": "for_private_mentions"}
    return {**{old: body[new] != "accept" for old, new in names.items()}, "summary": body["summary"]}


@api(scope=READ)
async def show_policy_v1(call: ApiCall) -> Response:
    viewer = call.need_account()
    async with connection(call.deps.pool) as conn:
        body = await _policy_json(conn, viewer.id, await notification_policy.get_policy(conn, viewer.id))
    return json_response(_v1(body))


@api(scope=WRITE)
async def update_policy_v1(call: ApiCall) -> Response:
    viewer = call.need_account()
    changes = {f"for_{name}": "filter" if call.params.bool(f"filter_{name}") else "accept"
               for name in ("not_following", "not_followers", "new_accounts", "private_mentions")
               if f"filter_{name}" in call.params.values}
    async with transaction(call.deps.pool) as conn:
        policy = await notification_policy.upsert_policy(conn, viewer.id, changes, call.deps.now())
        body = await _policy_json(conn, viewer.id, policy)
    return json_response(_v1(body))


async def _render_requests(conn: asyncpg.Connection, call: ApiCall, found: list[Request],
                           viewer_id: int) -> list[dict[str, Any]]:
    people = await accounts.list_accounts_by_ids(conn, list({r.from_account_id for r in found}))
    rendered = {int(a["id"]): a for a in await render_accounts(conn, call.deps.settings, list(people.values()))}
    post_ids = [r.last_post_id for r in found if r.last_post_id]
    statuses = {int(s["id"]): s for s in await render_status_ids(conn, call.deps.settings, post_ids, viewer_id)}
    return [{"id": str(r.id), "created_at": iso(r.created_at), "updated_at": iso(r.updated_at),
             "account": rendered[r.from_account_id], "notifications_count": str(r.notifications_count),
             "last_status": statuses.get(r.last_post_id) if r.last_post_id else None}
            for r in found if r.from_account_id in rendered]


@api(scope=READ)
async def index(call: ApiCall) -> Response:
    viewer = call.need_account()
    page = call.page(default_limit=40, maximum=80)
    async with connection(call.deps.pool) as conn:
        found = await notification_policy.list_requests(conn, viewer.id, max_id=page.max_id, since_id=page.since_id,
                                                        min_id=page.min_id, limit=page.limit)
        rendered = await _render_requests(conn, call, found, viewer.id)
    headers = link_header(call.request, found[0].id, found[-1].id, len(found) >= page.limit) if found else {}
    return json_response(rendered, headers=headers)


@api(scope=READ)
async def show(call: ApiCall) -> Response:
    viewer = call.need_account()
    async with connection(call.deps.pool) as conn:
        found = await notification_policy.get_request(conn, viewer.id, call.path_id())
        rendered = await _render_requests(conn, call, [found], viewer.id)
    if not rendered:
        raise ApiError(404, "Record not found")
    return json_response(rendered[0])


async def _accept(call: ApiCall, ids: list[int]) -> None:
    viewer = call.need_account()
    async with transaction(call.deps.pool) as conn:
        senders = await notification_policy.accept_requests(conn, viewer.id, ids, call.deps.now())
        await notifications.update_unfiltered(conn, viewer.id, senders)


async def _dismiss(call: ApiCall, ids: list[int]) -> None:
    viewer = call.need_account()
    async with transaction(call.deps.pool) as conn:
        await notification_policy.dismiss_requests(conn, viewer.id, ids)


async def _one(call: ApiCall) -> list[int]:
    viewer = call.need_account()
    async with connection(call.deps.pool) as conn:
        return [(await notification_policy.get_request(conn, viewer.id, call.path_id())).id]


def _ids(call: ApiCall) -> list[int]:
    return [int(str(i)) for i in call.params.list("id") if str(i).isdigit() and len(str(i)) <= 19]


@api(scope=WRITE)
async def accept(call: ApiCall) -> Response:
    await _accept(call, await _one(call))
    return json_response({})


@api(scope=WRITE)
async def dismiss(call: ApiCall) -> Response:
    await _dismiss(call, await _one(call))
    return json_response({})


@api(scope=WRITE)
async def accept_many(call: ApiCall) -> Response:
    await _accept(call, _ids(call))
    return json_response({})


@api(scope=WRITE)
async def dismiss_many(call: ApiCall) -> Response:
    await _dismiss(call, _ids(call))
    return json_response({})


@api(scope=READ)
async def merged(call: ApiCall) -> Response:
    call.need_account()
    return json_response({"merged": True})


ROUTES = [
    Route("/api/v2/notifications/policy", show_policy, methods=["GET"]),
    Route("/api/v2/notifications/policy", update_policy, methods=["PATCH", "PUT"]),
    Route("/api/v1/notifications/policy", show_policy_v1, methods=["GET"]),
    Route("/api/v1/notifications/policy", update_policy_v1, methods=["PATCH", "PUT"]),
    Route("/api/v1/notifications/requests", index, methods=["GET"]),
    Route("/api/v1/notifications/requests/merged", merged, methods=["GET"]),
    Route("/api/v1/notifications/requests/accept", accept_many, methods=["POST"]),
    Route("/api/v1/notifications/requests/dismiss", dismiss_many, methods=["POST"]),
    Route("/api/v1/notifications/requests/{id}", show, methods=["GET"]),
    Route("/api/v1/notifications/requests/{id}/accept", accept, methods=["POST"]),
    Route("/api/v1/notifications/requests/{id}/dismiss", dismiss, methods=["POST"]),
]
