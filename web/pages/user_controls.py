"""A person's own controls: mute and block an account, remove a follower, and hide a reply from the thread of
one's own post; the settings pages that list mutes, blocks and followers.

Owns: /@{username}/(un)mute|block|unblock (and the same under /accounts/{id} for remote accounts), the block
confirmation page, /settings/mutes, /settings/blocks, /settings/followers and /posts/{id}/(un)hide_reply.
Never: SQL or federation (server/relationships.py and server/hidden_replies.py decide; blocks federate through
the outbox).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

import asyncpg
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server import accounts, follows, hidden_replies, relationships, visibility
from server.db.pool import connection, transaction
from server.errors import NotFound
from web.context import (
    PageContext,
    account_path,
    read_form,
    redirect,
    render,
    safe_next,
)
from web.handlers import page, path_int

# The durations the mute form offers, in seconds (0: until unmuted), as Mastodon's web interface does.
MUTE_DURATIONS = (0, 3600, 86400, 7 * 86400, 30 * 86400)
LIST_LIMIT = 40


async def _target(ctx: PageContext) -> accounts.Account:
    """The account in the path: /@{username} for local accounts, /accounts/{account_id} for any."""
    async with connection(ctx.deps.pool) as conn:
        if "username" in ctx.request.path_params:
            account = await accounts.get_account_by_username(conn, ctx.request.path_params["username"])
        else:
            account = await accounts.get_account(conn, path_int(ctx, "account_id"))
    if account is None or account.disabled_at is not None:
        raise NotFound("There is no account with that name here.")
    return account


def _action(name: str) -> Callable[[Request], Awaitable[Response]]:
    """Mute, unmute, block and unblock: one POST each, then back to where the person came from."""
    @page(signed_in=True)
    async def handler(ctx: PageContext) -> Response:
        assert ctx.viewer is not None
        target = await _target(ctx)
        form = await read_form(ctx)
        async with transaction(ctx.deps.pool) as conn:
            if name == "mute":
                duration = str(form.get("duration", "0"))
                await relationships.mute(conn, ctx.viewer, target,
                                         notifications_too=form.get("notifications") == "on",
                                         duration_seconds=int(duration) if duration.isdigit()
                                         and int(duration) in MUTE_DURATIONS else 0, now=ctx.now)
            elif name == "unmute":
                await relationships.unmute(conn, ctx.viewer, target)
            elif name == "block":
                await relationships.block(conn, ctx.viewer, target, ctx.now)
            else:
                await relationships.unblock(conn, ctx.viewer, target, ctx.now)
        return redirect(ctx, safe_next(str(form.get("next", "")), account_path(target)))
    handler.__name__ = name
    return handler


@page(signed_in=True)
async def confirm_block(ctx: PageContext) -> Response:
    """Blocking ends follows both ways, so it asks first; the page works without JavaScript."""
    assert ctx.viewer is not None
    target = await _target(ctx)
    return render(ctx, "block_confirm.html", account=target)


async def _people(conn: asyncpg.Connection, ids: Sequence[int]) -> list[accounts.Account]:
    found = await accounts.list_accounts_by_ids(conn, list(ids))
    return [found[i] for i in ids if i in found]


def _before(ctx: PageContext) -> int | None:
    raw = ctx.request.query_params.get("max_id", "")
    return int(raw) if raw.isdigit() and len(raw) <= 19 else None


def _relation_list(kind: str) -> Callable[[Request], Awaitable[Response]]:
    """/settings/mutes and /settings/blocks: the accounts, newest first, with a link to older ones."""
    @page(signed_in=True)
    async def handler(ctx: PageContext) -> Response:
        assert ctx.viewer is not None
        lister = relationships.list_mutes if kind == "mutes" else relationships.list_blocks
        async with connection(ctx.deps.pool) as conn:
            rows = await lister(conn, ctx.viewer.id, max_id=_before(ctx), limit=LIST_LIMIT)
            people = await accounts.list_accounts_by_ids(conn, [r.target_account_id for r in rows])
        entries = [(people[r.target_account_id], getattr(r, "expires_at", None)) for r in rows
                   if r.target_account_id in people]
        older = f"/settings/{kind}?max_id={rows[-1].id}" if len(rows) == LIST_LIMIT else None
        return render(ctx, "relations.html", kind=kind, entries=entries, older=older)
    handler.__name__ = f"list_{kind}"
    return handler


@page(signed_in=True)
async def list_followers(ctx: PageContext) -> Response:
    assert ctx.viewer is not None
    async with connection(ctx.deps.pool) as conn:
        ids = await follows.list_follower_ids(conn, ctx.viewer.id, max_id=_before(ctx), since_id=None,
                                              limit=LIST_LIMIT)
        people = await _people(conn, ids)
    older = f"/settings/followers?max_id={ids[-1]}" if len(ids) == LIST_LIMIT else None
    return render(ctx, "relations.html", kind="followers", entries=[(p, None) for p in people], older=older)


@page(signed_in=True)
async def remove_follower(ctx: PageContext) -> Response:
    assert ctx.viewer is not None
    await read_form(ctx)
    async with transaction(ctx.deps.pool) as conn:
        follower = await accounts.get_account(conn, path_int(ctx, "account_id"))
        if follower is None:
            raise NotFound("There is no account with that name here.")
        await relationships.remove_follower(conn, ctx.viewer, follower, ctx.now)
    return redirect(ctx, "/settings/followers")


def _hide(hidden: bool) -> Callable[[Request], Awaitable[Response]]:
    @page(signed_in=True)
    async def handler(ctx: PageContext) -> Response:
        assert ctx.viewer is not None
        post_id = path_int(ctx, "post_id")
        form = await read_form(ctx)
        async with transaction(ctx.deps.pool) as conn:
            if await visibility.get_visible_post(conn, post_id, ctx.viewer.id) is None:
                raise NotFound("That post does not exist or is not visible to you.")
            step = hidden_replies.hide if hidden else hidden_replies.unhide
            await step(conn, ctx.viewer, post_id, ctx.now)
        return redirect(ctx, safe_next(str(form.get("next", "")), f"/posts/{post_id}") + f"#post-{post_id}")
    handler.__name__ = "hide_reply" if hidden else "unhide_reply"
    return handler


async def thread_marks(conn: asyncpg.Connection, viewer_id: int | None, post_id: int,
                       descendant_ids: Sequence[int]) -> dict[str, object]:
    """What the thread page needs to show the hide buttons (to the thread's author) and the hidden marks."""
    return {"thread_owner_id": await hidden_replies.get_thread_owner_id(conn, post_id) if viewer_id else None,
            "hidden_ids": await hidden_replies.list_hidden_ids(conn, descendant_ids)}


def _account_routes(prefix: str) -> list[Route]:
    return [
        Route(f"{prefix}/mute", _action("mute"), methods=["POST"]),
        Route(f"{prefix}/unmute", _action("unmute"), methods=["POST"]),
        Route(f"{prefix}/block", confirm_block, methods=["GET"]),
        Route(f"{prefix}/block", _action("block"), methods=["POST"]),
        Route(f"{prefix}/unblock", _action("unblock"), methods=["POST"]),
    ]


# Mounted before posts' routes: /@{username}/block must not be read as a post id.
ROUTES = [
    *_account_routes("/@{username}"),
    *_account_routes("/accounts/{account_id}"),
    Route("/settings/mutes", _relation_list("mutes"), methods=["GET"]),
    Route("/settings/blocks", _relation_list("blocks"), methods=["GET"]),
    Route("/settings/followers", list_followers, methods=["GET"]),
    Route("/settings/followers/{account_id}/remove", remove_follower, methods=["POST"]),
    Route("/posts/{post_id}/hide_reply", _hide(True), methods=["POST"]),
    Route("/posts/{post_id}/unhide_reply", _hide(False), methods=["POST"]),
]
