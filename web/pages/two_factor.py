"""Two-factor sign-in pages: the second step of signing in, and setting up an authenticator app (from the security
settings, or at sign-in when it is required and not set up yet).

Owns: /login/two-factor and /two-factor/setup, and the short-lived `ao_signin` cookie of a sign-in whose password
was right but that waits for its second factor or its enrolment. Such a visitor has no session: every other page
sees them signed out, so until the second step is done they can do nothing else.
Never: SQL; it calls server/two_factor.py and server/sessions.py.
"""

from __future__ import annotations

from datetime import timedelta

import asyncpg
from starlette.responses import Response
from starlette.routing import Route

from server import accounts, sessions, two_factor
from server.db.pool import connection, transaction
from server.errors import DomainError, TooManyAttempts
from web.context import SESSION_COOKIE, PageContext, client_address, read_form, redirect, render, set_cookie
from web.handlers import page

SIGN_IN_COOKIE = "ao_signin"


def _window(ctx: PageContext) -> timedelta:
    return timedelta(seconds=ctx.deps.settings.login_window_seconds)


async def start_session(ctx: PageContext, conn: asyncpg.Connection, account_id: int) -> str:
    return await sessions.insert_session(conn, account_id, ctx.now,
                                         user_agent=ctx.request.headers.get("user-agent", ""),
                                         client_address=client_address(ctx.request))


def with_session(response: Response, ctx: PageContext, token: str) -> Response:
    set_cookie(response, ctx, SESSION_COOKIE, token, int(sessions.SESSION_LIFETIME.total_seconds()))
    response.delete_cookie(SIGN_IN_COOKIE, path="/")
    return response


def with_challenge(response: Response, ctx: PageContext, token: str) -> Response:
    set_cookie(response, ctx, SIGN_IN_COOKIE, token, int(two_factor.CHALLENGE_LIFETIME.total_seconds()))
    return response


async def _challenge(ctx: PageContext, stage: str) -> two_factor.Challenge | None:
    token = ctx.request.cookies.get(SIGN_IN_COOKIE)
    if not token:
        return None
    async with connection(ctx.deps.pool) as conn:
        found = await two_factor.get_challenge(conn, token, ctx.now)
    return found if found and found.stage == stage else None


def _refused(ctx: PageContext, response: Response, error: DomainError) -> Response:
    if isinstance(error, TooManyAttempts):
        response.headers["Retry-After"] = str(ctx.deps.settings.login_window_seconds)
    return response


async def setup_still_needed(ctx: PageContext) -> bool:
    """Whether the signed-in person must use a second factor and has none (a session from before the node's rule
    or their organisation's was tightened): then they set it up before granting anything new."""
    if ctx.viewer is None:
        return False
    async with connection(ctx.deps.pool) as conn:
        return await two_factor.setup_needed(conn, ctx.viewer, ctx.deps.settings.require_2fa_for)


# The second step of signing in.

@page()
async def second_factor_form(ctx: PageContext) -> Response:
    if await _challenge(ctx, "second_factor") is None:
        return redirect(ctx, "/login")
    return render(ctx, "login_two_factor.html")


@page()
async def second_factor_submit(ctx: PageContext) -> Response:
    form = await read_form(ctx)
    challenge = await _challenge(ctx, "second_factor")
    if challenge is None:
        return redirect(ctx, "/login")
    settings = ctx.deps.settings
    token = ctx.request.cookies.get(SIGN_IN_COOKIE, "")
    try:
        async with connection(ctx.deps.pool) as conn:  # not in a transaction: a wrong code must stay counted
            account = await accounts.get_account(conn, challenge.account_id)
            assert account is not None
            await two_factor.verify_second_factor(
                conn, settings.secret_key, account, str(form.get("code", ""))[:40],
                client_address=client_address(ctx.request), now=ctx.now, max_failures=settings.login_attempts,
                window=_window(ctx))
    except DomainError as error:
        return _refused(ctx, render(ctx, "login_two_factor.html", status=error.http_status,
                                    error=error.translated(ctx.gettext)), error)
    async with transaction(ctx.deps.pool) as conn:
        if not await two_factor.delete_challenge(conn, token):
            return redirect(ctx, "/login")
        session = await start_session(ctx, conn, challenge.account_id)
    return with_session(redirect(ctx, challenge.next_path), ctx, session)


# Setting up an authenticator app.

async def _enrolling(ctx: PageContext) -> tuple[accounts.Account | None, two_factor.Challenge | None]:
    """Who sets up: the signed-in person, or someone whose sign-in waits for it."""
    if ctx.viewer is not None:
        return ctx.viewer, None
    challenge = await _challenge(ctx, "enrol")
    if challenge is None:
        return None, None
    async with connection(ctx.deps.pool) as conn:
        return await accounts.get_account(conn, challenge.account_id), challenge


def _grouped(secret: str) -> str:
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


async def _setup_page(ctx: PageContext, account: accounts.Account, challenge: two_factor.Challenge | None,
                      status: int = 200, **values: object) -> Response:
    async with transaction(ctx.deps.pool) as conn:
        secret = await two_factor.begin_enrolment(conn, ctx.deps.settings.secret_key, account, ctx.now)
    return render(ctx, "two_factor_setup.html", status=status, secret=_grouped(secret), required=challenge is not None,
                  uri=two_factor.provisioning_uri(secret, account, ctx.deps.settings.domain), **values)


@page()
async def setup_form(ctx: PageContext) -> Response:
    account, challenge = await _enrolling(ctx)
    if account is None:
        return redirect(ctx, "/login?next=/two-factor/setup")
    return await _setup_page(ctx, account, challenge)


@page()
async def setup_submit(ctx: PageContext) -> Response:
    form = await read_form(ctx)
    account, challenge = await _enrolling(ctx)
    if account is None:
        return redirect(ctx, "/login?next=/two-factor/setup")
    settings, address = ctx.deps.settings, client_address(ctx.request)
    code = str(form.get("code", ""))[:40]
    try:
        async with connection(ctx.deps.pool) as conn:
            await two_factor.check_throttle(conn, account.id, address, now=ctx.now,
                                            max_failures=settings.login_attempts, window=_window(ctx))
        try:
            async with transaction(ctx.deps.pool) as conn:
                codes = await two_factor.confirm_enrolment(conn, settings.secret_key, account, code, ctx.now)
                session = None
                if challenge is not None:
                    if not await two_factor.delete_challenge(conn, ctx.request.cookies.get(SIGN_IN_COOKIE, "")):
                        return redirect(ctx, "/login")
                    session = await start_session(ctx, conn, account.id)
        except DomainError:
            async with connection(ctx.deps.pool) as conn:
                await two_factor.record_failure(conn, account.id, address, ctx.now)
            raise
    except DomainError as error:
        return _refused(ctx, await _setup_page(ctx, account, challenge, status=error.http_status,
                                               error=error.translated(ctx.gettext)), error)
    next_path = challenge.next_path if challenge else "/settings/security"
    ctx.viewer = account  # signed in from this response on: the page shows it so
    response = render(ctx, "recovery_codes.html", codes=codes, next_path=next_path, enabled=True)
    return with_session(response, ctx, session) if session else response


ROUTES = [
    Route("/login/two-factor", second_factor_form, methods=["GET"]),
    Route("/login/two-factor", second_factor_submit, methods=["POST"]),
    Route("/two-factor/setup", setup_form, methods=["GET"]),
    Route("/two-factor/setup", setup_submit, methods=["POST"]),
]
