"""An organisation's logo (its own account's avatar) and house colour, set by its admins.

Owns: /orgs/{slug}/profile. Never: SQL (server/profiles.py stores both, on the organisation account's profile).
"""

from __future__ import annotations

from starlette.datastructures import UploadFile
from starlette.responses import Response
from starlette.routing import Route

from server import accounts, organisations, profiles
from server.accounts import Account
from server.db.pool import connection, transaction
from server.errors import DomainError, Forbidden, NotFound
from server.organisations import Organisation
from web.context import PageContext, read_form, render
from web.handlers import page


async def _organisation(ctx: PageContext) -> tuple[Organisation, Account]:
    assert ctx.viewer is not None
    async with connection(ctx.deps.pool) as conn:
        org = await organisations.get_organisation_by_slug(conn, ctx.request.path_params["slug"])
        org_account = await accounts.get_organisation_account(conn, org.id) if org else None
    if org is None or org_account is None:
        raise NotFound("There is no organisation with that name here.")
    if not ctx.viewer.administers(org.id):
        raise Forbidden("Only the organisation's admins may change its logo and house colour.")
    return org, org_account


async def _show(ctx: PageContext, org: Organisation, org_account: Account, values: dict[str, str] | None = None,
                status: int = 200, **extra: object) -> Response:
    async with connection(ctx.deps.pool) as conn:
        profile = await profiles.get_profile(conn, org_account.id)
    values = values or {"avatar_description": profile.avatar_description, "house_colour": profile.house_colour or ""}
    return render(ctx, "org_profile.html", status=status, organisation=org, profile=profile, values=values,
                  logo_url=profiles.image_url(ctx.deps.settings, profile, "avatar"), **extra)


@page(signed_in=True)
async def org_profile_form(ctx: PageContext) -> Response:
    org, org_account = await _organisation(ctx)
    return await _show(ctx, org, org_account)


@page(signed_in=True)
async def org_profile_save(ctx: PageContext) -> Response:
    form = await read_form(ctx)
    org, org_account = await _organisation(ctx)
    values = {name: str(form.get(name, "")) for name in ("avatar_description", "house_colour")}
    upload = form.get("logo")
    images = {"avatar": await upload.read()} if isinstance(upload, UploadFile) and (upload.filename or upload.size) \
        else {}
    try:
        async with transaction(ctx.deps.pool) as conn:
            await profiles.update_profile(conn, settings=ctx.deps.settings, account_id=org_account.id,
                                          now=ctx.now, images=images,
                                          descriptions={"avatar": values["avatar_description"]},
                                          house_colour=values["house_colour"])
    except DomainError as error:
        return await _show(ctx, org, org_account, values, error.http_status, error=error.translated(ctx.gettext))
    return await _show(ctx, org, org_account, saved=True)


ROUTES = [Route("/orgs/{slug}/profile", org_profile_form, methods=["GET"]),
          Route("/orgs/{slug}/profile", org_profile_save, methods=["POST"])]
