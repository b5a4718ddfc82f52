"""Quotes of a status in the client API, as Mastodon 4.5 has them: list them, revoke one, set who may quote.

Owns: GET /api/v1/statuses/:id/quotes, POST /api/v1/statuses/:id/quotes/:quoting_status_id/revoke and
PUT /api/v1/statuses/:id/interaction_policy. The rules are server/quotes.py's; every status shown passes the
visibility rule (web/api/entities.py through server/timelines.hydrate). Never: SQL.
"""

from __future__ import annotations

import asyncpg
from starlette.responses import Response
from starlette.routing import Route

from server import quotes, visibility
from server.db.pool import connection, transaction
from server.errors import DomainError, Forbidden
from server.accounts import Account
from server.posts import Post
from web.api.entities import render_status_ids
from web.api.http import ApiCall, ApiError, api, json_response, link_header, not_found


def quote_policy_param(call: ApiCall) -> str | None:
    """`quote_approval_policy`: public, followers or nobody; absent means the author's default. This node does not
    send quote posts yet, so `quoted_status_id` is refused rather than dropped (the post would lose its quote)."""
    if call.params.str("quoted_status_id"):
        raise ApiError(422, "Validation failed: this server cannot publish quote posts yet (quoted_status_id)")
    policy = call.params.str("quote_approval_policy") or None
    if policy is not None and policy not in quotes.POLICIES:
        raise ApiError(422, "Validation failed: quote_approval_policy must be public, followers or nobody")
    return policy


async def account_quote_policy(conn: asyncpg.Connection, account: Account) -> str:
    """`source[quote_policy]`: the account's chosen default, or the default of its usual voice (server/quotes.py:
    public for official, followers for personal posts)."""
    return await quotes.get_account_policy(conn, account.id) or quotes.default_policy(account.default_voice)


async def update_account_policy(conn: asyncpg.Connection, call: ApiCall, account: Account) -> None:
    """`source[quote_policy]` on update_credentials (Mastodon 4.5)."""
    policy = call.params.mapping("source").get("quote_policy")
    if policy is None:
        return
    if policy not in quotes.POLICIES:
        raise ApiError(422, "Validation failed: source[quote_policy] must be public, followers or nobody")
    await quotes.upsert_account_policy(conn, account.id, str(policy))


async def _visible(call: ApiCall) -> Post:
    async with connection(call.deps.pool) as conn:
        post = await visibility.get_visible_post(conn, call.path_id(), call.need_account().id)
    if post is None or post.reblog_of_id is not None:
        raise not_found()
    return post


@api(scope="read:statuses")
async def list_quotes(call: ApiCall) -> Response:
    """Accepted quotes of the post, newest first; each shown only to whoever may see it (a quote may be
    followers-only, or by someone the viewer blocks), so a page can hold fewer than `limit`."""
    post = await _visible(call)
    page = call.page()
    limit = min(page.limit, 40)
    async with connection(call.deps.pool) as conn:
        ids = await quotes.list_quoting_post_ids(conn, post.id, limit=limit, max_id=page.max_id,
                                                 since_id=page.since_id or page.min_id)
        rendered = await render_status_ids(conn, call.deps.settings, ids, call.account.id if call.account else None)
    return json_response(rendered, headers=link_header(call.request, ids[0] if ids else None,
                                                       ids[-1] if ids else None, len(ids) >= limit))


@api(scope="write:statuses")
async def revoke(call: ApiCall) -> Response:
    """The author takes back their authorisation of one quote; the quoting status comes back with `quote.state`
    `revoked`, as on Mastodon."""
    author = call.need_account()
    post = await _visible(call)
    quoting_id = call.path_id("quoting_status_id")
    try:
        async with transaction(call.deps.pool) as conn:
            await quotes.revoke(conn, author, post, quoting_id, call.deps.now())
    except Forbidden:
        raise ApiError(403, "This action is not allowed") from None
    async with connection(call.deps.pool) as conn:
        rendered = await render_status_ids(conn, call.deps.settings, [quoting_id], author.id)
    if not rendered:  # revoked, but the quoting post is not one the author may see (a followers-only quote)
        raise not_found()
    return json_response(rendered[0])


@api(scope="write:statuses")
async def interaction_policy(call: ApiCall) -> Response:
    author = call.need_account()
    post = await _visible(call)
    policy = quote_policy_param(call)
    if policy is not None:
        try:
            async with transaction(call.deps.pool) as conn:
                await quotes.change_post_policy(conn, author, post, policy, call.deps.now())
        except DomainError:
            raise not_found() from None
    async with connection(call.deps.pool) as conn:
        rendered = await render_status_ids(conn, call.deps.settings, [post.id], author.id)
    return json_response(rendered[0])


ROUTES = [
    Route("/api/v1/statuses/{id}/quotes", list_quotes, methods=["GET"]),
    Route("/api/v1/statuses/{id}/quotes/{quoting_status_id}/revoke", revoke, methods=["POST"]),
    Route("/api/v1/statuses/{id}/interaction_policy", interaction_policy, methods=["PUT"]),
]
