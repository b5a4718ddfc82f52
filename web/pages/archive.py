"""The archive page of an organisation: start an export of a period for the archive (a BagIt bag with MDTO), see
the exports with their progress, download a finished one.

Owns: /orgs/{slug}/archive (GET: form and list; POST: start), /orgs/{slug}/archive/status.json (progress, polled by
static/archive.js; without JavaScript the page has a refresh link), /orgs/{slug}/archive/{export_id}/download.
Who may: `archive_jobs.may_archive` (the organisation's admins, its archivists, instance admins). The export runs
in the worker's queue, never in the request. Never: SQL or the bag (server/archive_jobs.py, server/archive_export.py).
"""

from __future__ import annotations

from datetime import date

from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from server import archive_jobs, organisations
from server.db.pool import connection, transaction
from server.errors import DomainError, Forbidden, Invalid, NotFound
from server.organisations import Organisation
from web.context import PageContext, finish, read_form, redirect, render
from web.handlers import page, path_int

STATE_NAMES = {"pending": "Waiting or running", "done": "Finished", "failed": "Failed", "dead": "Failed"}


async def records_organisation(ctx: PageContext) -> Organisation:
    """The organisation of the path, for one of the people `may_archive` lets in (this page and the Woo page)."""
    assert ctx.viewer is not None
    async with connection(ctx.deps.pool) as conn:
        org = await organisations.get_organisation_by_slug(conn, ctx.request.path_params["slug"])
    if org is None:
        raise NotFound("There is no organisation with that name here.")
    if not archive_jobs.may_archive(ctx.viewer, org.id):
        raise Forbidden("Only the organisation's admins and archivists may use this page.")
    return org


def _day(raw: str, label: str) -> date:
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise Invalid("%(name)s must be a date like 2026-11-29.", name=label) from None


def _progress_text(ctx: PageContext, job: archive_jobs.ArchiveExport) -> str:
    if job.posts_total:
        return ctx.ngettext("%(done)d of %(n)d post", "%(done)d of %(n)d posts", job.posts_total,
                            done=job.posts_done)
    return ctx.gettext("Not started yet") if job.state == "pending" else f"{job.percent}%"


async def _render(ctx: PageContext, org: Organisation, *, status: int = 200, error: str | None = None,
                  values: dict[str, str] | None = None) -> Response:
    async with connection(ctx.deps.pool) as conn:
        exports = await archive_jobs.list_exports(conn, org.id)
    today = ctx.now.date()
    return render(ctx, "archive/exports.html", status=status, organisation=org, exports=exports, error=error,
                  values=values or {"from": date(today.year - 1, 1, 1).isoformat(),
                                    "to": date(today.year - 1, 12, 31).isoformat(), "voice": "official"},
                  state_name=lambda s: ctx.gettext(STATE_NAMES.get(s, s)),
                  progress_text=lambda job: _progress_text(ctx, job),
                  notice=ctx.gettext("The export has been queued.") if ctx.request.query_params.get("started")
                  else None)


@page(signed_in=True)
async def archive_page(ctx: PageContext) -> Response:
    return await _render(ctx, await records_organisation(ctx))


@page(signed_in=True)
async def start(ctx: PageContext) -> Response:
    assert ctx.viewer is not None
    org = await records_organisation(ctx)
    form = await read_form(ctx)
    values = {name: str(form.get(name, "")) for name in ("from", "to", "voice")}
    try:
        async with transaction(ctx.deps.pool) as conn:
            await archive_jobs.start_export(conn, org.id, start=_day(values["from"], ctx.gettext("From")),
                                            end=_day(values["to"], ctx.gettext("Until")),
                                            voice=values["voice"] or "official", actor_id=ctx.viewer.id, now=ctx.now)
    except DomainError as error:
        return await _render(ctx, org, status=error.http_status, error=error.translated(ctx.gettext), values=values)
    return redirect(ctx, f"/orgs/{org.slug}/archive?started=1")


@page(signed_in=True)
async def status(ctx: PageContext) -> Response:
    org = await records_organisation(ctx)
    async with connection(ctx.deps.pool) as conn:
        exports = await archive_jobs.list_exports(conn, org.id)
    return finish(JSONResponse({"exports": [{**e.to_json(), "progress_text": _progress_text(ctx, e)}
                                             for e in exports]}), ctx)


@page(signed_in=True)
async def download(ctx: PageContext) -> Response:
    assert ctx.viewer is not None
    org = await records_organisation(ctx)
    async with transaction(ctx.deps.pool) as conn:
        job = await archive_jobs.get_export(conn, org.id, path_int(ctx, "export_id"))
        path = await archive_jobs.open_download(conn, ctx.deps.settings, job, actor_id=ctx.viewer.id, now=ctx.now)
    return finish(FileResponse(path, media_type="application/zip", filename=path.name), ctx)


ROUTES = [
    Route("/orgs/{slug}/archive", archive_page, methods=["GET"]),
    Route("/orgs/{slug}/archive", start, methods=["POST"]),
    Route("/orgs/{slug}/archive/status.json", status, methods=["GET"]),
    Route("/orgs/{slug}/archive/{export_id}/download", download, methods=["GET"]),
]
