"""Filters in the client API: Mastodon's filters v2, and v1's list read from them.

Owns: /api/v2/filters*, /api/v2/filters/keywords/:id, /api/v2/filters/statuses/:id (Mastodon's paths), GET /api/v1/filters and
/api/v1/filters/:id (each keyword as a v1 filter; v1's writes make, change and delete a filter of one keyword, as
Mastodon's do, see docs/client-api.md).
Never: SQL, or applying filters (web/api/filtering.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server import filters, visibility
from server.db.pool import connection, transaction
from server.filters import Filter
from web.api.entities import iso
from web.api.filtering import filter_json, filtered_post_json, keyword_json
from web.api.http import ApiCall, ApiError, api, json_response, not_found

READ, WRITE = "read:filters", "write:filters"


def _nested(call: ApiCall, name: str) -> list[dict[str, Any]]:
    """A list of objects as JSON (`[{...}]` or `{"0": {...}}`) or form fields (`name[][field]`, `name[0][field]`)."""
    found: list[dict[str, Any]] = []
    for item in call.params.list(name):
        if isinstance(item, dict) and item and all(isinstance(v, dict) for v in item.values()):
            found += [dict(v) for v in item.values()]
        elif isinstance(item, dict):
            found.append(dict(item))
    indexed: dict[str, dict[str, Any]] = {}
    for key, values in call.params.values.items():
        if key.startswith(f"{name}[") and key.endswith("]") and "][" in key:
            index, field = key[len(name) + 1:-1].split("][", 1)
            for position, value in enumerate(values if index == "" else values[-1:]):
                indexed.setdefault(f"#{position}" if index == "" else index, {})[field] = value
    return found + list(indexed.values())


def _expires_in(call: ApiCall) -> int | None:
    return call.params.int("expires_in", minimum=0)


def _contexts(call: ApiCall) -> list[str] | None:
    given = [str(c) for c in call.params.list("context")]
    return given or None


@api(scope=READ)
async def index(call: ApiCall) -> Response:
    viewer = call.need_account()
    async with connection(call.deps.pool) as conn:
        found = (await filters.list_filters(conn, [viewer.id])).get(viewer.id, [])
    return json_response([filter_json(f) for f in found])


@api(scope=WRITE)
async def create(call: ApiCall) -> Response:
    viewer = call.need_account()
    keywords = [(str(k.get("keyword") or ""), str(k.get("whole_word", "true")).lower() not in ("0", "false"))
                for k in _nested(call, "keywords_attributes") if not k.get("_destroy")]
    async with transaction(call.deps.pool) as conn:
        made = await filters.insert_filter(conn, viewer.id, title=call.params.str("title"),
                                           contexts=_contexts(call) or [], filter_action=call.params.str("filter_action"),
                                           expires_at=filters.expiry(_expires_in(call), call.deps.now()),
                                           keywords=keywords, now=call.deps.now())
    return json_response(filter_json(made))


@api(scope=READ)
async def show(call: ApiCall) -> Response:
    viewer = call.need_account()
    async with connection(call.deps.pool) as conn:
        found = await filters.get_filter(conn, viewer.id, call.path_id())
    return json_response(filter_json(found))


@api(scope=WRITE)
async def update(call: ApiCall) -> Response:
    viewer = call.need_account()
    change_expiry = "expires_in" in call.params.values
    async with transaction(call.deps.pool) as conn:
        changed = await filters.update_filter(
            conn, viewer.id, call.path_id(), title=call.params.str("title"), contexts=_contexts(call),
            filter_action=call.params.str("filter_action"),
            expires_at=filters.expiry(_expires_in(call), call.deps.now()), change_expiry=change_expiry,
            keyword_changes=_nested(call, "keywords_attributes"), now=call.deps.now())
    return json_response(filter_json(changed))


@api(scope=READ)
async def keywords(call: ApiCall) -> Response:
    viewer = call.need_account()
    async with connection(call.deps.pool) as conn:
        found = await filters.get_filter(conn, viewer.id, call.path_id("filter_id"))
    return json_response([keyword_json(k) for k in found.keywords])


@api(scope=WRITE)
async def add_keyword(call: ApiCall) -> Response:
    viewer = call.need_account()
    async with transaction(call.deps.pool) as conn:
        added = await filters.insert_keyword(conn, viewer.id, call.path_id("filter_id"), call.params.str("keyword"),
                                             call.params.bool("whole_word", True), call.deps.now())
    return json_response(keyword_json(added))


@api(scope=READ)
async def show_keyword(call: ApiCall) -> Response:
    viewer = call.need_account()
    async with connection(call.deps.pool) as conn:
        found = await filters.get_keyword(conn, viewer.id, call.path_id())
    return json_response(keyword_json(found))


@api(scope=WRITE)
async def update_keyword(call: ApiCall) -> Response:
    viewer = call.need_account()
    whole_word = call.params.bool("whole_word") if "whole_word" in call.params.values else None
    async with transaction(call.deps.pool) as conn:
        changed = await filters.update_keyword(conn, viewer.id, call.path_id(), call.params.str("keyword"), whole_word)
    return json_response(keyword_json(changed))


@api(scope=READ)
async def statuses(call: ApiCall) -> Response:
    viewer = call.need_account()
    async with connection(call.deps.pool) as conn:
        found = await filters.get_filter(conn, viewer.id, call.path_id("filter_id"))
    return json_response([filtered_post_json(s) for s in found.statuses])


@api(scope=WRITE)
async def add_status(call: ApiCall) -> Response:
    viewer = call.need_account()
    post_id = call.params.id("status_id")
    async with transaction(call.deps.pool) as conn:
        if post_id is None or not await visibility.is_visible(conn, post_id, viewer.id):
            raise not_found()
        added = await filters.insert_filtered_post(conn, viewer.id, call.path_id("filter_id"), post_id,
                                                   call.deps.now())
    return json_response(filtered_post_json(added))


@api(scope=READ)
async def show_status(call: ApiCall) -> Response:
    viewer = call.need_account()
    async with connection(call.deps.pool) as conn:
        found = await filters.get_filtered_post(conn, viewer.id, call.path_id())
    return json_response(filtered_post_json(found))


def _deleting(delete: Callable[[asyncpg.Connection, int, int], Awaitable[None]]) -> Callable[[Request], Awaitable[Response]]:
    """DELETE of one of your own filters, keywords or chosen posts: the same handler around its delete function
    (each refuses someone else's with 404)."""
    @api(scope=WRITE)
    async def destroy(call: ApiCall) -> Response:
        viewer = call.need_account()
        async with transaction(call.deps.pool) as conn:
            await delete(conn, viewer.id, call.path_id())
        return json_response({})
    return destroy


destroy = _deleting(filters.delete_filter)
destroy_keyword = _deleting(filters.delete_keyword)
destroy_status = _deleting(filters.delete_filtered_post)


def _v1(f: Filter) -> list[dict[str, Any]]:
    """Mastodon's v1 Filter: one per keyword of a v2 filter, with the keyword's id."""
    return [{"id": str(k.id), "phrase": k.keyword, "context": list(f.contexts), "expires_at": iso(f.expires_at),
             "irreversible": f.filter_action == "hide", "whole_word": k.whole_word} for k in f.keywords]


@api(scope=READ)
async def index_v1(call: ApiCall) -> Response:
    viewer = call.need_account()
    async with connection(call.deps.pool) as conn:
        found = (await filters.list_filters(conn, [viewer.id])).get(viewer.id, [])
    return json_response([entry for f in found for entry in _v1(f)])


@api(scope=READ)
async def show_v1(call: ApiCall) -> Response:
    viewer = call.need_account()
    wanted = str(call.path_id())
    async with connection(call.deps.pool) as conn:
        found = (await filters.list_filters(conn, [viewer.id])).get(viewer.id, [])
    for entry in (e for f in found for e in _v1(f)):
        if entry["id"] == wanted:
            return json_response(entry)
    raise not_found()


@api(scope=WRITE)
async def create_v1(call: ApiCall) -> Response:
    """v1's filter is a v2 filter with one keyword, as Mastodon makes it: the phrase is title and keyword,
    `irreversible` is `hide`."""
    viewer = call.need_account()
    phrase = call.params.str("phrase") or ""
    async with transaction(call.deps.pool) as conn:
        made = await filters.insert_filter(conn, viewer.id, title=phrase, contexts=_contexts(call) or [],
                                           filter_action="hide" if call.params.bool("irreversible") else "warn",
                                           expires_at=filters.expiry(_expires_in(call), call.deps.now()),
                                           keywords=[(phrase, call.params.bool("whole_word", True))],
                                           now=call.deps.now())
    return json_response(_v1(made)[0])


@api(scope=WRITE)
async def update_v1(call: ApiCall) -> Response:
    """Change a keyword, and its filter where asked; a filter's settings cannot be changed through one of several
    keywords (422, as Mastodon), and then nothing changes."""
    viewer = call.need_account()
    given = call.params.values
    phrase = call.params.str("phrase")
    async with transaction(call.deps.pool) as conn:
        keyword = await filters.get_keyword(conn, viewer.id, call.path_id())
        current = await filters.get_filter(conn, viewer.id, keyword.filter_id)
        await filters.update_keyword(conn, viewer.id, keyword.id, phrase,
                                     call.params.bool("whole_word") if "whole_word" in given else None)
        action = ("hide" if call.params.bool("irreversible") else "warn") if "irreversible" in given else None
        contexts = _contexts(call)
        if ((phrase is not None and phrase.strip() != current.title) or "expires_in" in given
                or (contexts is not None and list(dict.fromkeys(contexts)) != list(current.contexts))
                or (action is not None and action != current.filter_action)):
            if len(current.keywords) > 1:
                raise ApiError(422, "These settings belong to a filter with more than one keyword; change them "
                                    "through /api/v2/filters")
            await filters.update_filter(conn, viewer.id, current.id, title=phrase, contexts=contexts,
                                        filter_action=action,
                                        expires_at=filters.expiry(_expires_in(call), call.deps.now()),
                                        change_expiry="expires_in" in given, keyword_changes=[], now=call.deps.now())
        changed = await filters.get_filter(conn, viewer.id, current.id)
    return json_response(next(e for e in _v1(changed) if e["id"] == str(keyword.id)))


ROUTES = [
    Route("/api/v2/filters", index, methods=["GET"]),
    Route("/api/v2/filters", create, methods=["POST"]),
    Route("/api/v2/filters/{id}", show, methods=["GET"]),
    Route("/api/v2/filters/{id}", update, methods=["PUT"]),
    Route("/api/v2/filters/{id}", destroy, methods=["DELETE"]),
    Route("/api/v2/filters/{filter_id}/keywords", keywords, methods=["GET"]),
    Route("/api/v2/filters/{filter_id}/keywords", add_keyword, methods=["POST"]),
    Route("/api/v2/filters/keywords/{id}", show_keyword, methods=["GET"]),
    Route("/api/v2/filters/keywords/{id}", update_keyword, methods=["PUT"]),
    Route("/api/v2/filters/keywords/{id}", destroy_keyword, methods=["DELETE"]),
    Route("/api/v2/filters/{filter_id}/statuses", statuses, methods=["GET"]),
    Route("/api/v2/filters/{filter_id}/statuses", add_status, methods=["POST"]),
    Route("/api/v2/filters/statuses/{id}", show_status, methods=["GET"]),
    Route("/api/v2/filters/statuses/{id}", destroy_status, methods=["DELETE"]),
    Route("/api/v1/filters", index_v1, methods=["GET"]),
    Route("/api/v1/filters", create_v1, methods=["POST"]),
    Route("/api/v1/filters/{id}", show_v1, methods=["GET"]),
    Route("/api/v1/filters/{id}", update_v1, methods=["PUT"]),
    Route("/api/v1/filters/{id}", destroy_keyword, methods=["DELETE"]),  # v1's filter is the keyword, as Mastodon
]
