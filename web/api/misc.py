"""Search, preferences, markers, and valid empty answers for features this server does not have yet.

Owns: /api/v2/search, /api/v1/preferences, /api/v1/markers, and the empty lists that keep apps from breaking
(custom emojis, announcements, trends, ...). Never: SQL.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from starlette.responses import Response
from starlette.routing import Route

from federation import resolver
from federation.webfinger import parse_handle
from server import accounts, markers, posts, timelines, uris
from web.api.entities import iso, render_accounts, render_status_ids
from web.api.quotes import account_quote_policy
from web.api.http import ApiCall, ApiError, api, json_response
from server.db.pool import connection, transaction

SEARCH_TYPES = ("accounts", "hashtags", "statuses")


@api(scope="read:search", auth="optional")
async def search(call: ApiCall) -> Response:
    query = (call.params.str("q") or "").strip()
    kind = call.params.str("type")
    if kind and kind not in SEARCH_TYPES:
        raise ApiError(422, "Validation failed: type must be accounts, hashtags or statuses")
    limit = call.params.int("limit", 20, minimum=1, maximum=40) or 20
    offset = call.params.int("offset", 0, minimum=0) or 0
    viewer_id = call.account.id if call.account else None
    result: dict[str, list[Any]] = {"accounts": [], "statuses": [], "hashtags": []}
    base = call.deps.settings.base_url
    resolved = await resolve_remote(call, query) if call.params.bool("resolve") and call.account else None
    async with connection(call.deps.pool) as conn:
        if resolved is None and query.startswith(("https://", "http://")):
            resolved = await resolve_local(conn, call, query)
        found_account = resolved if isinstance(resolved, accounts.Account) else None
        found_post = resolved if isinstance(resolved, posts.Post) else None
        if not kind or kind == "accounts":
            found = await accounts.search_accounts(conn, query, limit, offset)
            if found_account is not None:
                found = [found_account, *[a for a in found if a.id != found_account.id]]
            result["accounts"] = await render_accounts(conn, call.deps.settings, found)
        if not kind or kind == "hashtags":
            result["hashtags"] = [{"name": t, "url": f"{base}/tags/{t}", "history": [], "following": False}
                                  for t in await posts.search_tags(conn, query, limit, offset)]
        if (not kind or kind == "statuses") and not query.startswith(("@", "#")):
            ids = [found_post.id] if found_post is not None else \
                await timelines.search_ids(conn, viewer_id, query, limit, offset)
            # render_status_ids applies the visibility rule: a resolved post the viewer may not see is left out.
            result["statuses"] = await render_status_ids(conn, call.deps.settings, ids, viewer_id)
    return json_response(result)


async def resolve_remote(call: ApiCall, query: str) -> accounts.Account | posts.Post | None:
    """`@user@host`, or a post or profile URL of another server, looked up there and stored here."""
    fed = call.request.app.state.federation
    try:
        if query.startswith(("https://", "http://")):
            if uris.parse_local(call.deps.settings, query) is not None:
                return None
            return await resolver.resolve_url(fed, query)
        handle = parse_handle(query)
        if handle is None or handle[1] == call.deps.settings.domain:
            return None
        return await resolver.resolve_handle(fed, *handle)
    except resolver.ResolveError:
        return None


async def resolve_local(conn: asyncpg.Connection, call: ApiCall, url: str) -> accounts.Account | posts.Post | None:
    """One of our own post or profile URLs, from the database (whether the searcher may see it is checked later)."""
    local = uris.parse_local(call.deps.settings, url)
    if local is None or not local[0]:
        return None
    kind, username, post_id = local
    account = await accounts.get_account_by_username(conn, username)
    if account is None or not account.is_local:
        return None
    if kind == "account":
        return account
    post = await posts.get_post(conn, post_id) if post_id is not None else None
    return post if post is not None and post.account_id == account.id else None


@api(scope="read:accounts")
async def preferences(call: ApiCall) -> Response:
    account = call.need_account()
    async with connection(call.deps.pool) as conn:
        quote_policy = await account_quote_policy(conn, account)
    return json_response({"posting:default:quote_policy": quote_policy, "posting:default:visibility": "public", "posting:default:sensitive": False,
                          "posting:default:language": account.language, "reading:expand:media": "default",
                          "reading:expand:spoilers": False, "reading:autoplay:gifs": False, "posting:default:voice": account.default_voice})


def _marker_json(found: list[markers.Marker]) -> dict[str, Any]:
    return {m.timeline: {"last_read_id": str(m.last_read_id), "version": m.version, "updated_at": iso(m.updated_at)}
            for m in found}


@api(scope="read:statuses")
async def get_markers(call: ApiCall) -> Response:
    account = call.need_account()
    wanted = [str(t) for t in call.params.list("timeline") if str(t) in markers.TIMELINES]
    async with connection(call.deps.pool) as conn:
        found = await markers.list_markers(conn, account.id, wanted)
    return json_response(_marker_json(found))


@api(scope="write:statuses")
async def save_markers(call: ApiCall) -> Response:
    account = call.need_account()
    saved = []
    async with transaction(call.deps.pool) as conn:
        for timeline in markers.TIMELINES:
            value = call.params.mapping(timeline).get("last_read_id")
            if value is None:
                continue
            if not str(value).isdigit() or len(str(value)) > 19:
                raise ApiError(422, f"Validation failed: {timeline}[last_read_id] must be an id")
            saved.append(await markers.upsert_marker(conn, account.id, timeline, int(value), call.deps.now()))
    return json_response(_marker_json(saved))


@api(auth="optional")
async def empty_list(call: ApiCall) -> Response:
    return json_response([])


@api(auth="required")
async def empty_list_signed_in(call: ApiCall) -> Response:
    call.need_account()
    return json_response([])


@api(auth="optional", rate_limited=False)
async def translation_languages(call: ApiCall) -> Response:
    return json_response({})


@api(scope="push", auth="required")
async def no_push_subscription(call: ApiCall) -> Response:
    """Web Push is not offered (docs/client-api.md): every method answers 404, as Mastodon answers an app without a
    subscription, and /api/v2/instance gives no VAPID key, so apps do not try to subscribe."""
    raise ApiError(404, "Record not found: this server does not offer push notifications (Web Push); "
                        "apps can use the streaming API instead")


EMPTY_PUBLIC = ("/api/v1/custom_emojis", "/api/v1/announcements", "/api/v1/trends", "/api/v1/trends/tags",
                "/api/v1/trends/statuses", "/api/v1/trends/links", "/api/v1/instance/peers",
                "/api/v1/instance/activity", "/api/v1/instance/rules", "/api/v1/directory")
EMPTY_PERSONAL = ("/api/v1/domain_blocks", "/api/v2/suggestions", "/api/v1/suggestions")

ROUTES = [
    Route("/api/v2/search", search, methods=["GET"]),
    Route("/api/v1/preferences", preferences, methods=["GET"]),
    Route("/api/v1/markers", get_markers, methods=["GET"]),
    Route("/api/v1/markers", save_markers, methods=["POST"]),
    Route("/api/v1/instance/translation_languages", translation_languages, methods=["GET"]),
    Route("/api/v1/push/subscription", no_push_subscription, methods=["GET", "POST", "PUT", "DELETE"]),
    *[Route(path, empty_list, methods=["GET"]) for path in EMPTY_PUBLIC],
    *[Route(path, empty_list_signed_in, methods=["GET"]) for path in EMPTY_PERSONAL],
]
