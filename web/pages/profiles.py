"""Profiles, following, and the signed-in person's settings.

Owns: /@{username}, its follow/unfollow actions, and /settings. Never: SQL or federation.
"""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from server import accounts, follows, oauth, organisations, publishing, timelines
from server.db.pool import connection, transaction
from server.errors import DomainError, NotFound
from web.context import LANG_COOKIE, PageContext, read_form, redirect, render
from web.handlers import page, path_int
from web.pages.timelines import older_link, page_bounds


async def _account(ctx: PageContext) -> accounts.Account:
    async with connection(ctx.deps.pool) as conn:
        account = await accounts.get_account_by_username(conn, ctx.request.path_params["username"])
    if account is None or account.disabled_at is not None:
        raise NotFound("There is no account with that name here.")
    return account


@page()
async def profile(ctx: PageContext) -> Response:
    account = await _account(ctx)
    viewer_id = ctx.viewer.id if ctx.viewer else None
    async with connection(ctx.deps.pool) as conn:
        org = await organisations.get_organisation(conn, account.organisation_id) if account.organisation_id else None
        ids = await timelines.account_ids(conn, viewer_id, account.id, page_bounds(ctx))
        views = await timelines.hydrate(conn, ids, viewer_id)
        followers, following = await follows.count_follows(conn, account.id)
        is_following = bool(viewer_id) and await follows.exists_follow(conn, viewer_id, account.id)  # type: ignore[arg-type]
    return render(ctx, "profile.html", account=account, organisation=org, views=views, older=older_link(ctx, ids),
                  followers=followers, following=following, is_following=is_following)


def _follow_action(action: str):  # type: ignore[no-untyped-def]
    @page(signed_in=True)
    async def handler(ctx: PageContext) -> Response:
        assert ctx.viewer is not None
        target = await _account(ctx)
        await read_form(ctx)
        async with transaction(ctx.deps.pool) as conn:
            await getattr(publishing, action)(conn, ctx.viewer, target, ctx.now)
        return redirect(ctx, f"/@{target.username}")
    handler.__name__ = action
    return handler


async def _render_settings(ctx: PageContext, values: dict[str, str], status: int = 200, **extra: object) -> Response:
    assert ctx.viewer is not None
    async with connection(ctx.deps.pool) as conn:
        tokens = await oauth.list_tokens(conn, ctx.viewer.id)
    return render(ctx, "settings.html", status=status, values=values, tokens=tokens, **extra)


@page(signed_in=True)
async def settings_form(ctx: PageContext) -> Response:
    assert ctx.viewer is not None
    return await _render_settings(ctx, {"display_name": ctx.viewer.display_name, "bio": ctx.viewer.bio,
                                        "default_voice": ctx.viewer.default_voice, "language": ctx.viewer.language})


@page(signed_in=True)
async def settings_submit(ctx: PageContext) -> Response:
    assert ctx.viewer is not None
    form = await read_form(ctx)
    values = {name: str(form.get(name, "")) for name in ("display_name", "bio", "default_voice", "language")}
    try:
        async with transaction(ctx.deps.pool) as conn:
            updated = await accounts.update_profile(conn, ctx.viewer, display_name=values["display_name"],
                                                    bio=values["bio"], default_voice=values["default_voice"],
                                                    language=values["language"])
    except DomainError as error:
        return await _render_settings(ctx, values, error.http_status, error=error.translated(ctx.gettext))
    ctx.extra_cookies[LANG_COOKIE] = updated.language
    ctx.lang = updated.language
    ctx.viewer = updated
    return await _render_settings(ctx, values, saved=True)


@page(signed_in=True)
async def revoke_token(ctx: PageContext) -> Response:
    assert ctx.viewer is not None
    token_id = path_int(ctx, "token_id")
    await read_form(ctx)
    async with transaction(ctx.deps.pool) as conn:
        await oauth.revoke_token(conn, account_id=ctx.viewer.id, token_id=token_id, now=ctx.now)
    return redirect(ctx, "/settings#tokens")


ROUTES = [
    Route("/@{username}", profile, methods=["GET"]),
    Route("/@{username}/follow", _follow_action("follow"), methods=["POST"]),
    Route("/@{username}/unfollow", _follow_action("unfollow"), methods=["POST"]),
    Route("/settings", settings_form, methods=["GET"]),
    Route("/settings", settings_submit, methods=["POST"]),
    Route("/settings/tokens/{token_id}/revoke", revoke_token, methods=["POST"]),
]
