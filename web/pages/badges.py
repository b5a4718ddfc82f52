"""Badges on pages: the public verification page of a badge, and the organisation admin's badge page.

Owns: /badges/{id} (HTML, or JSON by Accept or at /badges/{id}.json), /orgs/{slug}/badges with its issue, change and
revoke forms, and /admin/badges (a signed-in manager's way in). Never: SQL, or deciding who may do what
(server/badges.py does).
"""

from __future__ import annotations

from datetime import datetime, timezone
from html import escape
from typing import Any

from starlette.datastructures import FormData
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from server import accounts, badges, handle_domains, org_verification, organisations, uris
from server.db.pool import connection, transaction
from server.errors import DomainError, Forbidden, NotFound
from web.context import PageContext, finish, read_form, redirect, render
from web.handlers import page, path_int

NOTICES = {"issued": "The badge has been issued.", "changed": "The badge has been changed.",
           "revoked": "The badge has been revoked.", "approved": "The badge has been approved."}


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z") if moment else None


def wants_json(ctx: PageContext) -> bool:
    """JSON when asked for JSON and not for HTML (browsers and Mastodon's link check ask for HTML)."""
    accept = ctx.request.headers.get("accept", "").lower()
    return ("application/json" in accept or "+json" in accept) and "text/html" not in accept


async def _badge_page_data(ctx: PageContext) -> dict[str, Any]:
    raw = str(ctx.request.path_params.get("badge_id", ""))
    if not raw.isdigit() or len(raw) > 19:
        raise NotFound("There is no badge with that number here.")
    async with connection(ctx.deps.pool) as conn:
        badge = await badges.get_badge(conn, int(raw))
        if badge is None:
            raise NotFound("There is no badge with that number here.")
        official = await accounts.get_account(conn, badge.account_id)
        org = await organisations.get_organisation(conn, badge.organisation_id)
        org_account = await accounts.get_organisation_account(conn, badge.organisation_id)
        verification = await org_verification.get_verification(conn, badge.organisation_id)
        live = await handle_domains.list_live_domains(conn, [badge.organisation_id])
    assert official is not None and org is not None
    # The handle on the organisation's own domain while the official is still its member (issue 17).
    handle_domain = live.get(badge.organisation_id) if official.organisation_id == badge.organisation_id else None
    return {"badge": badge, "official": official, "organisation": org, "org_account": org_account,
            "verification": verification, "badge_status": badge.status(badges.local_date(ctx.now)),
            "handle_domain": handle_domain}


def badge_json(ctx: PageContext, data: dict[str, Any]) -> dict[str, Any]:
    settings = ctx.deps.settings
    badge: badges.Badge = data["badge"]
    official: accounts.Account = data["official"]
    org: organisations.Organisation = data["organisation"]
    org_account: accounts.Account | None = data["org_account"]
    verification: org_verification.Verification | None = data["verification"]
    return {
        "id": str(badge.id),
        "url": badges.badge_url(settings.base_url, badge.id),
        "status": data["badge_status"],
        "valid": data["badge_status"] == badges.VALID,
        "official": {"username": official.username,
                     "acct": f"{official.username}@{data['handle_domain'] or settings.domain}",
                     "display_name": official.display_name, "url": f"{settings.base_url}/@{official.username}",
                     "actor": uris.actor(settings, official.username)},
        "organisation": {"slug": org.slug, "name": org.name, "kind": org.kind, "website": org.website or None,
                         "url": f"{settings.base_url}/orgs/{org.slug}",
                         "actor": uris.actor(settings, org_account.username) if org_account else None,
                         "website_verified_at": _iso(verification.verified_at) if verification else None,
                         "website_verification_method": verification.method if verification else None},
        "function": badge.function_title,
        "unit": badge.unit or None,
        "valid_from": badge.valid_from.isoformat(),
        "valid_until": badge.valid_until.isoformat() if badge.valid_until else None,
        "issued_at": _iso(badge.created_at),
        "updated_at": _iso(badge.updated_at),
        "revoked_at": _iso(badge.revoked_at),
        "revoked_reason": badge.revoked_reason,
        "checked_at": _iso(ctx.now),
    }


def _json(ctx: PageContext, body: dict[str, Any], status: int = 200) -> Response:
    response = finish(JSONResponse(body, status_code=status), ctx)
    # Public facts that other servers and scripts read; revocation must show at once, so never cached stale.
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Vary"] = "Accept"
    return response


@page()
async def badge_page(ctx: PageContext) -> Response:
    if wants_json(ctx):
        return await badge_page_json(ctx)
    data = await _badge_page_data(ctx)
    response = render(ctx, "badge.html", **data)
    response.headers["Vary"] = "Accept"
    return response


