"""A person's security settings: password, two-factor sign-in, their sessions and apps; and an organisation's
requirement of two-factor sign-in for its members.

Owns: /settings/security and its actions, /orgs/{slug}/two-factor. Never: SQL; server/account_security.py and
server/two_factor.py do the steps and write the audit entries.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

import asyncpg
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server import account_security, oauth, organisations, sessions, two_factor
from server.db.pool import connection, transaction
from server.errors import DomainError, Invalid, NotFound, TooManyAttempts
from web.context import SESSION_COOKIE, PageContext, client_address, read_form, redirect, render
from web.handlers import page, path_int

T = TypeVar("T")


def _session_token(ctx: PageContext) -> str:
    return ctx.request.cookies.get(SESSION_COOKIE, "")


async def _security_page(ctx: PageContext, status: int = 200, **values: object) -> Response:
    assert ctx.viewer is not None
    async with connection(ctx.deps.pool) as conn:
        status_2fa = await two_factor.get_status(conn, ctx.viewer.id)
        required = await two_factor.is_required(conn, ctx.viewer, ctx.deps.settings.require_2fa_for)
        signed_in = await sessions.list_sessions(conn, ctx.viewer.id, ctx.now, _session_token(ctx))
        apps = await oauth.list_authorized_apps(conn, ctx.viewer.id)
        organisation = await organisations.get_organisation(conn, ctx.viewer.organisation_id) \
            if ctx.viewer.organisation_id and ctx.viewer.org_role == "org_admin" else None
    response = render(ctx, "security.html", status=status, two_factor=status_2fa, required=required,
                      sessions=signed_in, apps=apps, organisation=organisation, **values)
    if isinstance(values.get("refusal"), TooManyAttempts):
        response.headers["Retry-After"] = str(ctx.deps.settings.login_window_seconds)
    return response


async def _refused(ctx: PageContext, error: DomainError) -> Response:
    return await _security_page(ctx, status=error.http_status, error=error.translated(ctx.gettext), refusal=error)


async def _check_password(ctx: PageContext, password: str) -> None:
    assert ctx.viewer is not None
    settings = ctx.deps.settings
    async with connection(ctx.deps.pool) as conn:  # not in a transaction: a wrong password stays counted
        await account_security.check_current_password(
            conn, ctx.viewer, password[:1000], client_address=client_address(ctx.request), now=ctx.now,
            max_failures=settings.login_attempts, window=timedelta(seconds=settings.login_window_seconds))


@page(signed_in=True)
async def security_form(ctx: PageContext) -> Response:
    return await _security_page(ctx)


async def _password_step(ctx: PageContext, step: Callable[[asyncpg.Connection, FormData], Awaitable[T]],
                         done: Callable[[T], Awaitable[Response]]) -> Response:
    """A step that asks for the current password first: checked (and counted when wrong), then the step in one
    transaction; a refusal shows the security page again with the reason."""
    form = await read_form(ctx)
    try:
        await _check_password(ctx, str(form.get("current_password", "")))
        async with transaction(ctx.deps.pool) as conn:
            result = await step(conn, form)
    except DomainError as error:
        return await _refused(ctx, error)
    return await done(result)


@page(signed_in=True)
async def change_password(ctx: PageContext) -> Response:
    assert ctx.viewer is not None
    viewer = ctx.viewer

    async def step(conn: asyncpg.Connection, form: FormData) -> int:
        new = str(form.get("new_password", ""))[:1000]
        if new != str(form.get("new_password_confirm", "")):
            raise Invalid("The two passwords are not the same.")
        return await account_security.change_password(conn, viewer, new, keep_session=_session_token(ctx),
                                                      now=ctx.now)

    async def done(ended: int) -> Response:
        return await _security_page(ctx, notice=ctx.gettext(
            "Your password has been changed. Your other sessions have been signed out: %(n)s.", n=ended))

    return await _password_step(ctx, step, done)


def _own_action(step: Callable[[asyncpg.Connection, PageContext], Awaitable[object]],
                anchor: str) -> Callable[[Request], Awaitable[Response]]:
    """Ending a session, the other sessions, an app's access: one POST each, then back to the list."""
    @page(signed_in=True)
    async def handler(ctx: PageContext) -> Response:
        await read_form(ctx)
        async with transaction(ctx.deps.pool) as conn:
            await step(conn, ctx)
        return redirect(ctx, f"/settings/security#{anchor}")
    return handler


