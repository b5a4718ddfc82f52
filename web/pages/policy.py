"""The organisation admins' page for the policy checks: each check off or on (warn, hold, block) with its
parameters.

Owns: /orgs/{slug}/policy. Never: SQL (server/policy_settings.py) or running a check (moderation.policy).
"""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response
from starlette.routing import Route

import moderation.policy as policy
from server import badges, limits, organisations, policy_settings
from server.db.pool import connection, transaction
from server.errors import DomainError, Forbidden, Invalid, NotFound
from server.organisations import Organisation
from web.context import PageContext, read_form, redirect, render
from web.handlers import page

ACTION_ORDER = ("off", "warn", "hold", "block")


async def _organisation(ctx: PageContext) -> Organisation:
    assert ctx.viewer is not None
    async with connection(ctx.deps.pool) as conn:
        org = await organisations.get_organisation_by_slug(conn, ctx.request.path_params["slug"])
    if org is None:
        raise NotFound("There is no organisation with that name here.")
    if not badges.may_manage(ctx.viewer, org.id):
        raise Forbidden("Only the organisation's admins may change its policy checks.")
    return org


def _rows(chosen: dict[str, tuple[str, Any]]) -> list[dict[str, Any]]:
    return [{"id": check.id, "actions": [a for a in ACTION_ORDER if a == "off" or a in check.actions],
             "action": chosen.get(check.id, ("off", {}))[0],
             "options": json.dumps(chosen.get(check.id, ("off", {}))[1], ensure_ascii=False, indent=1)
             if chosen.get(check.id, ("off", {}))[1] else ""} for check in policy.CATALOGUE]


@page(signed_in=True)
async def policy_page(ctx: PageContext) -> Response:
    org = await _organisation(ctx)
    async with connection(ctx.deps.pool) as conn:
        chosen = {r.check_id: (r.action, r.options) for r in await policy_settings.list_settings(conn, org.id)}
    return render(ctx, "policy.html", organisation=org, rows=_rows(chosen), saved=ctx.request.query_params.get("saved"))


@page(signed_in=True)
async def policy_save(ctx: PageContext) -> Response:
    form = await read_form(ctx)
    org = await _organisation(ctx)
    chosen: dict[str, tuple[str, Any]] = {}
    try:
        for check in policy.CATALOGUE:
            action = str(form.get(f"action-{check.id}", "off"))
            raw = str(form.get(f"options-{check.id}", "")).strip()
            try:
                options = limits.loads(raw) if raw else {}
            except ValueError:
                raise Invalid("The parameters of %(check)s are not valid JSON.", check=check.id) from None
            if not isinstance(options, dict):
                raise Invalid("The parameters of %(check)s must be a JSON object.", check=check.id)
            chosen[check.id] = (action, options)
        async with transaction(ctx.deps.pool) as conn:
            await policy_settings.change_settings(conn, org.id, chosen, actor=ctx.viewer, now=ctx.now)
    except DomainError as error:
        return render(ctx, "policy.html", status=error.http_status, organisation=org, rows=_rows(chosen),
                      error=error.translated(ctx.gettext))
    return redirect(ctx, f"/orgs/{org.slug}/policy?saved=1")


ROUTES = [Route("/orgs/{slug}/policy", policy_page, methods=["GET"]),
          Route("/orgs/{slug}/policy", policy_save, methods=["POST"])]