async def badge_page_json(ctx: PageContext) -> Response:
    try:
        data = await _badge_page_data(ctx)
    except DomainError as error:
        return _json(ctx, {"error": error.translated(ctx.gettext)}, error.http_status)
    return _json(ctx, badge_json(ctx, data))


badge_json_page = page()(badge_page_json)


async def _managed_organisation(ctx: PageContext) -> organisations.Organisation:
    assert ctx.viewer is not None
    async with connection(ctx.deps.pool) as conn:
        org = await organisations.get_organisation_by_slug(conn, ctx.request.path_params["slug"])
    if org is None:
        raise NotFound("There is no organisation with that name here.")
    if not badges.may_manage(ctx.viewer, org.id):
        raise Forbidden("Only the organisation's admins and instance admins may manage its badges.")
    return org


async def _render_manage(ctx: PageContext, org: organisations.Organisation, *, status: int = 200,
                         error: str | None = None, values: dict[str, str] | None = None) -> Response:
    async with connection(ctx.deps.pool) as conn:
        members = await accounts.list_organisation_members(conn, org.id)
        all_badges = await badges.list_organisation_badges(conn, org.id)
        people = await accounts.list_accounts_by_ids(conn, [b.account_id for b in all_badges])
    current = {b.account_id: b for b in all_badges if b.revoked_at is None}
    notice = NOTICES.get(ctx.request.query_params.get("done", ""))
    return render(ctx, "org_badges.html", status=status, organisation=org, members=members,
                  without_badge=[m for m in members if m.id not in current],
                  current=[b for b in all_badges if b.revoked_at is None],
                  revoked=[b for b in all_badges if b.revoked_at is not None], people=people,
                  today=badges.local_date(ctx.now), error=error, notice=ctx.gettext(notice) if notice else None,
                  values=values or {})


@page(signed_in=True)
async def manage(ctx: PageContext) -> Response:
    return await _render_manage(ctx, await _managed_organisation(ctx))


def _optional_date(form: FormData, name: str) -> Any:
    raw = str(form.get(name, "")).strip()
    return badges.parse_date(raw) if raw else None


@page(signed_in=True)
async def issue(ctx: PageContext) -> Response:
    assert ctx.viewer is not None
    form = await read_form(ctx)
    org = await _managed_organisation(ctx)
    values = {name: str(form.get(name, "")) for name in ("username", "function", "unit", "valid_from", "valid_until")}
    try:
        valid_from, valid_until = _optional_date(form, "valid_from"), _optional_date(form, "valid_until")
        async with transaction(ctx.deps.pool) as conn:
            official = await accounts.get_account_by_username(conn, values["username"]) if values["username"] else None
            if official is None:
                raise NotFound("Choose an official of the organisation.")
            await badges.issue(conn, actor=ctx.viewer, official=official, function_title=values["function"],
                               unit=values["unit"], valid_from=valid_from, valid_until=valid_until, now=ctx.now)
    except DomainError as error:
        return await _render_manage(ctx, org, status=error.http_status, error=error.translated(ctx.gettext),
                                    values=values)
    return redirect(ctx, f"/orgs/{org.slug}/badges?done=issued")


async def _badge_of(conn: Any, ctx: PageContext, org: organisations.Organisation) -> badges.Badge:
    badge = await badges.get_badge(conn, path_int(ctx, "badge_id"))
    if badge is None or badge.organisation_id != org.id:
        raise NotFound("There is no badge with that number here.")
    return badge


@page(signed_in=True)
async def change(ctx: PageContext) -> Response:
    assert ctx.viewer is not None
    form = await read_form(ctx)
    org = await _managed_organisation(ctx)
    try:
        valid_until = _optional_date(form, "valid_until")
        async with transaction(ctx.deps.pool) as conn:
            badge = await _badge_of(conn, ctx, org)
            await badges.change(conn, badge, actor=ctx.viewer, function_title=str(form.get("function", "")),
                                unit=str(form.get("unit", "")), valid_until=valid_until,
                                clear_valid_until=valid_until is None, now=ctx.now)
    except DomainError as error:
        return await _render_manage(ctx, org, status=error.http_status, error=error.translated(ctx.gettext))
    return redirect(ctx, f"/orgs/{org.slug}/badges?done=changed")


@page(signed_in=True)
async def revoke(ctx: PageContext) -> Response:
    assert ctx.viewer is not None
    form = await read_form(ctx)
    org = await _managed_organisation(ctx)
    try:
        async with transaction(ctx.deps.pool) as conn:
            badge = await _badge_of(conn, ctx, org)
            await badges.revoke(conn, badge, actor=ctx.viewer, reason=str(form.get("reason", "")), now=ctx.now)
    except DomainError as error:
        return await _render_manage(ctx, org, status=error.http_status, error=error.translated(ctx.gettext))
    return redirect(ctx, f"/orgs/{org.slug}/badges?done=revoked")


