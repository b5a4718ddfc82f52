"""Signing in and out, accepting an invite, and switching language.

Owns: the pages /login, /logout, /invite/{token}, /lang/{code}. Never: SQL; it calls server/ functions.
"""

from __future__ import annotations

from datetime import timedelta

from starlette.responses import Response
from starlette.routing import Route

from server import account_security, invites, organisations, sessions, two_factor
from server.db.pool import connection, transaction
from server.errors import DomainError, Forbidden, NotFound, TooManyAttempts
from web.context import (LANG_COOKIE, SESSION_COOKIE, PageContext, client_address, read_form, redirect, render,
                         safe_next)
from web.handlers import page
from web.pages import two_factor as two_factor_pages
from server.i18n import LANGUAGES


@page()
async def login_form(ctx: PageContext) -> Response:
    if ctx.viewer:
        return redirect(ctx, safe_next(ctx.request.query_params.get("next")))
    return render(ctx, "login.html", next=safe_next(ctx.request.query_params.get("next")), username="")


@page()
async def login_submit(ctx: PageContext) -> Response:
    form = await read_form(ctx)
    username = str(form.get("username", ""))[:100]
    next_url = safe_next(str(form.get("next", "")))
    settings = ctx.deps.settings
    try:
        # Not in a transaction: a failed attempt must be counted even though we refuse.
        async with connection(ctx.deps.pool) as conn:
            account = await sessions.authenticate(
                conn, username=username, password=str(form.get("password", ""))[:1000],
                client_address=client_address(ctx.request), now=ctx.now, max_failures=settings.login_attempts,
                window=timedelta(seconds=settings.login_window_seconds), domain=settings.domain)
            # The password was right. With an authenticator app set up, or one required and not yet set up, the
            # sign-in waits for that step and is no session yet.
            if (await two_factor.get_status(conn, account.id)).enabled:
                stage = "second_factor"
            elif await two_factor.is_required(conn, account, settings.require_2fa_for):
                stage = "enrol"
            else:
                stage = ""
            if stage:
                challenge = await two_factor.insert_challenge(conn, account.id, stage, next_url, ctx.now)
            else:
                token = await two_factor_pages.start_session(ctx, conn, account.id)
    except DomainError as error:
        response = render(ctx, "login.html", status=error.http_status, error=error.translated(ctx.gettext),
                          next=next_url, username=username)
        if isinstance(error, TooManyAttempts):  # failures are counted over the window: it has passed by then
            response.headers["Retry-After"] = str(settings.login_window_seconds)
        return response
    if stage:
        target = "/login/two-factor" if stage == "second_factor" else "/two-factor/setup"
        return two_factor_pages.with_challenge(redirect(ctx, target), ctx, challenge)
    return two_factor_pages.with_session(redirect(ctx, next_url), ctx, token)


@page()
async def logout(ctx: PageContext) -> Response:
    await read_form(ctx)
    token = ctx.request.cookies.get(SESSION_COOKIE)
    if token:
        async with connection(ctx.deps.pool) as conn:
            await sessions.delete_session(conn, token)
    response = redirect(ctx, "/")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@page()
async def password_reset_form(ctx: PageContext) -> Response:
    async with connection(ctx.deps.pool) as conn:
        account = await account_security.get_reset_account(conn, ctx.request.path_params["token"], ctx.now)
    return render(ctx, "password_reset.html", account=account)


@page()
async def password_reset_submit(ctx: PageContext) -> Response:
    token = ctx.request.path_params["token"]
    form = await read_form(ctx)
    password = str(form.get("password", ""))[:1000]
    try:
        if password != str(form.get("password_confirm", "")):
            raise _Mismatch("The two passwords are not the same.")
        async with transaction(ctx.deps.pool) as conn:
            await account_security.reset_password(conn, token, password, ctx.now)
    except NotFound:
        raise
    except DomainError as error:
        async with connection(ctx.deps.pool) as conn:
            account = await account_security.get_reset_account(conn, token, ctx.now)
        return render(ctx, "password_reset.html", status=error.http_status, account=account,
                      error=error.translated(ctx.gettext))
    response = render(ctx, "login.html", next="/", username="", notice=ctx.gettext(
        "Your new password is set, and every session of your account has ended. Sign in with the new password."))
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _require_invites_open(ctx: PageContext) -> None:
    """With registrations closed, invite links stop working; admins still create accounts with the CLI."""
    if ctx.deps.settings.registrations == "closed":
        raise Forbidden("This node does not take new accounts at the moment.")


async def _invite_page(ctx: PageContext, token: str, status: int = 200, **values: object) -> Response:
    _require_invites_open(ctx)
    async with connection(ctx.deps.pool) as conn:
        invite = await invites.get_usable_invite(conn, token, ctx.now)
        organisation = await organisations.get_organisation(conn, invite.organisation_id)
    return render(ctx, "invite.html", status=status, organisation=organisation, role=invite.org_role, token=token,
                  **values)


@page()
async def invite_form(ctx: PageContext) -> Response:
    token = ctx.request.path_params["token"]
    return await _invite_page(ctx, token, username="", display_name="", email="")


@page()
async def invite_submit(ctx: PageContext) -> Response:
    token = ctx.request.path_params["token"]
    form = await read_form(ctx)
    _require_invites_open(ctx)
    values = {"username": str(form.get("username", "")).strip()[:100],
              "display_name": str(form.get("display_name", "")).strip()[:200],
              "email": str(form.get("email", "")).strip()[:300]}
    password = str(form.get("password", ""))
    try:
        if password != str(form.get("password_confirm", "")):
            raise _Mismatch("The two passwords are not the same.")
        async with transaction(ctx.deps.pool) as conn:
            account = await invites.accept_invite(conn, token, password=password, now=ctx.now, language=ctx.lang,
                                                  username=values["username"], display_name=values["display_name"],
                                                  email=values["email"] or None)
            # An organisation that requires two-factor sign-in has its new members set it up before anything else.
            required = await two_factor.is_required(conn, account, ctx.deps.settings.require_2fa_for)
            if required:
                challenge = await two_factor.insert_challenge(conn, account.id, "enrol", f"/@{account.username}",
                                                              ctx.now)
            else:
                session_token = await two_factor_pages.start_session(ctx, conn, account.id)
    except NotFound:
        raise
    except DomainError as error:
        return await _invite_page(ctx, token, status=error.http_status, error=error.translated(ctx.gettext), **values)
    if required:
        return two_factor_pages.with_challenge(redirect(ctx, "/two-factor/setup"), ctx, challenge)
    return two_factor_pages.with_session(redirect(ctx, f"/@{account.username}"), ctx, session_token)


class _Mismatch(DomainError):
    """The password and its confirmation differ."""


@page()
async def switch_language(ctx: PageContext) -> Response:
    code = ctx.request.path_params["code"]
    if code not in LANGUAGES:
        raise NotFound("That page does not exist.")
    ctx.extra_cookies[LANG_COOKIE] = code
    return redirect(ctx, safe_next(ctx.request.query_params.get("next")))


ROUTES = [
    Route("/login", login_form, methods=["GET"]),
    Route("/login", login_submit, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
    Route("/invite/{token}", invite_form, methods=["GET"]),
    Route("/invite/{token}", invite_submit, methods=["POST"]),
    Route("/lang/{code}", switch_language, methods=["GET"]),
    Route("/password/reset/{token}", password_reset_form, methods=["GET"]),
    Route("/password/reset/{token}", password_reset_submit, methods=["POST"]),
]
