"""What a person marks on posts in the client API: bookmarks and pins, and several statuses fetched at once.

Owns: /api/v1/statuses/:id/bookmark, /unbookmark, /mute, /unmute (the conversation), /pin, /unpin, GET
/api/v1/bookmarks and GET /api/v1/statuses (`id[]`). The rules are server/post_rules.py's (check_bookmark,
check_mute, check_pin); every post shown passes the visibility
rule in timelines.hydrate, so an id the viewer may not see is left out, as Mastodon leaves out missing ones.
Never: SQL.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.responses import Response
from starlette.routing import Route

from server import bookmarks, conversation_mutes, pins, timelines
from server.db.pool import connection, transaction
from web.api.entities import render_status_ids
from web.api.http import ApiCall, api, json_response, link_header, not_found


@api(scope="read:statuses", auth="optional")
async def several(call: ApiCall) -> Response:
    viewer_id = call.account.id if call.account else None
    async with connection(call.deps.pool) as conn:
        return json_response(await render_status_ids(conn, call.deps.settings, call.ids(), viewer_id))


def _mark(action: Callable[..., Awaitable[object]], scope: str, *, with_time: bool = True
          ) -> Callable[..., Awaitable[Response]]:
    @api(scope=scope)
    async def handler(call: ApiCall) -> Response:
        viewer = call.need_account()
        async with transaction(call.deps.pool) as conn:
            args = (conn, viewer, call.path_id(), call.deps.now()) if with_time else (conn, viewer, call.path_id())
            post = await action(*args)
            rendered = await render_status_ids(conn, call.deps.settings, [post.id], viewer.id)  # type: ignore[attr-defined]
        if not rendered:
            raise not_found()
        return json_response(rendered[0])
    handler.__name__ = action.__name__
    return handler


@api(scope="read:bookmarks")
async def list_bookmarks(call: ApiCall) -> Response:
    viewer = call.need_account()
    page = call.page()
    async with connection(call.deps.pool) as conn:
        ids = await timelines.bookmarked_ids(conn, viewer.id, page)
        rendered = await render_status_ids(conn, call.deps.settings, ids, viewer.id)
    return json_response(rendered, headers=link_header(call.request, ids[0] if ids else None,
                                                       ids[-1] if ids else None, len(ids) >= page.limit))


ROUTES = [
    Route("/api/v1/statuses", several, methods=["GET"]),
    Route("/api/v1/bookmarks", list_bookmarks, methods=["GET"]),
    Route("/api/v1/statuses/{id}/bookmark", _mark(bookmarks.bookmark, "write:bookmarks"), methods=["POST"]),
    Route("/api/v1/statuses/{id}/unbookmark", _mark(bookmarks.unbookmark, "write:bookmarks", with_time=False),
          methods=["POST"]),
    Route("/api/v1/statuses/{id}/mute", _mark(conversation_mutes.mute, "write:mutes"), methods=["POST"]),
    Route("/api/v1/statuses/{id}/unmute", _mark(conversation_mutes.unmute, "write:mutes", with_time=False),
          methods=["POST"]),
    Route("/api/v1/statuses/{id}/pin", _mark(pins.pin, "write:accounts"), methods=["POST"]),
    Route("/api/v1/statuses/{id}/unpin", _mark(pins.unpin, "write:accounts"), methods=["POST"]),
]