end_session = _own_action(lambda conn, ctx: account_security.end_session(
    conn, ctx.viewer, path_int(ctx, "session_id"), ctx.now), "sessions")
end_other_sessions = _own_action(lambda conn, ctx: account_security.end_other_sessions(
    conn, ctx.viewer, _session_token(ctx), ctx.now), "sessions")
revoke_app = _own_action(lambda conn, ctx: account_security.revoke_app(
    conn, ctx.viewer, path_int(ctx, "app_id"), ctx.now), "apps")


@page(signed_in=True)
async def new_recovery_codes(ctx: PageContext) -> Response:
    assert ctx.viewer is not None
    viewer = ctx.viewer

    async def step(conn: asyncpg.Connection, form: FormData) -> list[str]:
        return await two_factor.regenerate_recovery_codes(conn, ctx.deps.settings.secret_key, viewer, ctx.now)

    async def done(codes: list[str]) -> Response:
        return render(ctx, "recovery_codes.html", codes=codes, next_path="/settings/security", enabled=False)

    return await _password_step(ctx, step, done)


@page(signed_in=True)
async def disable_two_factor(ctx: PageContext) -> Response:
    assert ctx.viewer is not None
    viewer = ctx.viewer

    async def step(conn: asyncpg.Connection, form: FormData) -> None:
        await two_factor.disable(conn, viewer, node_rule=ctx.deps.settings.require_2fa_for, now=ctx.now,
                                 actor_id=viewer.id)

    async def done(_: None) -> Response:
        return await _security_page(ctx, notice=ctx.gettext("Two-factor sign-in is off."))

    return await _password_step(ctx, step, done)


# An organisation's requirement.

async def _organisation(ctx: PageContext) -> organisations.Organisation:
    assert ctx.viewer is not None
    async with connection(ctx.deps.pool) as conn:
        organisation = await organisations.get_organisation_by_slug(conn, ctx.request.path_params["slug"])
    if organisation is None:
        raise NotFound("That page does not exist.")
    two_factor.check_may_set_requirement(ctx.viewer, organisation.id)
    return organisation


@page(signed_in=True)
async def organisation_form(ctx: PageContext) -> Response:
    organisation = await _organisation(ctx)
    async with connection(ctx.deps.pool) as conn:
        required = await two_factor.exists_organisation_requirement(conn, organisation.id)
    return render(ctx, "org_two_factor.html", organisation=organisation, required=required,
                  saved=ctx.request.query_params.get("saved") == "1")


@page(signed_in=True)
async def organisation_submit(ctx: PageContext) -> Response:
    assert ctx.viewer is not None
    organisation = await _organisation(ctx)
    form = await read_form(ctx)
    async with transaction(ctx.deps.pool) as conn:
        await two_factor.set_organisation_requirement(conn, ctx.viewer, organisation.id, form.get("required") == "on",
                                                      ctx.now, keep_session=_session_token(ctx))
    return redirect(ctx, f"/orgs/{organisation.slug}/two-factor?saved=1")


ROUTES = [
    Route("/settings/security", security_form, methods=["GET"]),
    Route("/settings/security/password", change_password, methods=["POST"]),
    Route("/settings/security/sessions/others/end", end_other_sessions, methods=["POST"]),
    Route("/settings/security/sessions/{session_id}/end", end_session, methods=["POST"]),
    Route("/settings/security/apps/{app_id}/revoke", revoke_app, methods=["POST"]),
    Route("/settings/security/recovery-codes", new_recovery_codes, methods=["POST"]),
    Route("/settings/security/two-factor/disable", disable_two_factor, methods=["POST"]),
    Route("/orgs/{slug}/two-factor", organisation_form, methods=["GET"]),
    Route("/orgs/{slug}/two-factor", organisation_submit, methods=["POST"]),
]
