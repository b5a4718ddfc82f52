"""Public pages (a profile, a post) for visitors who are not signed in, rendered once per process and kept in the
read cache (server/read_cache.py) until a change to what they show.

Owns: the key of a page (path, query and language), the tags of what a page shows (every post and author on it),
and the one per-visitor part such a page may have, a form's CSRF token: the page is rendered with a placeholder
that each answer replaces with the visitor's own token (and its ETag with it). Today's pages show visitors no form;
the placeholder keeps a form added later from handing one visitor's token to another. Never: caches anything for a signed-in
visitor or a page that is not 200.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Awaitable, Callable, Iterable

from starlette.responses import HTMLResponse, Response

from server import read_cache
from server.timelines import PostView
from web.context import SESSION_COOKIE, PageContext, finish

# Looks like a token (the same alphabet), so that no escaping in a template changes it.
PLACEHOLDER = "AOcsrfPLACEHOLDER0placeholder0cached0page0x"
Render = Callable[[PageContext], Awaitable[tuple[Response, set[str]]]]
HEADERS = (("Vary", "Accept-Language, Cookie"),)


def view_tags(views: Iterable[PostView | None]) -> set[str]:
    """The tags of the posts on a page and of the people shown with them (boosted originals included)."""
    tags: set[str] = set()
    for view in views:
        while view is not None:
            tags.add(read_cache.post_tag(view.post.id))
            tags.add(read_cache.account_tag(view.author.id))
            view = view.reblog
    return tags


async def cached_page(ctx: PageContext, render: Render) -> Response:
    cache = read_cache.of(ctx.request)
    if cache is None or ctx.viewer is not None or ctx.request.cookies.get(SESSION_COOKIE):
        return (await render(ctx))[0]
    key = ("page", ctx.request.url.path, ctx.request.url.query, ctx.lang)
    entry = cache.get(key)
    if entry is None:
        since = cache.epoch
        response, tags = await render(dataclasses.replace(ctx, csrf_token=PLACEHOLDER, new_csrf=False))
        if response.status_code != 200 or not isinstance(response, HTMLResponse):
            return (await render(ctx))[0]
        entry = cache.store(key, read_cache.Fresh(bytes(response.body), "text/html; charset=utf-8",
                                                  frozenset(tags), HEADERS), since)
    body, etag = entry.body, entry.etag
    if PLACEHOLDER.encode() in body:  # a form for visitors: their own token, and an ETag of what they hold
        token = ctx.csrf_token.encode()
        body = body.replace(PLACEHOLDER.encode(), token)
        etag = etag[:-1] + "-" + hashlib.blake2b(token, digest_size=6).hexdigest() + '"'
    return finish(read_cache.answer(ctx.request, body, "text/html; charset=utf-8", etag, entry.headers), ctx)
