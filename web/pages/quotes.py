"""Quotes of a post on its page, and the author's way to remove one (FEP-044f revocation).

Owns: the list of accepted quotes shown under a post (each through the visibility rule, by server/timelines.hydrate:
a followers-only quote, or one by someone the reader blocks, is left out) and POST
/@{username}/{post_id}/quotes/{quoting_id}/remove, which revokes the authorisation through server/quotes.py (the
quoting server gets the Delete). Never: SQL.
"""

from __future__ import annotations

import asyncpg
from starlette.responses import Response
from starlette.routing import Route

from server import accounts, quotes, timelines, visibility
from server.db.pool import transaction
from server.errors import NotFound
from server.timelines import PostView
from web.context import PageContext, read_form, redirect
from web.handlers import page, path_int

SHOWN = 40


async def list_quote_views(conn: asyncpg.Connection, post_id: int, viewer_id: int | None) -> list[PostView]:
    """The newest accepted quotes of the post that the reader may see."""
    return await timelines.hydrate(conn, await quotes.list_quoting_post_ids(conn, post_id, limit=SHOWN), viewer_id)


@page(signed_in=True)
async def remove_quote(ctx: PageContext) -> Response:
    assert ctx.viewer is not None
    post_id, quoting_id = path_int(ctx, "post_id"), path_int(ctx, "quoting_id")
    await read_form(ctx)
    async with transaction(ctx.deps.pool) as conn:
        author = await accounts.get_account_by_username(conn, ctx.request.path_params["username"])
        post = await visibility.get_visible_post(conn, post_id, ctx.viewer.id)
        if author is None or post is None or post.account_id != author.id:
            raise NotFound("That post does not exist or is not visible to you.")
        await quotes.revoke(conn, ctx.viewer, post, quoting_id, ctx.now)
    return redirect(ctx, f"/@{author.username}/{post_id}#quotes-heading")


ROUTES = [
    Route("/@{username}/{post_id}/quotes/{quoting_id}/remove", remove_quote, methods=["POST"]),
]
