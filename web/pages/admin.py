"""Pages for instance admins: the organisations of this node and the check of their websites.

Owns: /admin/organisations with its verify action, and the list of trusted badge issuers with its forms. Never:
SQL, or a step of an action: what a website proves (server/org_verification.py decides and records it, after
federation/websites.py fetched it before the transaction) and trusting a node (server/trust.py).
"""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from federation.websites import verify_website
from moderation import reports
from server import accounts, org_verification, organisations, trust
from server.db.pool import connection, transaction
from server.errors import DomainError, Forbidden, NotFound
from web.context import PageContext, read_form, redirect, render
from web.handlers import page


def _require_admin(ctx: PageContext) -> None:
    if ctx.viewer is None or not ctx.viewer.is_admin:
        raise Forbidden("Only instance admins may see this page.")


async def _render(ctx: PageContext, *, status: int = 200, error: str | None = None) -> Response:
    async with connection(ctx.deps.pool) as conn:
        orgs = await organisations.list_organisations(conn)
        verified = await org_verification.list_verifications(conn)
        trusted = await trust.list_trusted(conn)
        open_reports = await reports.count_reports(conn)
    done = ctx.request.query_params.get("verified", "")
    notice = ctx.gettext("The website of %(org)s vouches for its account here.", org=next(
        (o.name for o in orgs if o.slug == done), done)) if done else None
    return render(ctx, "admin_organisations.html", status=status, organisations=orgs, verified=verified,
                  error=error, notice=notice, trusted=trusted, open_reports=open_reports,
                  look_alikes=organisations.look_alikes(orgs))


def _trust_action(add: bool):  # type: ignore[no-untyped-def]
    @page(signed_in=True)
    async def handler(ctx: PageContext) -> Response:
        form = await read_form(ctx)
        _require_admin(ctx)
        raw = str(form.get("domain", ""))[:300]
        try:
            async with transaction(ctx.deps.pool) as conn:
                await (trust.add if add else trust.remove)(conn, raw, actor=ctx.viewer, now=ctx.now)
        except DomainError as error:
            return await _render(ctx, status=error.http_status, error=error.translated(ctx.gettext))
        return redirect(ctx, "/admin/organisations#trusted")
    handler.__name__ = "trust_add" if add else "trust_remove"
    return handler


@page(signed_in=True)
async def organisations_page(ctx: PageContext) -> Response:
    _require_admin(ctx)
    return await _render(ctx)


@page(signed_in=True)
async def verify(ctx: PageContext) -> Response:
    await read_form(ctx)
    _require_admin(ctx)
    slug = ctx.request.path_params["slug"]
    async with connection(ctx.deps.pool) as conn:
        org = await organisations.get_organisation_by_slug(conn, slug)
        if org is None:
            raise NotFound("There is no organisation with that name here.")
        org_account = await accounts.get_organisation_account(conn, org.id)
    settings = ctx.deps.settings
    try:
        org_verification.check_website(org.website)
        # Fetched before the transaction: a slow website must not hold a database connection.
        proof = await verify_website(ctx.request.app.state.federation.client, organisation=org,
                                     org_username=org_account.username if org_account else None,
                                     base_url=settings.base_url, domain=settings.domain)
        async with transaction(ctx.deps.pool) as conn:
            await org_verification.record_verification(conn, org, proof, actor=ctx.viewer, now=ctx.now)
    except DomainError as error:
        return await _render(ctx, status=error.http_status, error=error.translated(ctx.gettext))
    return redirect(ctx, f"/admin/organisations?verified={org.slug}")


ROUTES = [
    Route("/admin/organisations", organisations_page, methods=["GET"]),
    Route("/admin/organisations/{slug}/verify", verify, methods=["POST"]),
    Route("/admin/trust/add", _trust_action(True), methods=["POST"]),
    Route("/admin/trust/remove", _trust_action(False), methods=["POST"]),
]
