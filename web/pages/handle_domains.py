"""The organisation admin's handle-domain page: `@anna@ede.nl` instead of `@anna@<node>`.

Owns: /orgs/{slug}/handle-domain (the domain, its state, the last check's lines, the nginx/Apache/IIS snippets),
/orgs/{slug}/handle-domain (POST: set it) and /orgs/{slug}/handle-domain/check (POST: run the self-test). Who may:
`Account.administers` (the organisation's own admins and instance admins), for reading too: the lines name the
organisation's web server set-up. Shows no posts. Never: SQL, or the self-test's logic
(server/handle_domains.py, federation/handle_domain_check.py).
"""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from federation.handle_domain_check import check_and_record, snippets
from server import handle_domains, organisations
from server.db.pool import connection, transaction
from server.errors import DomainError, Forbidden, NotFound
from server.organisations import Organisation
from web.context import PageContext, read_form, redirect, render
from web.handlers import page


async def _organisation(ctx: PageContext) -> Organisation:
    assert ctx.viewer is not None
    async with connection(ctx.deps.pool) as conn:
        found = await organisations.get_organisation_by_slug(conn, ctx.request.path_params["slug"])
    if found is not None and ctx.viewer.administers(found.id):
        return found
    if found is None:
        raise NotFound("There is no organisation with that name here.")
    raise Forbidden("Only the organisation's admins and instance admins may change its handle domain.")


async def _render(ctx: PageContext, org: Organisation, *, status: int = 200, error: str | None = None,
                  asked: str = "") -> Response:
    async with transaction(ctx.deps.pool) as conn:
        current = await handle_domains.get_with_federation(conn, org.id, ctx.now)
    node = ctx.deps.settings.domain
    return render(ctx, "handle_domains/page.html", status=status, organisation=org, current=current, error=error,
                  asked=asked or (current.domain if current else ""), node_domain=node,
                  snippets=snippets(current.domain, node) if current else None,
                  checked=ctx.request.query_params.get("checked") == "1")


@page(signed_in=True)
async def handle_domain_page(ctx: PageContext) -> Response:
    return await _render(ctx, await _organisation(ctx))


@page(signed_in=True)
async def set_domain(ctx: PageContext) -> Response:
    form = await read_form(ctx)
    org = await _organisation(ctx)
    assert ctx.viewer is not None
    asked = str(form.get("domain", ""))[:300]
    try:
        async with transaction(ctx.deps.pool) as conn:
            await handle_domains.set_handle_domain(conn, org, asked, node_domain=ctx.deps.settings.domain,
                                                   actor_id=ctx.viewer.id, now=ctx.now)
    except DomainError as problem:
        return await _render(ctx, org, status=problem.http_status, error=problem.translated(ctx.gettext),
                             asked=asked)
    return redirect(ctx, f"/orgs/{org.slug}/handle-domain")


@page(signed_in=True)
async def run_check(ctx: PageContext) -> Response:
    """The self-test (fetched outside any transaction, then recorded in one); its lines show on the page."""
    await read_form(ctx)
    org = await _organisation(ctx)
    assert ctx.viewer is not None
    try:
        await check_and_record(ctx.request.app.state.federation, org.id, actor_id=ctx.viewer.id)
    except DomainError as problem:
        return await _render(ctx, org, status=problem.http_status, error=problem.translated(ctx.gettext))
    return redirect(ctx, f"/orgs/{org.slug}/handle-domain?checked=1")


ROUTES = [
    Route("/orgs/{slug}/handle-domain", handle_domain_page, methods=["GET"]),
    Route("/orgs/{slug}/handle-domain", set_domain, methods=["POST"]),
    Route("/orgs/{slug}/handle-domain/check", run_check, methods=["POST"]),
]