@page(signed_in=True)
async def approve(ctx: PageContext) -> Response:
    assert ctx.viewer is not None
    await read_form(ctx)
    org = await _managed_organisation(ctx)
    try:
        async with transaction(ctx.deps.pool) as conn:
            badge = await _badge_of(conn, ctx, org)
            await badges.approve(conn, badge, actor=ctx.viewer, now=ctx.now)
    except DomainError as error:
        return await _render_manage(ctx, org, status=error.http_status, error=error.translated(ctx.gettext))
    return redirect(ctx, f"/orgs/{org.slug}/badges?done=approved")


@page(signed_in=True)
async def admin_badges(ctx: PageContext) -> Response:
    """The menu's way in: an organisation admin to their own organisation's badges, an instance admin to the list."""
    assert ctx.viewer is not None
    if ctx.viewer.is_admin:
        return redirect(ctx, "/admin/organisations")
    if ctx.viewer.org_role == "org_admin" and ctx.viewer.organisation_id is not None:
        async with connection(ctx.deps.pool) as conn:
            org = await organisations.get_organisation(conn, ctx.viewer.organisation_id)
        if org is not None:
            return redirect(ctx, f"/orgs/{org.slug}/badges")
    raise Forbidden("Only the organisation's admins and instance admins may manage its badges.")


async def _valid_officials(ctx: PageContext) -> tuple[organisations.Organisation, list[dict[str, Any]]]:
    """The organisation's officials whose badges are valid today, for its own website to list."""
    async with connection(ctx.deps.pool) as conn:
        org = await organisations.get_organisation_by_slug(conn, ctx.request.path_params["slug"])
        if org is None:
            raise NotFound("There is no organisation with that name here.")
        today = badges.local_date(ctx.now)
        found = [b for b in await badges.list_organisation_badges(conn, org.id, include_revoked=False)
                 if b.is_valid(today)]
        people = await accounts.list_accounts_by_ids(conn, [b.account_id for b in found])
    base = ctx.deps.settings.base_url
    officials = [{"name": people[b.account_id].name, "handle": f"@{people[b.account_id].username}@{ctx.deps.settings.domain}",
                  "profile": f"{base}/@{people[b.account_id].username}", "function": b.function_title,
                  "unit": b.unit or None, "badge": badges.badge_url(base, b.id), "valid_from": b.valid_from.isoformat(),
                  "valid_until": b.valid_until.isoformat() if b.valid_until else None}
                 for b in found if b.account_id in people]
    return org, sorted(officials, key=lambda o: str(o["name"]).lower())


@page()
async def officials_json(ctx: PageContext) -> Response:
    """A feed for the organisation's website: who speaks for it here, with links to check each badge."""
    org, officials = await _valid_officials(ctx)
    return JSONResponse({"organisation": {"name": org.name, "slug": org.slug, "website": org.website or None},
                         "node": ctx.deps.settings.domain, "officials": officials},
                        headers={"Access-Control-Allow-Origin": "*", "Cache-Control": "max-age=300"})


@page()
async def officials_snippet(ctx: PageContext) -> Response:
    """An HTML fragment to paste into the organisation's own website. Its rel="me" links make Mastodon's green
    check on an official's "Ambtenaar" field mean: the organisation's own site vouches for this account."""
    org, officials = await _valid_officials(ctx)
    items = "\n".join(
        f'  <li><a rel="me" href="{escape(o["profile"])}">{escape(o["name"])}</a> '
        f'({escape(o["handle"])}), {escape(o["function"])}'
        + (f", {escape(o['unit'])}" if o["unit"] else "")
        + f' — <a href="{escape(o["badge"])}">badge</a></li>' for o in officials)
    html = (f'<ul class="ambtenaar-online-officials" aria-label="{escape(org.name)} op de Fediverse">\n'
            f"{items}\n</ul>\n")
    return Response(html, media_type="text/html; charset=utf-8", headers={"Cache-Control": "max-age=300"})


ROUTES = [
    Route("/orgs/{slug}/officials.json", officials_json, methods=["GET"]),
    Route("/orgs/{slug}/officials.html", officials_snippet, methods=["GET"]),
    Route("/badges/{badge_id}.json", badge_json_page, methods=["GET"]),
    Route("/badges/{badge_id}", badge_page, methods=["GET"]),
    Route("/orgs/{slug}/badges", manage, methods=["GET"]),
    Route("/orgs/{slug}/badges", issue, methods=["POST"]),
    Route("/orgs/{slug}/badges/{badge_id}/change", change, methods=["POST"]),
    Route("/orgs/{slug}/badges/{badge_id}/revoke", revoke, methods=["POST"]),
    Route("/orgs/{slug}/badges/{badge_id}/approve", approve, methods=["POST"]),
    Route("/admin/badges", admin_badges, methods=["GET"]),
]
