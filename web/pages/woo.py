"""The Woo page of an organisation: search its record for a Woo request, see every matching version (earlier
versions, deleted and held posts, received replies marked), and download the redacted export.

Owns: /orgs/{slug}/woo (search form and results), /orgs/{slug}/woo/export (the zip, built in the request into a
spooled file and streamed out), /orgs/{slug}/woo/settings (whether officials' names stay). Who may: the one rule
`archive_jobs.may_archive` (the organisation's admins, its archivists, instance admins); the settings only its
admins. Every search and every export is audited. Never: SQL, searching or redacting (server/woo.py,
server/woo_export.py).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from starlette.datastructures import FormData, QueryParams
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from server import accounts, woo, woo_export
from server.db.pool import connection, transaction
from server.errors import Forbidden, Invalid
from server.organisations import Organisation
from server.woo_redaction import plain_text
from web.context import PageContext, finish, read_form, redirect, render
from web.handlers import page
from web.pages.archive import records_organisation

CHUNK = 1 << 16


def _day(raw: str) -> date | None:
    if not raw.strip():
        return None
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise Invalid("A date looks like 2026-11-29.") from None


def _scope(org: Organisation, values: QueryParams | FormData) -> woo.Scope:
    return woo.Scope(org.id, voice=str(values.get("voice", "official")) or "official",
                     start=_day(str(values.get("from", ""))), end=_day(str(values.get("to", ""))))


@page(signed_in=True)
async def woo_page(ctx: PageContext) -> Response:
    assert ctx.viewer is not None
    org = await records_organisation(ctx)
    params = ctx.request.query_params
    form = {name: params.get(name, "") for name in ("q", "from", "to", "voice")}
    results: dict[str, Any] | None = None
    error = None
    async with connection(ctx.deps.pool) as conn:
        officials_public = await woo_export.get_officials_public(conn, org.id)
    if form["q"].strip():
        try:
            scope = _scope(org, params)
            async with transaction(ctx.deps.pool) as conn:
                hits, total = await woo.search(conn, scope, form["q"])
                await woo.record_search(conn, actor_id=ctx.viewer.id, organisation_id=org.id, scope=scope,
                                        query=woo.check_query(form["q"]), hits=total, via="web", now=ctx.now)
                people = await accounts.list_accounts_by_ids(conn, list({h.account_id for h in hits}))
            results = {"hits": [(h, people.get(h.account_id), plain_text(h.source_text, h.content_html))
                                for h in hits], "total": total}
        except Invalid as problem:
            error = problem.translated(ctx.gettext)
    return render(ctx, "woo/search.html", status=422 if error else 200, organisation=org, form=form,
                  results=results, error=error, officials_public=officials_public,
                  may_change_settings=ctx.viewer.administers(org.id))


async def _chunks(spool: Any) -> Any:
    try:
        spool.seek(0)
        while chunk := spool.read(CHUNK):
            yield chunk
    finally:
        spool.close()


@page(signed_in=True)
async def export(ctx: PageContext) -> Response:
    """The redacted zip of every hit: built before the first byte goes out, so a failure is a page, not a broken
    download; nothing is published."""
    assert ctx.viewer is not None
    org = await records_organisation(ctx)
    form = await read_form(ctx)
    scope = _scope(org, form)
    query = str(form.get("q", ""))
    spool = woo_export.spooled()
    handed_over = False
    try:
        async with transaction(ctx.deps.pool) as conn:
            summary = await woo_export.write_export(conn, org, scope, query, spool, settings=ctx.deps.settings,
                                                    now=ctx.now)
            await woo_export.record_export(conn, actor_id=ctx.viewer.id, organisation_id=org.id, scope=scope,
                                           query=woo.check_query(query), summary=summary, via="web", now=ctx.now)
        name = f"woo-{org.slug}-{ctx.now.astimezone(woo.ZONE):%Y%m%d-%H%M}.zip"
        response = StreamingResponse(_chunks(spool), media_type="application/zip",
                                     headers={"Content-Disposition": f'attachment; filename="{name}"'})
        handed_over = True  # the response's body closes the spool once sent
        return finish(response, ctx)
    finally:
        if not handed_over:
            spool.close()


@page(signed_in=True)
async def settings(ctx: PageContext) -> Response:
    assert ctx.viewer is not None
    org = await records_organisation(ctx)
    if not ctx.viewer.administers(org.id):
        raise Forbidden("Only the organisation's admins may change this.")
    form = await read_form(ctx)
    async with transaction(ctx.deps.pool) as conn:
        await woo_export.set_officials_public(conn, org.id, form.get("officials_public") == "yes",
                                              actor_id=ctx.viewer.id, now=ctx.now)
    return redirect(ctx, f"/orgs/{org.slug}/woo")


ROUTES = [
    Route("/orgs/{slug}/woo", woo_page, methods=["GET"]),
    Route("/orgs/{slug}/woo/export", export, methods=["POST"]),
    Route("/orgs/{slug}/woo/settings", settings, methods=["POST"]),
]
