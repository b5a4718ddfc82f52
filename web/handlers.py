"""The wrapper every page handler goes through: context, sign-in requirement, and refusals as pages.

Owns: mapping DomainError to an HTML error page. Never: page-specific logic.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response

from server.errors import DomainError, NotFound
from web.context import PageContext, error_page, page_context, redirect

Handler = Callable[[PageContext], Awaitable[Response]]


def page(*, signed_in: bool = False) -> Callable[[Handler], Callable[[Request], Awaitable[Response]]]:
    def decorate(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        @wraps(handler)
        async def endpoint(request: Request) -> Response:
            ctx = await page_context(request)
            if signed_in and ctx.viewer is None:
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return redirect(ctx, "/login?next=" + quote(target, safe=""))
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
