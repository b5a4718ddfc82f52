"""A moderator removes someone else's post, with a reason the author reads.

Owns: /admin/posts/{post_id}/remove (the form and its submission). Only admins and moderators of this node.
Never: SQL, or what a removal does or who may do it (moderation/post_removal.py and server/post_rules.py).
"""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from moderation import account_actions, post_removal
from server import timelines
from server.db.pool import connection, transaction
from server.errors import DomainError
from web.context import PageContext, read_form, redirect, render
from web.handlers import page, path_int


async def _form(ctx: PageContext, *, reason: str = "", status: int = 200, error: str | None = None) -> Response:
    moderator = account_actions.require_moderator(ctx.viewer)
    async with connection(ctx.deps.pool) as conn:
        post, author = await post_removal.removable(conn, moderator, path_int(ctx, "post_id"))
        # The moderator reads the post only when the visibility rule lets them; otherwise the form names it.
        shown = await timelines.hydrate(conn, [post.id], moderator.id)
    return render(ctx, "admin_post_remove.html", status=status, post=post, author=author,
                  view=shown[0] if shown else None, reason=reason, error=error,
                  max_reason=post_removal.MAX_REASON)


@page(signed_in=True)
async def remove_form(ctx: PageContext) -> Response:
    return await _form(ctx)


@page(signed_in=True)
async def remove_submit(ctx: PageContext) -> Response:
    form = await read_form(ctx)
    moderator = account_actions.require_moderator(ctx.viewer)
    reason = str(form.get("reason", ""))[:20_000]
    try:
        async with transaction(ctx.deps.pool) as conn:
            removed = await post_removal.remove_post(conn, moderator, path_int(ctx, "post_id"), reason=reason,
                                                     now=ctx.now)
    except DomainError as error:
        return await _form(ctx, reason=reason, status=error.http_status, error=error.translated(ctx.gettext))
    return redirect(ctx, f"/admin/accounts/{removed.account_id}?done=1")


ROUTES = [
    Route("/admin/posts/{post_id}/remove", remove_form, methods=["GET"]),
    Route("/admin/posts/{post_id}/remove", remove_submit, methods=["POST"]),
]
