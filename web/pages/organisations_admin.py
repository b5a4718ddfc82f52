"""Organisations and their people on the web (issue 13): an instance admin creates an organisation, an organisation
admin invites officials, changes their roles and offboards a person who leaves.

Owns: /admin/organisations/new and /orgs/{slug}/people with its invite, role and offboarding forms. Never: SQL, or
deciding who may do what (server/organisations.py, server/invites.py, server/accounts.py and server/offboarding.py
check, write and audit; Account.administers is the one rule).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from server import accounts, badges, invites, offboarding, organisations
from server.db.pool import connection, transaction
from server.errors import DomainError, Forbidden, NotFound
from web.context import PageContext, read_form, redirect, render
from web.handlers import page, path_int

ROLE_NAMES = {"official": "Official", "reviewer": "Reviewer", "org_admin": "Organisation admin",
              "webcare": "Webcare member", "archivist": "Archivist"}
NOTICES = {"role": "The role has been changed.", "created": "The organisation has been created.",
           "offboarded": "The person has been offboarded."}


def _require_instance_admin(ctx: PageContext) -> None:
    if ctx.viewer is None or not ctx.viewer.is_admin:
        raise Forbidden("Only instance admins may see this page.")


def _render_new(ctx: PageContext, *, status: int = 200, error: str | None = None,
                values: dict[str, str] | None = None) -> Response:
    return render(ctx, "admin_organisation_new.html", status=status, error=error, kinds=organisations.KINDS,
                  values=values or {"kind": "gemeente"})


@page(signed_in=True)
async def new_organisation(ctx: PageContext) -> Response:
    _require_instance_admin(ctx)
    return _render_new(ctx)


@page(signed_in=True)
async def create_organisation(ctx: PageContext) -> Response:
    assert ctx.viewer is not None
    form = await read_form(ctx)
    _require_instance_admin(ctx)
    values = {name: str(form.get(name, "")).strip()[:300] for name in ("name", "slug", "kind", "website")}
    try:
        async with transaction(ctx.deps.pool) as conn:
            org, _ = await organisations.create_organisation(
                conn, name=values["name"], slug=values["slug"], kind=values["kind"], website=values["website"],
                language=ctx.lang, actor_id=ctx.viewer.id, now=ctx.now)
    except DomainError as error:
        return _render_new(ctx, status=error.http_status, error=error.translated(ctx.gettext), values=values)
    return redirect(ctx, f"/orgs/{org.slug}/people?done=created")


async def _administered(ctx: PageContext) -> organisations.Organisation:
    assert ctx.viewer is not None
    async with connection(ctx.deps.pool) as conn:
        org = await organisations.get_organisation_by_slug(conn, ctx.request.path_params["slug"])
    if org is None:
        raise NotFound("There is no organisation with that name here.")
    if not ctx.viewer.administers(org.id):
        raise Forbidden("Only the organisation's admins and instance admins may manage its people.")
    return org


async def _render_people(ctx: PageContext, org: organisations.Organisation, *, status: int = 200,
                         error: str | None = None, invite_link: str | None = None,
                         invite_role: str | None = None) -> Response:
    async with connection(ctx.deps.pool) as conn:
        members = await accounts.list_organisation_members(conn, org.id)
        current = await badges.list_current_for_accounts(conn, [m.id for m in members])
    notice = NOTICES.get(ctx.request.query_params.get("done", ""))
    return render(ctx, "org_people.html", status=status, organisation=org, members=members, badges=current,
                  roles=accounts.ORG_ROLES, role_names=ROLE_NAMES, error=error, invite_link=invite_link,
                  invite_role=invite_role, invite_days=ctx.deps.settings.invite_days,
                  notice=ctx.gettext(notice) if notice else None)


@page(signed_in=True)
async def people(ctx: PageContext) -> Response:
    return await _render_people(ctx, await _administered(ctx))


@page(signed_in=True)
async def invite(ctx: PageContext) -> Response:
    assert ctx.viewer is not None
    form = await read_form(ctx)
    org = await _administered(ctx)
    try:
        async with transaction(ctx.deps.pool) as conn:
            token = await invites.insert_invite(conn, organisation_id=org.id, org_role=str(form.get("role", ""))[:30],
                                                now=ctx.now, valid_for=timedelta(days=ctx.deps.settings.invite_days),
                                                created_by=ctx.viewer.id)
    except DomainError as error:
        return await _render_people(ctx, org, status=error.http_status, error=error.translated(ctx.gettext))
    role = accounts.parse_org_role(str(form.get("role", "")))
    return await _render_people(ctx, org, invite_link=f"{ctx.deps.settings.base_url}/invite/{token}",
                                invite_role=role)


async def _member(conn: Any, ctx: PageContext, org: organisations.Organisation) -> accounts.Account:
    member = await accounts.get_account(conn, path_int(ctx, "account_id"))
    if member is None or member.organisation_id != org.id or member.kind != "person":
        raise NotFound("That person is not a member of this organisation.")
    return member


@page(signed_in=True)
async def change_role(ctx: PageContext) -> Response:
    form = await read_form(ctx)
    org = await _administered(ctx)
    try:
        async with transaction(ctx.deps.pool) as conn:
            member = await _member(conn, ctx, org)
            await accounts.change_org_role(conn, member, str(form.get("role", ""))[:30], actor=ctx.viewer,
                                           now=ctx.now)
    except DomainError as error:
        return await _render_people(ctx, org, status=error.http_status, error=error.translated(ctx.gettext))
    return redirect(ctx, f"/orgs/{org.slug}/people?done=role")


async def _render_offboard(ctx: PageContext, org: organisations.Organisation, *, status: int = 200,
                           error: str | None = None, values: dict[str, str] | None = None) -> Response:
    async with connection(ctx.deps.pool) as conn:
        member = await _member(conn, ctx, org)
        badge = await badges.get_current_badge(conn, member.id)
    return render(ctx, "org_offboard.html", status=status, organisation=org, member=member, badge=badge,
                  role_names=ROLE_NAMES, error=error, values=values or {"account": offboarding.KEEP})


@page(signed_in=True)
async def offboard_page(ctx: PageContext) -> Response:
    return await _render_offboard(ctx, await _administered(ctx))


@page(signed_in=True)
async def offboard(ctx: PageContext) -> Response:
    form = await read_form(ctx)
    org = await _administered(ctx)
    values = {"account": str(form.get("account", ""))[:20], "reason": str(form.get("reason", ""))[:600]}
    try:
        async with transaction(ctx.deps.pool) as conn:
            member = await _member(conn, ctx, org)
            await offboarding.offboard(conn, member, account=values["account"], reason=values["reason"],
                                       actor=ctx.viewer, now=ctx.now)
    except DomainError as error:
        return await _render_offboard(ctx, org, status=error.http_status, error=error.translated(ctx.gettext),
                                      values=values)
    return redirect(ctx, f"/orgs/{org.slug}/people?done=offboarded")


ROUTES = [
    Route("/admin/organisations/new", new_organisation, methods=["GET"]),
    Route("/admin/organisations/new", create_organisation, methods=["POST"]),
    Route("/orgs/{slug}/people", people, methods=["GET"]),
    Route("/orgs/{slug}/people/invite", invite, methods=["POST"]),
    Route("/orgs/{slug}/people/{account_id}/role", change_role, methods=["POST"]),
    Route("/orgs/{slug}/people/{account_id}/offboard", offboard_page, methods=["GET"]),
    Route("/orgs/{slug}/people/{account_id}/offboard", offboard, methods=["POST"]),
]
