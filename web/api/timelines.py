"""Timelines and notifications in the client API, with Mastodon's paging.

Owns: /api/v1/timelines/* (the list timeline too), /api/v1/notifications*, /api/v1/favourites, each through the
viewer's filters of its context (web/api/filtering.py). Never: SQL.
"""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from server import lists, markers, notifications, timelines
from web.api.entities import render_notifications, render_status_ids
from web.api.filtering import filter_notifications, filter_statuses
from web.api.http import ApiCall, api, json_response, link_header, not_found
from server.db.pool import connection, transaction
from server.notifications import TYPES


async def _page_of(call: ApiCall, ids: list[int], limit: int, context: str | None) -> Response:
    """A page of statuses; the Link header follows the ids found, also when a `hide` filter left some out."""
    viewer_id = call.account.id if call.account else None
    async with connection(call.deps.pool) as conn:
        rendered = await render_status_ids(conn, call.deps.settings, ids, viewer_id)
        rendered = await filter_statuses(conn, viewer_id, rendered, context, call.deps.now())
    return json_response(rendered, headers=link_header(call.request, ids[0] if ids else None,
                                                       ids[-1] if ids else None, len(ids) >= limit))


@api(scope="read:statuses")
async def home(call: ApiCall) -> Response:
    viewer = call.need_account()
    page = call.page()
    async with connection(call.deps.pool) as conn:
        ids = await timelines.home_ids(conn, viewer.id, page)
    return await _page_of(call, ids, page.limit, "home")


@api(scope="read:lists")
async def list_timeline(call: ApiCall) -> Response:
    """A list's timeline, for its owner only (someone else's list is unknown), filtered as home is (Mastodon)."""
    viewer = call.need_account()
    page = call.page()
    async with connection(call.deps.pool) as conn:
        found = await lists.get_list(conn, viewer.id, call.path_id("list_id"))
        ids = await timelines.list_ids(conn, viewer.id, found.id, page)
    return await _page_of(call, ids, page.limit, "home")


@api(scope="read:statuses", auth="optional")
async def public(call: ApiCall) -> Response:
    page = call.page()
    async with connection(call.deps.pool) as conn:
        ids = await timelines.public_ids(conn, call.account.id if call.account else None, page, **_origin(call))
    return await _page_of(call, ids, page.limit, "public")


def _origin(call: ApiCall) -> dict[str, bool]:
    """Mastodon's `local`, `remote` and `only_media` of the public and tag timelines."""
    return {name: call.params.bool(name) for name in ("local", "remote", "only_media")}


@api(scope="read:statuses", auth="optional")
async def tag(call: ApiCall) -> Response:
    page = call.page()
    name = str(call.request.path_params["hashtag"]).lstrip("#").lower()
    async with connection(call.deps.pool) as conn:
        ids = await timelines.tag_ids(conn, call.account.id if call.account else None, name, page, **_origin(call))
    return await _page_of(call, ids, page.limit, "public")


@api(scope="read:favourites")
async def favourites(call: ApiCall) -> Response:
    viewer = call.need_account()
    page = call.page()
    async with connection(call.deps.pool) as conn:
        ids = await timelines.favourited_ids(conn, viewer.id, page)
    return await _page_of(call, ids, page.limit, None)


def _types(call: ApiCall, name: str) -> list[str]:
    """The stored types for Mastodon's names: `status` also stands for a reviewer's decision on one's post."""
    return notifications.stored_types([str(t) for t in call.params.list(name) if str(t) in TYPES])


@api(scope="read:notifications")
async def list_notifications(call: ApiCall) -> Response:
    viewer = call.need_account()
    page = call.page(default_limit=40, maximum=80)
    requested_types = call.params.list("types")
    types = _types(call, "types")
    if requested_types and not types:
        return json_response([])
    async with connection(call.deps.pool) as conn:
        items = await notifications.list_notifications(
            conn, viewer.id, max_id=page.max_id, since_id=page.since_id, min_id=page.min_id, limit=page.limit,
            types=types, exclude_types=_types(call, "exclude_types"),
            include_filtered=call.params.bool("include_filtered"), from_account_id=call.params.id("account_id"))
        rendered = await filter_notifications(conn, viewer.id, await render_notifications(
            conn, call.deps.settings, items, viewer.id), call.deps.now())
    ids = [n.id for n in items]
    return json_response(rendered, headers=link_header(call.request, ids[0] if ids else None,
                                                       ids[-1] if ids else None, len(ids) >= page.limit))


@api(scope="read:notifications")
async def get_notification(call: ApiCall) -> Response:
    viewer = call.need_account()
    async with connection(call.deps.pool) as conn:
        item = await notifications.get_notification(conn, viewer.id, call.path_id())
        rendered = await filter_notifications(conn, viewer.id, await render_notifications(
            conn, call.deps.settings, [item], viewer.id), call.deps.now()) if item else []
    if not rendered:
        raise not_found()
    return json_response(rendered[0])


@api(scope="write:notifications")
async def dismiss(call: ApiCall) -> Response:
    viewer = call.need_account()
    async with transaction(call.deps.pool) as conn:
        if not await notifications.dismiss_notification(conn, viewer.id, call.path_id(), call.deps.now()):
            raise not_found()
    return json_response({})


@api(scope="write:notifications")
async def clear(call: ApiCall) -> Response:
    viewer = call.need_account()
    async with transaction(call.deps.pool) as conn:
        await notifications.clear_notifications(conn, viewer.id, call.deps.now())
    return json_response({})


@api(scope="read:notifications")
async def unread_count(call: ApiCall) -> Response:
    viewer = call.need_account()
    async with connection(call.deps.pool) as conn:
        found = await markers.list_markers(conn, viewer.id, ["notifications"])
        after = found[0].last_read_id if found else 0
        count = await notifications.count_unread(conn, viewer.id, after)
    return json_response({"count": min(count, 1000)})


ROUTES = [
    Route("/api/v1/timelines/home", home, methods=["GET"]),
    Route("/api/v1/timelines/public", public, methods=["GET"]),
    Route("/api/v1/timelines/tag/{hashtag}", tag, methods=["GET"]),
    Route("/api/v1/timelines/list/{list_id}", list_timeline, methods=["GET"]),
    Route("/api/v1/favourites", favourites, methods=["GET"]),
    Route("/api/v1/notifications", list_notifications, methods=["GET"]),
    Route("/api/v1/notifications/clear", clear, methods=["POST"]),
    Route("/api/v1/notifications/unread_count", unread_count, methods=["GET"]),
    Route("/api/v1/notifications/{id}", get_notification, methods=["GET"]),
    Route("/api/v1/notifications/{id}/dismiss", dismiss, methods=["POST"]),
]
