"""The OAuth2 authorization page: sign in (if needed), see what an app asks for, allow or deny.

Owns: GET and POST /oauth/authorize. Never: issues tokens (web/api/oauth.py exchanges the code).
"""

from __future__ import annotations

from urllib.parse import quote, urlencode, urlsplit, urlunsplit

from starlette.responses import Response
from starlette.routing import Route

from server import oauth, scopes
from server.db.pool import connection, transaction
from server.errors import Invalid
from web.context import PageContext, read_form, redirect, render
from web.handlers import page
from web.pages import two_factor as two_factor_pages

SCOPE_DESCRIPTIONS = {
    "read": "Read your posts, timelines, notifications and account details",
    "write": "Post, edit and delete on your behalf, like and boost, and change your profile",
    "follow": "Follow and unfollow accounts on your behalf",
    "push": "Receive push notifications",
    "profile": "See your name and profile, nothing else",
    "webcare": "Work your organisation's webcare conversations and answer citizens on its behalf",
}


async def _request(ctx: PageContext, source: dict[str, str]) -> tuple[oauth.App, str, tuple[str, ...]]:
    """The app, redirect URI and scopes of an authorization request, or a refusal saying what is wrong."""
    if source.get("response_type", "code") != "code":
        raise Invalid("response_type must be code.")
    async with connection(ctx.deps.pool) as conn:
        app = await oauth.get_app_by_client_id(conn, source.get("client_id", ""))
    if app is None:
        raise Invalid("This app is not registered here (unknown client_id).")
    redirect_uri = source.get("redirect_uri") or app.redirect_uris[0]
    if redirect_uri not in app.redirect_uris:
        raise Invalid("The redirect_uri is not one the app registered.")
    requested = scopes.parse_scopes(source.get("scope"), default="read")
    if not scopes.is_subset(requested, tuple(app.scopes.split())):
        raise Invalid("The app asks for more access than it registered.")
    oauth.check_code_challenge(source.get("code_challenge", ""), source.get("code_challenge_method", ""))
    return app, redirect_uri, requested


def _with_query(uri: str, values: dict[str, str]) -> str:
    parts = urlsplit(uri)
    query = "&".join(q for q in (parts.query, urlencode(values)) if q)
    return urlunsplit(parts._replace(query=query))


@page()
async def authorize_form(ctx: PageContext) -> Response:
    source = dict(ctx.request.query_params)
    app, redirect_uri, requested = await _request(ctx, source)
    if ctx.viewer is None:  # signing in asks for the second factor (web/pages/auth.py) before coming back here
        target = f"{ctx.request.url.path}?{ctx.request.url.query}"
        return redirect(ctx, "/login?next=" + quote(target, safe=""))
    if await two_factor_pages.setup_still_needed(ctx):
        return redirect(ctx, "/two-factor/setup")
    described = [ctx.gettext(SCOPE_DESCRIPTIONS.get(s.partition(":")[0], s)) + (f" ({s})" if ":" in s else "")
                 for s in requested]
    return render(ctx, "oauth_authorize.html", app=app, scopes=requested, described=list(dict.fromkeys(described)),
                  fields={k: source.get(k, "") for k in ("client_id", "redirect_uri", "scope", "state",
                                                          "code_challenge", "code_challenge_method")},
                  redirect_uri=redirect_uri, website_is_link=oauth.is_http_link(app.website))


@page(signed_in=True)
async def authorize_submit(ctx: PageContext) -> Response:
    assert ctx.viewer is not None
    form = await read_form(ctx)
    source = {k: str(v) for k, v in form.items()}
    app, redirect_uri, requested = await _request(ctx, source)
    if await two_factor_pages.setup_still_needed(ctx):
        return redirect(ctx, "/two-factor/setup")
    state = {"state": source["state"]} if source.get("state") else {}
    if source.get("decision") != "allow":
        if redirect_uri == oauth.OOB_REDIRECT:
            return redirect(ctx, "/")
        return redirect(ctx, _with_query(redirect_uri, {"error": "access_denied", **state}))
    async with transaction(ctx.deps.pool) as conn:
        code = await oauth.insert_code(conn, app=app, account_id=ctx.viewer.id, scopes=" ".join(requested),
                                       redirect_uri=redirect_uri, code_challenge=source.get("code_challenge") or None,
                                       now=ctx.now)
    if redirect_uri == oauth.OOB_REDIRECT:
        return render(ctx, "oauth_code.html", app=app, code=code)
    return redirect(ctx, _with_query(redirect_uri, {"code": code, **state}))


ROUTES = [
    Route("/oauth/authorize", authorize_form, methods=["GET"]),
    Route("/oauth/authorize", authorize_submit, methods=["POST"]),
]
