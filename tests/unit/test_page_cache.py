"""A page kept for visitors who are not signed in (web/page_cache.py) that carries a form: rendered once, with a
placeholder kept in place of the CSRF token, and each visitor answered with their own token and an ETag of what
they hold."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from server.config import Settings
from server.deps import Deps
from server.read_cache import ReadCache, post_tag
from web.context import PageContext
from web.page_cache import PLACEHOLDER, cached_page


def _ctx(cache: ReadCache, token: str, etag: str = "") -> PageContext:
    app = SimpleNamespace(state=SimpleNamespace(read_cache=cache))
    headers = [(b"if-none-match", etag.encode())] if etag else []
    request = Request({"type": "http", "method": "GET", "path": "/@anna", "query_string": b"", "headers": headers,
                       "app": app})
    return PageContext(request=request, deps=Deps(settings=Settings(), pool=None),  # type: ignore[arg-type]
                       viewer=None, lang="nl", csrf_token=token, new_csrf=False)


def test_a_form_on_a_kept_page_carries_each_visitors_own_token() -> None:
    cache = ReadCache()
    cache.listening = True
    renders: list[str] = []

    async def render(ctx: PageContext) -> tuple[Response, set[str]]:
        renders.append(ctx.csrf_token)
        html = f'<form><input name="csrf_token" value="{ctx.csrf_token}"></form>'
        return HTMLResponse(html), {post_tag(1)}

    async def scenario() -> None:
        first = await cached_page(_ctx(cache, "tokenA" * 7), render)
        second = await cached_page(_ctx(cache, "tokenB" * 7), render)
        assert renders == [PLACEHOLDER]  # rendered once, for nobody in particular
        assert b"tokenA" * 7 in first.body and b"tokenB" not in first.body
        assert b"tokenB" * 7 in second.body and b"tokenA" not in second.body
        assert first.headers["etag"] != second.headers["etag"]
        again = await cached_page(_ctx(cache, "tokenA" * 7, first.headers["etag"]), render)
        assert again.status_code == 304
        other = await cached_page(_ctx(cache, "tokenB" * 7, first.headers["etag"]), render)
        assert other.status_code == 200  # A's version is not B's

    asyncio.run(scenario())
