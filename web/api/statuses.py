"""Statuses in the client API: post, read, thread, edit and history, delete, like and boost.

Owns: /api/v1/statuses/*. Posting goes through server/publishing.py like the web composer, so the same rules
(voice, length, visibility) apply to apps. Never: SQL.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from federation import resolver
from server import compose, hidden_replies, media, posts, publishing, quotes, timelines, visibility, webcare_tokens
from server.i18n import translations
from web.api.entities import attachment_json, iso, render_account, render_accounts, render_status_ids
from web.api.filtering import filter_statuses
from web.api import scheduled_statuses
from web.api.quotes import quote_policy_param
from web.api.http import ApiCall, ApiError, api, json_response, not_found
from web.api.polls import read_poll
from server.db.pool import connection, transaction
from server.posts import Post
from server.publishing import Draft

MAX_IDEMPOTENCY_KEY = 200


def _media_ids(call: ApiCall) -> tuple[int, ...]:
    ids = []
    for raw in call.params.list("media_ids"):
        text = str(raw)
        if not text.isdigit() or len(text) > 19:
            raise ApiError(422, "Validation failed: media_ids must be ids of uploaded media")
        ids.append(int(text))
    return tuple(dict.fromkeys(ids))


def _media_attributes(call: ApiCall) -> list[media.MediaChange]:
    """Mastodon's `media_attributes[]` on an edit: a JSON list of `{id, description, focus}`, or the form fields
    `media_attributes[][id]`, `[][description]`, `[][focus]` (paired in order) or `media_attributes[0][id]`..."""
    entries: list[dict[str, Any]] = [item for item in call.params.list("media_attributes") if isinstance(item, dict)]
    indexed: dict[str, dict[str, Any]] = {}
    for key, values in call.params.values.items():
        if key.startswith("media_attributes[") and key.endswith("]") and "][" in key:
            index, field = key[len("media_attributes["):-1].split("][", 1)
            if index == "":
                for position, value in enumerate(values):
                    indexed.setdefault(f"#{position}", {})[field] = value
            else:
                indexed.setdefault(index, {})[field] = values[-1]
    entries.extend(indexed.values())
    changes = []
    for entry in entries:
        raw_id, description, focus = entry.get("id"), entry.get("description"), entry.get("focus")
        if not str(raw_id or "").isdigit() or len(str(raw_id)) > 19:
            raise ApiError(422, "Validation failed: each media_attributes entry needs the id of an attached image")
        if description is not None and not isinstance(description, str) or focus is not None \
                and not isinstance(focus, str):
            raise ApiError(422, "Validation failed: media_attributes' description and focus must be strings")
        changes.append(media.MediaChange(int(str(raw_id)), description, focus))
    return changes


async def _render_one(call: ApiCall, post_id: int) -> dict[str, Any]:
    viewer_id = call.account.id if call.account else None
    async with connection(call.deps.pool) as conn:
        rendered = await render_status_ids(conn, call.deps.settings, [post_id], viewer_id)
    if not rendered:
        raise not_found()
    return rendered[0]


async def _visible(call: ApiCall) -> Post:
    viewer_id = call.account.id if call.account else None
    async with connection(call.deps.pool) as conn:
        post = await visibility.get_visible_post(conn, call.path_id(), viewer_id)
    if post is None:
        raise not_found()
    return post


@api(scope="write:statuses")
async def create(call: ApiCall) -> Response:
    author = call.need_account()
    params = call.params
    poll = read_poll(params)  # web/api/polls.py; the rules are server/polls.py's
    scheduled_at = scheduled_statuses.requested_time(call)  # None: now (also for a time already past, as Mastodon)
    key = call.request.headers.get("idempotency-key", "").strip()[:MAX_IDEMPOTENCY_KEY]
    draft = Draft(text=params.str("status") or "", spoiler_text=params.str("spoiler_text") or "",
                  visibility=params.str("visibility") or "public", voice=params.str("voice") or None,
                  in_reply_to_id=params.id("in_reply_to_id"), language=params.str("language") or None,
                  media_ids=_media_ids(call), confirm_policy=params.bool("confirm_policy"), poll=poll,
                  quote_policy=quote_policy_param(call))
    if scheduled_at is not None:
        return await scheduled_statuses.schedule(call, draft, scheduled_at, key)
    writer = None
    if author.is_organisation and call.token is not None:  # a token a webcare member made: the post keeps its writer
        async with connection(call.deps.pool) as conn:
            writer = await webcare_tokens.writer_of(conn, call.token.id)
    try:
        post = await compose.compose_post(
            call.deps, author, draft, idempotency_key=key, written_by=writer,
            resolve_mentions=partial(resolver.resolve_mentions, call.request.app.state.federation))
    except publishing.PolicyStopped as stopped:
        return _policy_answer(call, stopped.translated(translations(call.lang).gettext), stopped.verdict.to_json())
    if post is None:  # the Idempotency-Key's first post was deleted since, as Mastodon answers it
        raise not_found()
    if post.state == "held":
        gettext = translations(call.lang).gettext
        return _policy_answer(call, gettext("Held for review: your post is saved and will be published when a "
                                            "reviewer of your organisation approves it."),
                              {"outcome": "hold", "status_id": str(post.id), "findings": post.policy_findings or []})
    return json_response(await _render_one(call, post.id))


def _policy_answer(call: ApiCall, message: str, policy: dict[str, Any]) -> Response:
    """Posts the organisation's checks stopped: 422, so that apps show the reason and never show it as published
    (docs/client-api.md)."""
    return json_response({"error": message, "policy": policy}, status=422)


@api(scope="read:statuses", auth="optional")
async def show(call: ApiCall) -> Response:
    """One post: with `filtered` for every active filter of the viewer's that it meets, whatever the filter's
    context, and never hidden by one (Mastodon's StatusRelationshipsPresenter does the same)."""
    post = await _visible(call)
    rendered = await _render_one(call, post.id)
    if call.account is not None:
        async with connection(call.deps.pool) as conn:
            rendered = (await filter_statuses(conn, call.account.id, [rendered], None, call.deps.now()))[0]
    return json_response(rendered)


@api(scope="read:statuses", auth="optional")
async def context(call: ApiCall) -> Response:
    post = await _visible(call)
    viewer_id = call.account.id if call.account else None
    async with connection(call.deps.pool) as conn:
        ancestors, descendants = await timelines.context_ids(conn, viewer_id, post.id)
        hidden = await hidden_replies.list_hidden_ids(conn, descendants)  # shown only to the thread's author and theirs
        # Both lists rendered and filtered at once: the same queries for a thread of 5 posts or 500.
        shown = {int(s["id"]): s for s in await filter_statuses(conn, viewer_id, await render_status_ids(
            conn, call.deps.settings, [*ancestors, *descendants], viewer_id), "thread", call.deps.now())}
        return json_response({
            "ancestors": [shown[i] for i in ancestors if i in shown],
            "descendants": [shown[i] | {"hidden_reply": i in hidden} for i in descendants if i in shown]})


@api(scope="write:statuses")
async def delete(call: ApiCall) -> Response:
    viewer = call.need_account()
    post = await _visible(call)
    rendered = await _render_one(call, post.id)
    async with transaction(call.deps.pool) as conn:
        await publishing.delete_post(conn, viewer, post.id, call.deps.now())
    # Mastodon returns the source text so that apps can offer "delete and redraft".
    return json_response({**rendered, "text": post.source_text})


@api(scope="write:statuses")
async def edit(call: ApiCall) -> Response:
    author = call.need_account()
    post = await _visible(call)
    poll = read_poll(call.params)  # sent back as it is by Mastodon's web app with every edit; new options reset it
    await resolver.resolve_mentions(call.request.app.state.federation, call.params.str("status") or "")
    # Mastodon: media_ids is the post's new list of images when sent (absent: they stay), media_attributes[]
    # their new descriptions and focal points.
    media_ids = _media_ids(call) if "media_ids" in call.params.values else None
    async with transaction(call.deps.pool) as conn:
        await publishing.edit_post(conn, call.deps.settings, author, post.id,
                                   body=call.params.str("status", post.source_text) or "",
                                   spoiler_text=call.params.str("spoiler_text", post.spoiler_text) or "",
                                   now=call.deps.now(), media_ids=media_ids, media_changes=_media_attributes(call),
                                   poll=poll)
        if (policy := quote_policy_param(call)) is not None:  # Mastodon 4.5: who may quote, changed with the edit
            await quotes.change_post_policy(conn, author, post, policy, call.deps.now())
    return json_response(await _render_one(call, post.id))


@api(scope="read:statuses", auth="optional")
async def history(call: ApiCall) -> Response:
    post = await _visible(call)
    if post.reblog_of_id is not None:
        raise not_found()
    async with connection(call.deps.pool) as conn:
        earlier = await posts.list_post_edits(conn, post.id)
        views = await timelines.hydrate(conn, [post.id], call.account.id if call.account else None)
        author = await render_account(conn, call.deps.settings, views[0].author)
    attachments = [attachment_json(call.deps.settings, a) for a in views[0].attachments]
    versions = [(e.content_html, e.spoiler_text, e.created_at) for e in earlier]
    versions.append((post.content_html, post.spoiler_text, post.edited_at or post.created_at))
    return json_response([{"content": content, "spoiler_text": spoiler, "sensitive": bool(spoiler),
                           "created_at": iso(at), "account": author, "media_attachments": attachments,
                           "emojis": [], "poll": None} for content, spoiler, at in versions])


@api(scope="read:statuses")
async def source(call: ApiCall) -> Response:
    post = await _visible(call)
    return json_response({"id": str(post.id), "text": post.source_text, "spoiler_text": post.spoiler_text})


def _reaction(action: str, scope: str):  # type: ignore[no-untyped-def]
    @api(scope=scope)
    async def handler(call: ApiCall) -> Response:
        viewer = call.need_account()
        post_id = (await _visible(call)).id
        async with transaction(call.deps.pool) as conn:
            await getattr(publishing, action)(conn, viewer, post_id, call.deps.now())
            boost = await posts.get_boost(conn, viewer.id, post_id) if action == "boost" else None
        # Mastodon answers a reblog with the new boost status, which wraps the original.
        return json_response(await _render_one(call, boost.id if boost else post_id))
    handler.__name__ = action
    return handler


async def _who(call: ApiCall, favourites: bool) -> Response:
    post = await _visible(call)
    limit = call.params.int("limit", 40, minimum=1, maximum=80) or 40
    async with connection(call.deps.pool) as conn:
        lister = timelines.list_favourited_by if favourites else timelines.list_reblogged_by
        people = await lister(conn, post.id, limit)
        return json_response(await render_accounts(conn, call.deps.settings, people))


@api(scope="read:accounts", auth="optional")
async def favourited_by(call: ApiCall) -> Response:
    return await _who(call, favourites=True)


@api(scope="read:accounts", auth="optional")
async def reblogged_by(call: ApiCall) -> Response:
    return await _who(call, favourites=False)


@api(scope="write:statuses")
async def policy_preview(call: ApiCall) -> Response:
    """Our extension: the organisation's findings for a draft before it is sent (nothing is stored)."""
    author = call.need_account()
    draft = Draft(text=call.params.str("status") or "", spoiler_text=call.params.str("spoiler_text") or "",
                  visibility=call.params.str("visibility") or "public", voice=call.params.str("voice") or None,
                  in_reply_to_id=call.params.id("in_reply_to_id"), language=call.params.str("language") or None,
                  media_ids=_media_ids(call))
    async with connection(call.deps.pool) as conn:
        verdict = await publishing.preview_policy(conn, author, draft, call.deps.now())
    return json_response(verdict.to_json() if verdict else {"outcome": "pass", "requires_confirmation": False,
                                                           "findings": []})


ROUTES = [
    Route("/api/v1/ambtenaar/policy/preview", policy_preview, methods=["POST"]),
    Route("/api/v1/statuses", create, methods=["POST"]),
    Route("/api/v1/statuses/{id}", show, methods=["GET"]),
    Route("/api/v1/statuses/{id}", delete, methods=["DELETE"]),
    Route("/api/v1/statuses/{id}", edit, methods=["PUT"]),
    Route("/api/v1/statuses/{id}/context", context, methods=["GET"]),
    Route("/api/v1/statuses/{id}/history", history, methods=["GET"]),
    Route("/api/v1/statuses/{id}/source", source, methods=["GET"]),
    Route("/api/v1/statuses/{id}/favourited_by", favourited_by, methods=["GET"]),
    Route("/api/v1/statuses/{id}/reblogged_by", reblogged_by, methods=["GET"]),
    Route("/api/v1/statuses/{id}/favourite", _reaction("favourite", "write:favourites"), methods=["POST"]),
    Route("/api/v1/statuses/{id}/unfavourite", _reaction("unfavourite", "write:favourites"), methods=["POST"]),
    Route("/api/v1/statuses/{id}/reblog", _reaction("boost", "write:statuses"), methods=["POST"]),
    Route("/api/v1/statuses/{id}/unreblog", _reaction("unboost", "write:statuses"), methods=["POST"]),
]
