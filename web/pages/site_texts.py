"""The privacy policy and terms of service: the public pages, and the form with which an instance admin writes
them (the same texts apps read at /api/v1/instance/privacy_policy and /terms_of_service).

Owns: /privacy, /voorwaarden and /admin/texts (instance admins only). Never: SQL (server/site_texts.py owns the
table).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.responses import Response
from starlette.routing import Route

from server import site_texts
from server.db.pool import connection, transaction
from server.errors import Invalid
from web.context import PageContext, read_form, redirect, render
from web.handlers import page
from web.pages.statement import require_admin

TITLES = {"privacy_policy": "Privacy policy", "terms_of_service": "Terms of service"}


def _public(kind: str) -> Callable[..., Awaitable[Response]]:
    @page()
    async def show(ctx: PageContext) -> Response:
        async with connection(ctx.deps.pool) as conn:
            found = await site_texts.get_text(conn, kind)
        return render(ctx, "site_text.html", title=TITLES[kind], text=found)
    show.__name__ = kind
    return show


async def _current(ctx: PageContext) -> dict[str, str]:
    async with connection(ctx.deps.pool) as conn:
        return {kind: (found.body if (found := await site_texts.get_text(conn, kind)) else "")
                for kind in site_texts.KINDS}


@page(signed_in=True)
async def texts_form(ctx: PageContext) -> Response:
    require_admin(ctx)
    return render(ctx, "admin_texts.html", values=await _current(ctx), titles=TITLES,
                  saved=ctx.request.query_params.get("done") == "saved")


@page(signed_in=True)
async def texts_submit(ctx: PageContext) -> Response:
    require_admin(ctx)
    assert ctx.viewer is not None
    form = await read_form(ctx)
    values = {kind: str(form.get(kind, "")) for kind in site_texts.KINDS}
    try:
        async with transaction(ctx.deps.pool) as conn:
            for kind, body in values.items():
                await site_texts.upsert_text(conn, kind, body, by=ctx.viewer.id, now=ctx.now)
    except Invalid as error:
        return render(ctx, "admin_texts.html", status=422, values=values, titles=TITLES,
                      error=error.translated(ctx.gettext))
    return redirect(ctx, "/admin/texts?done=saved")


ROUTES = [
    Route("/privacy", _public("privacy_policy"), methods=["GET"]),
    Route("/voorwaarden", _public("terms_of_service"), methods=["GET"]),
    Route("/admin/texts", texts_form, methods=["GET"]),
    Route("/admin/texts", texts_submit, methods=["POST"]),
]
