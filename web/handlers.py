"""The wrapper every page handler goes through: context, sign-in requirement, and refusals as pages.

Owns: mapping DomainError to an HTML error page, and sending a signed-in person who must use a second factor and
has none (a session from before the rule was tightened) to set it up before any other page. Never: page-specific
logic.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response

from server import two_factor
from server.db.pool import connection
from server.errors import DomainError, NotFound
from web.context import PageContext, error_page, page_context, redirect

Handler = Callable[[PageContext], Awaitable[Response]]
# What a person who still has to set up a second factor may reach: the set-up itself, signing out, the language.
SETUP_PATHS = ("/two-factor/setup", "/logout", "/lang/", "/login")


async def _second_factor_missing(ctx: PageContext) -> bool:
    if ctx.viewer is None or ctx.request.url.path.startswith(SETUP_PATHS):
        return False
    async with connection(ctx.deps.pool) as conn:
        return await two_factor.setup_needed(conn, ctx.viewer, ctx.deps.settings.require_2fa_for)


def page(*, signed_in: bool = False) -> Callable[[Handler], Callable[[Request], Awaitable[Response]]]:
    def decorate(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        @wraps(handler)
        async def endpoint(request: Request) -> Response:
            ctx = await page_context(request)
            if signed_in and ctx.viewer is None:
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return redirect(ctx, "/login?next=" + quote(target, safe=""))
            if await _second_factor_missing(ctx):
                return redirect(ctx, "/two-factor/setup")
            try:
                return await handler(ctx)
            except DomainError as error:
                return error_page(ctx, error)
        return endpoint
    return decorate


def path_int(ctx: PageContext, name: str) -> int:
    """A numeric path parameter; anything else is simply not found."""
    raw = ctx.request.path_params.get(name, "")
    if not str(raw).isdigit() or len(str(raw)) > 19:
        raise NotFound("That page does not exist.")
    return int(raw)
